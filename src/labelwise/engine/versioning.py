"""A dataset version at the end of every engine round, so each round's labels can be named.

A round is where a user of the engine expects a snapshot: it is the unit the engine
decides on (continue or stop), its labels are what the model of that round was
trained on, and a run stopped for any reason ends at a round. One version per round
(``<run>/versions/round-NNNN``, see :mod:`labelwise.versions`) lets ``labelwise
version diff`` say which items a round added and which labels it changed and why;
the Parquet files are small beside the model the round also saves.

The version of round ``r`` is written *before* the round's state is committed
(``LATEST``): a run killed in between redoes round ``r`` on resume, which the
engine makes identical (randomness is drawn per round), and the version already
there is kept rather than written twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelwise.engine.ledger import Ledger

__all__ = ["AUDIT_REASON", "REASKED_REASON", "round_version_name", "write_round_version"]

#: Decision recorded for an item the audit sends back this round.
AUDIT_REASON = "model contradicts the consensus, re-asked"
#: Decision recorded for an item re-asked this round after last round's audit.
REASKED_REASON = "audit of round {r}: the model contradicted the consensus; one more answer bought"


def round_version_name(round_: int) -> str:
    """The version name of round ``round_`` (``round-0003``): sorts in round order."""
    return f"round-{round_:04d}"


def _names(codes: np.ndarray, names: Sequence[Any] | None) -> np.ndarray:
    if names is None:
        return np.asarray(codes).astype(str)
    arr = np.asarray([str(v) for v in names], dtype=object)
    return arr[np.asarray(codes, dtype=np.int64)]


def write_round_version(
    directory: Path,
    round_: int,
    labels: pd.DataFrame,
    ledger: Ledger,
    *,
    audit: Sequence[int],
    reasked: Sequence[int],
    aggregation: Mapping[str, Any],
    decision: str,
    selected_by: str = "",
    item_ids: Sequence[Any] | None = None,
    class_names: Sequence[Any] | None = None,
) -> Path:
    """Write round ``round_``'s version under ``directory / "versions"`` unless it exists.

    Parameters
    ----------
    directory : Path
        The engine's run folder.
    labels : DataFrame
        The round's consensus: ``item`` (pool row), ``label`` (class code), ``confidence``.
    ledger : Ledger
        Every answer bought so far: stored as the version's annotations.
    audit : sequence of int
        Pool rows the audit sends back after this round.
    reasked : sequence of int
        Pool rows re-asked in this round because last round's audit sent them back.
    aggregation : mapping
        ``{"method": ..., "params": {...}}`` as recorded in the manifest.
    decision : str
        The engine's decision after the round (in the version's message when it stops).
    selected_by : str
        How the round chose its new items (recorded as their reason: ``added:
        selected in round 3 by margin``).
    item_ids, class_names : sequences, optional
        Names of the pool rows and the class codes (default: the codes as text).

    Returns
    -------
    Path
        The version's folder (the one already there when the round was versioned).
    """
    from labelwise.versions import create_version

    root = directory / "versions"
    name = round_version_name(round_)
    if (root / name / "manifest.json").is_file():
        return root / name
    rows = labels["item"].to_numpy(dtype=np.int64)
    items = pd.DataFrame(
        {
            "item": _names(rows, item_ids),
            "label": _names(labels["label"].to_numpy(dtype=np.int64), class_names),
            "confidence": labels["confidence"].to_numpy(dtype=np.float64),
        }
    )
    led = ledger.to_frame()
    answers = pd.DataFrame(
        {
            "item": _names(led["item"].to_numpy(), item_ids),
            "worker": led["worker"].astype(str).to_numpy(),
            "label": _names(led["label"].to_numpy(), class_names),
            "round": led["round"].to_numpy(),
            "cost": led["cost"].to_numpy(),
        }
    )
    labeled = set(rows.tolist())
    first = led.groupby("item")["round"].min()
    how = f" by {selected_by}" if selected_by else ""
    dec = [(int(i), "added", f"selected in round {round_}{how}")
           for i in first.index[first.to_numpy() == round_]]  # fmt: skip
    dec += [(i, "re-asked", REASKED_REASON.format(r=round_ - 1)) for i in reasked if i in labeled]
    dec += [(i, "audit", AUDIT_REASON) for i in audit if i in labeled]
    decisions = pd.DataFrame(dec, columns=["item", "action", "reason"])
    decisions["item"] = _names(decisions["item"].to_numpy(dtype=np.int64), item_ids)
    message = f"engine round {round_}"
    if decision != "continue":
        message += f" ({decision})"
    prev = round_version_name(round_ - 1)
    parent = prev if (root / prev / "manifest.json").is_file() else None
    version = create_version(
        root,
        items,
        annotations=answers,
        aggregation=dict(aggregation),
        decisions=decisions,
        name=name,
        message=message,
        parent=parent,
    )
    return version.path
