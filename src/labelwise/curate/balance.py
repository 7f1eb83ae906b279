"""Class balance: how many items each class has, and which classes are rare."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from labelwise.errors import InputError

__all__ = ["class_balance"]


def class_balance(labels: ArrayLike, classes: Any = None) -> pd.DataFrame:
    """Per-class counts, shares and imbalance, largest class first.

    Columns: ``class``, ``count``, ``share``, ``ratio_to_largest`` and ``rare``
    (share below half of the uniform share ``1/K``). ``classes`` lists classes
    expected even with no item (they get count 0).
    """
    y = pd.Series(np.asarray(labels, dtype=object))
    if y.isna().any():
        raise InputError(f"labels row {int(np.flatnonzero(y.isna().to_numpy())[0])} is missing.")
    counts = y.value_counts()
    if classes is not None:
        counts = counts.reindex(list(classes), fill_value=0)
    total = max(int(counts.sum()), 1)
    k = max(len(counts), 1)
    frame = pd.DataFrame(
        {
            "class": counts.index.to_numpy(),
            "count": counts.to_numpy().astype(np.int64),
        }
    )
    frame["share"] = frame["count"] / total
    frame["ratio_to_largest"] = frame["count"] / max(int(frame["count"].max()), 1)
    frame["rare"] = frame["share"] < 0.5 / k
    return frame.sort_values("count", ascending=False, kind="stable").reset_index(drop=True)
