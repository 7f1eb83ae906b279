"""Outliers: items far from their nearest neighbours in feature or embedding space.

The score is the mean distance to the ``k`` nearest other items. The flag uses a
robust rule on the log of the score (kNN distances are skewed): an item is an
outlier when ``log(score)`` lies more than ``z`` robust standard deviations above
the median (``1.4826 * MAD``; Iglewicz and Hoaglin's 3.5 by default). It needs no
guess of how many outliers there are.

Example
-------
>>> import numpy as np
>>> from labelwise.curate import find_outliers
>>> X = np.random.default_rng(0).normal(size=(200, 5))
>>> X[7] += 12
>>> find_outliers(X, metric="l2").ranking[:1].tolist()
[7]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise._validation import check_number
from labelwise.curate._knn import Neighbors, nearest_neighbors

__all__ = ["Outliers", "find_outliers", "outlier_flags"]


@dataclass(frozen=True)
class Outliers:
    """Outlier scores and flags.

    Attributes
    ----------
    score : ndarray (n,)
        Mean distance to the ``k`` nearest other items; higher = more isolated.
    is_outlier : ndarray of bool (n,)
    ranking : ndarray of int
        The flagged items, most isolated first.
    threshold : float
        The score above which an item is flagged.
    """

    score: NDArray[np.float64]
    is_outlier: NDArray[np.bool_]
    ranking: NDArray[np.int64]
    threshold: float


def outlier_flags(score: ArrayLike, *, z: float = 3.5) -> tuple[NDArray[np.bool_], float]:
    """Flag scores whose log is more than ``z`` robust SDs above the median.

    Returns ``(flags, threshold on the score)``.
    """
    check_number(z, "z", "outlier_flags", low=0, low_open=True)
    s = np.asarray(score, dtype=np.float64)
    logs = np.log(np.maximum(s, 1e-12))
    med = float(np.median(logs))
    mad = float(np.median(np.abs(logs - med))) * 1.4826
    if mad == 0:
        mad = float(np.std(logs)) or 1.0
    threshold = float(np.exp(med + z * mad))
    return s > threshold, threshold


def find_outliers(
    X: ArrayLike | None = None,
    *,
    k: int = 10,
    metric: Literal["cosine", "l2"] = "cosine",
    z: float = 3.5,
    neighbors: Neighbors | None = None,
) -> Outliers:
    """Score and flag items that are far from the rest.

    Parameters
    ----------
    X : array (n, d), optional
        Features or embeddings (NaN is an error naming the row). Not needed when
        ``neighbors`` is given.
    k : int
        Neighbours averaged.
    metric : {"cosine", "l2"}
    z : float
        Robust z-score of ``log(score)`` above which an item is flagged.
    neighbors : Neighbors, optional
        A precomputed :func:`~labelwise.curate._knn.nearest_neighbors` pass (shared
        with the duplicate search); its first ``k`` columns are used.

    Returns
    -------
    Outliers
    """
    if neighbors is None:
        if X is None:
            raise TypeError("find_outliers needs X or neighbors.")
        neighbors = nearest_neighbors(X, k, metric=metric)
    dist = neighbors.distance[:, :k].astype(np.float64)
    score = dist.mean(axis=1) if dist.shape[1] else np.zeros(dist.shape[0])
    flags, threshold = outlier_flags(score, z=z)
    idx = np.flatnonzero(flags)
    ranking = idx[np.argsort(-score[idx], kind="stable")].astype(np.int64)
    return Outliers(score=score, is_outlier=flags, ranking=ranking, threshold=threshold)
