"""The purchase journal: every answer written to disk the moment it is bought.

The per-round state (:mod:`labelwise.engine.store`) is saved when a round is
complete; answers bought during a round that is then killed would be lost with it
and bought again on resume. With real people (the labeling service) that is money
paid twice. The journal closes that gap: each batch of answers the oracle returns
is appended to ``DIR/journal.csv`` and ``fsync``-ed before the engine uses it, so a
resumed run finds the answers of its interrupted round already paid for and reuses
them instead of asking again.

One line per answer: ``round, wave, item, worker, label, cost`` (``wave`` numbers the
requests inside a round). A line cut short by a kill (no newline yet) is ignored:
the journal holds whole answers only.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from labelwise.engine.oracles import OracleAnswers
from labelwise.errors import InputError

__all__ = ["JOURNAL_COLUMNS", "Journal", "empty_journal", "read_journal"]

#: Columns of ``journal.csv``, in order.
JOURNAL_COLUMNS = ("round", "wave", "item", "worker", "label", "cost")


class Journal:
    """Append-only, durable record of bought answers (``DIR/journal.csv``).

    Parameters
    ----------
    path : Path
        The file; created with its header when missing or empty.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        if not self.path.exists() or self.path.stat().st_size == 0:
            self._write(",".join(JOURNAL_COLUMNS) + "\n")

    def append(self, round_: int, wave: int, answers: OracleAnswers) -> None:
        """Write one request's answers and force them to disk before returning."""
        if len(answers) == 0:
            return
        lines = [
            f"{round_},{wave},{i},{w},{y},{c!r}\n"
            for i, w, y, c in zip(
                answers.items.tolist(), answers.workers.tolist(), answers.labels.tolist(),
                answers.costs.astype(float).tolist(), strict=True,
            )
        ]  # fmt: skip
        self._write("".join(lines))

    def _write(self, text: str) -> None:
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())


def empty_journal() -> pd.DataFrame:
    """A journal frame without answers (the columns, typed)."""
    return pd.DataFrame({c: np.zeros(0, dtype=np.float64 if c == "cost" else np.int64)
                         for c in JOURNAL_COLUMNS})  # fmt: skip


def read_journal(path: Path) -> pd.DataFrame:
    """The whole answers in a journal (empty frame when there is no file).

    Raises :class:`~labelwise.errors.InputError` naming the line when a complete
    line is not an answer (the file was edited or belongs to something else).
    """
    empty = empty_journal()
    path = Path(path)
    if not path.exists():
        return empty
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")[:-1]  # the part after the last newline was cut by a kill
    if not lines:
        return empty
    if lines[0] != ",".join(JOURNAL_COLUMNS):
        raise InputError(f"{str(path)!r} is not an engine journal (header {lines[0]!r}).")
    rows = []
    for n, line in enumerate(lines[1:], start=2):
        parts = line.split(",")
        try:
            if len(parts) != len(JOURNAL_COLUMNS):
                raise ValueError
            rows.append([int(p) for p in parts[:5]] + [float(parts[5])])
        except ValueError:
            raise InputError(
                f"{str(path)!r} line {n} is not an answer (round, wave, item, worker, "
                f"label, cost): {line!r}."
            ) from None
    if not rows:
        return empty
    frame = pd.DataFrame(rows, columns=list(JOURNAL_COLUMNS))
    return frame.astype({c: np.int64 for c in JOURNAL_COLUMNS[:5]} | {"cost": np.float64})
