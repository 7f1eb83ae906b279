"""The ledger: every answer the engine bought, with its cost, round and annotator.

From it the money spent, the answers and items bought, and (with the per-round
history the engine keeps) the accuracy reached are known at every point. It is
the engine's source of truth: a resumed run rebuilds its crowd state from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from labelwise.engine.oracles import OracleAnswers

__all__ = ["LEDGER_COLUMNS", "Ledger"]

#: Columns of the ledger table, in order.
LEDGER_COLUMNS = ("round", "item", "worker", "label", "cost")


@dataclass
class Ledger:
    """An append-only record of answers (one row each).

    Attributes
    ----------
    round, item, worker, label : int arrays
    cost : float array
    """

    round: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    item: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    worker: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    label: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    cost: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0, dtype=np.float64))

    def __len__(self) -> int:
        return int(self.item.shape[0])

    def add(self, round_: int, answers: OracleAnswers) -> None:
        """Append one batch of answers bought in round ``round_``."""
        n = len(answers)
        self.round = np.concatenate([self.round, np.full(n, round_, dtype=np.int64)])
        self.item = np.concatenate([self.item, answers.items.astype(np.int64)])
        self.worker = np.concatenate([self.worker, answers.workers.astype(np.int64)])
        self.label = np.concatenate([self.label, answers.labels.astype(np.int64)])
        self.cost = np.concatenate([self.cost, answers.costs.astype(np.float64)])

    @property
    def spent(self) -> float:
        """Money spent so far."""
        return float(self.cost.sum())

    @property
    def n_items(self) -> int:
        """Distinct items with at least one answer."""
        return int(np.unique(self.item).size)

    def answers_per_item(self, n_items: int) -> NDArray[np.int64]:
        """Answers bought per pool row, shape (n_items,)."""
        return np.bincount(self.item, minlength=n_items).astype(np.int64)

    def truncate(self, last_round: int) -> Ledger:
        """The ledger up to and including round ``last_round``."""
        keep = self.round <= last_round
        return Ledger(
            self.round[keep], self.item[keep], self.worker[keep], self.label[keep], self.cost[keep]
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per answer: round, item, worker, label, cost (codes)."""
        return pd.DataFrame({c: getattr(self, c) for c in LEDGER_COLUMNS})

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Ledger:
        """Inverse of :meth:`to_frame`."""
        return cls(*(frame[c].to_numpy(dtype=np.float64 if c == "cost" else np.int64)
                      for c in LEDGER_COLUMNS))  # fmt: skip

    def summary(self) -> pd.DataFrame:
        """Per round: answers, new items, money spent and cumulative money."""
        frame = self.to_frame()
        if frame.empty:
            return pd.DataFrame(columns=["round", "answers", "new_items", "money", "total_money"])
        first = frame.drop_duplicates("item")
        out = frame.groupby("round").agg(answers=("item", "size"), money=("cost", "sum"))
        out["new_items"] = first.groupby("round").size().reindex(out.index, fill_value=0)
        out["total_money"] = out["money"].cumsum()
        return out.reset_index()[["round", "answers", "new_items", "money", "total_money"]]
