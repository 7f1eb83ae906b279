"""The engine's run directory: the state after every complete round, saved atomically.

Layout::

    DIR/config.json        what was asked (engine settings, and the CLI's inputs)
    DIR/LATEST             name of the newest complete round's folder
    DIR/journal.csv        every answer as it was bought (:mod:`labelwise.engine.journal`)
    DIR/rounds/NNNN/       state.json, ledger.csv, proba.npy of that round
    DIR/ledger.csv         the ledger (a copy of the newest round's)
    DIR/labels.csv         the aggregated labels (item, label, confidence, answers)
    DIR/history.csv        one row per round: money, answers, items, accuracy, forecast
    DIR/model.pkl          the trained model

A round is written to a staging folder, renamed into ``rounds/`` and only then
named in ``LATEST`` (``os.replace``, atomic on POSIX): a run killed at any point
resumes from the last round whose files are all complete; the answers its
interrupted round had bought are in the journal and are reused, so nothing is
bought twice and nothing lost.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelwise.engine.ledger import Ledger
from labelwise.errors import InputError

__all__ = ["atomic_write", "latest_round", "load_round", "save_round"]


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace``."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def save_round(
    directory: Path,
    round_: int,
    state: dict[str, Any],
    ledger: Ledger,
    proba: np.ndarray | None,
    *,
    labels: pd.DataFrame,
    history: pd.DataFrame,
    model: Any,
) -> None:
    """Save round ``round_`` atomically, then refresh the top-level copies."""
    rounds = directory / "rounds"
    rounds.mkdir(parents=True, exist_ok=True)
    name = f"{round_:04d}"
    staging = directory / f".staging-{name}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    (staging / "state.json").write_text(json.dumps(state, indent=1))
    ledger.to_frame().to_csv(staging / "ledger.csv", index=False)
    if proba is not None:
        np.save(staging / "proba.npy", proba)
    for f in staging.iterdir():
        with open(f, "rb") as fh:
            os.fsync(fh.fileno())
    final = rounds / name
    if final.exists():
        shutil.rmtree(final)
    os.replace(staging, final)
    atomic_write(directory / "LATEST", name.encode())
    # outputs for people: each replaced atomically, derived from the saved round
    atomic_write(directory / "ledger.csv", ledger.to_frame().to_csv(index=False).encode())
    atomic_write(directory / "labels.csv", labels.to_csv(index=False).encode())
    atomic_write(directory / "history.csv", history.to_csv(index=False).encode())
    atomic_write(directory / "model.pkl", pickle.dumps(model))
    for old in rounds.iterdir():  # keep the newest two rounds
        if old.name < f"{round_ - 1:04d}":
            shutil.rmtree(old, ignore_errors=True)


def latest_round(directory: Path) -> int | None:
    """The newest complete round saved in ``directory``, or None."""
    p = directory / "LATEST"
    if not p.exists():
        return None
    return int(p.read_text().strip())


def load_round(directory: Path) -> tuple[int, dict[str, Any], Ledger, np.ndarray | None]:
    """(round, state, ledger, model probabilities) of the newest complete round."""
    r = latest_round(directory)
    if r is None:
        raise InputError(
            f"{str(directory)!r} holds no complete engine round (no LATEST file); "
            "start it with `labelwise engine run`."
        )
    folder = directory / "rounds" / f"{r:04d}"
    state = json.loads((folder / "state.json").read_text())
    ledger = Ledger.from_frame(pd.read_csv(folder / "ledger.csv"))
    proba = np.load(folder / "proba.npy") if (folder / "proba.npy").exists() else None
    return r, state, ledger, proba
