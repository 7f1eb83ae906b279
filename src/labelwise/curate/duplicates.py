"""Exact and near duplicates, and train/test leakage.

- Exact duplicates: rows with identical bytes (a hash of the content), grouped.
- Near duplicates: pairs whose cosine similarity is at least ``threshold`` among
  each item's ``k`` nearest neighbours, grouped into sets by connected components
  (a chain a~b~c is one set).
- Leakage: test items with a train item at similarity ``threshold`` or more.

Example
-------
>>> import numpy as np
>>> from labelwise.curate import find_near_duplicates
>>> X = np.random.default_rng(0).normal(size=(50, 8))
>>> X[10] = X[3] * 2.0
>>> find_near_duplicates(X).pairs.tolist()
[[3, 10]]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise._validation import check_features, check_number
from labelwise.curate._knn import Neighbors, nearest_neighbors
from labelwise.errors import InputError
from labelwise.index import NeighborIndex

__all__ = ["Duplicates", "Leakage", "exact_duplicates", "find_leakage", "find_near_duplicates"]

#: Default cosine similarity at or above which two items count as near duplicates.
DEFAULT_THRESHOLD = 0.98


@dataclass(frozen=True)
class Duplicates:
    """Duplicate pairs and the sets they form.

    Attributes
    ----------
    pairs : ndarray of int (m, 2)
        ``i < j`` pairs, most similar first.
    similarity : ndarray (m,)
        Cosine similarity of each pair (1 for exact duplicates).
    group : ndarray of int (n,)
        Set id of each item, ``-1`` for items without a duplicate.
    n_groups : int
    """

    pairs: NDArray[np.int64]
    similarity: NDArray[np.float64]
    group: NDArray[np.int64]
    n_groups: int

    @property
    def is_duplicate(self) -> NDArray[np.bool_]:
        """Items in some duplicate set."""
        return self.group >= 0

    @property
    def redundant(self) -> NDArray[np.bool_]:
        """Items that could be dropped: every member of a set but its first."""
        out = self.group >= 0
        if self.n_groups:
            first = np.full(self.n_groups, self.group.shape[0])
            idx = np.flatnonzero(out)
            np.minimum.at(first, self.group[idx], idx)
            out[first] = False
        return out


def _groups(pairs: NDArray[np.int64], n: int) -> tuple[NDArray[np.int64], int]:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    group = np.full(n, -1, dtype=np.int64)
    if pairs.shape[0] == 0:
        return group, 0
    nodes, inv = np.unique(pairs.ravel(), return_inverse=True)
    m = nodes.shape[0]
    e = inv.reshape(-1, 2)
    g = coo_matrix((np.ones(e.shape[0]), (e[:, 0], e[:, 1])), shape=(m, m))
    n_comp, lab = connected_components(g, directed=False)
    group[nodes] = lab
    return group, int(n_comp)


def _row_hash(data: NDArray[np.float64]) -> NDArray[np.uint64]:
    """A 64-bit hash of each row's bytes: a multiply-add over its words (wrapping)."""
    words = data.view(np.uint64)
    mult = np.random.default_rng(0x1AB).integers(1, 2**63, size=words.shape[1], dtype=np.uint64)
    mult |= np.uint64(1)  # odd multipliers
    h = np.zeros(words.shape[0], dtype=np.uint64)
    for c in range(words.shape[1]):  # over columns (d), not rows; numpy wraps mod 2**64
        h = h * np.uint64(31) + words[:, c] * mult[c]
    return h


def exact_duplicates(X: ArrayLike) -> Duplicates:
    """Rows with identical content (same values after conversion to float64).

    Rows are bucketed by a 64-bit hash of their bytes and every candidate is
    confirmed against its bucket's first row, so a hash collision never makes a
    false pair. Each set contributes the pairs (first member, other member).
    """
    data = np.ascontiguousarray(check_features(X, "X"), dtype=np.float64)
    data = data + 0.0  # -0.0 and 0.0 hash alike
    n = data.shape[0]
    h = _row_hash(data)
    order = np.argsort(h, kind="stable")
    hs = h[order]
    starts = np.r_[True, hs[1:] != hs[:-1]]
    first = order[starts][np.cumsum(starts) - 1]
    cand = ~starts
    same = np.zeros(n, dtype=bool)
    same[cand] = (data[order[cand]] == data[first[cand]]).all(axis=1)
    pairs = np.stack([first[same], order[same]], axis=1).astype(np.int64)
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
    group, n_groups = _groups(pairs, n)
    return Duplicates(pairs, np.ones(pairs.shape[0]), group, n_groups)


def find_near_duplicates(
    X: ArrayLike | None = None,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    k: int = 5,
    neighbors: Neighbors | None = None,
) -> Duplicates:
    """Pairs with cosine similarity at least ``threshold``, grouped into sets.

    Parameters
    ----------
    X : array (n, d), optional
        Features or embeddings; not needed with ``neighbors``.
    threshold : float in (0, 1]
        Minimum cosine similarity of a pair.
    k : int
        Neighbours examined per item (a set larger than ``k + 1`` is still joined
        through its chains).
    neighbors : Neighbors, optional
        A precomputed cosine ``nearest_neighbors`` pass.

    Returns
    -------
    Duplicates
    """
    check_number(threshold, "threshold", "find_near_duplicates", low=0, high=1, low_open=True)
    if neighbors is None:
        if X is None:
            raise TypeError("find_near_duplicates needs X or neighbors.")
        neighbors = nearest_neighbors(X, k, metric="cosine")
    if neighbors.metric != "cosine":
        raise InputError("find_near_duplicates needs a cosine neighbour pass.")
    sim = 1.0 - neighbors.distance[:, :k].astype(np.float64)
    idx = neighbors.index[:, :k]
    n = idx.shape[0]
    hit = (sim >= threshold - 1e-6) & (idx >= 0)
    a = np.repeat(np.arange(n), hit.sum(axis=1))
    b = idx[hit]
    s = sim[hit]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    key = lo * n + hi
    _key_u, first = np.unique(key, return_index=True)
    pairs = np.stack([lo[first], hi[first]], axis=1).astype(np.int64)
    ps = np.minimum(s[first], 1.0)
    order = np.lexsort((pairs[:, 1], pairs[:, 0], -ps))
    pairs, ps = pairs[order], ps[order]
    group, n_groups = _groups(pairs, n)
    return Duplicates(pairs, ps, group, n_groups)


@dataclass(frozen=True)
class Leakage:
    """Test items with a near duplicate in train.

    Attributes
    ----------
    is_leaked : ndarray of bool (n_test,)
    train_match : ndarray of int (n_test,)
        The most similar train item (for every test item).
    similarity : ndarray (n_test,)
        Its cosine similarity.
    threshold : float
    """

    is_leaked: NDArray[np.bool_]
    train_match: NDArray[np.int64]
    similarity: NDArray[np.float64]
    threshold: float

    @property
    def n_leaked(self) -> int:
        """Number of leaked test items."""
        return int(self.is_leaked.sum())


def find_leakage(
    X_train: ArrayLike,
    X_test: ArrayLike,
    *,
    threshold: float | Literal["auto"] = DEFAULT_THRESHOLD,
    exact: bool | None = None,
) -> Leakage:
    """Flag test items whose nearest train item is a near duplicate.

    ``threshold`` is a fixed cosine, or ``"auto"``: the gap calibrated on the data by
    :func:`~labelwise.curate.near_duplicates.near_duplicates` (a pair counts when its
    cosine stands far above both items' ordinary neighbours; the cosine this takes
    differs per embedding). With ``"auto"``, :attr:`Leakage.threshold` is the median
    cosine of the flagged pairs' ordinary level plus the calibrated gap.
    """
    tr = check_features(X_train, "X_train")
    te = check_features(X_test, "X_test")
    if tr.shape[1] != te.shape[1]:
        raise InputError(f"X_test has {te.shape[1]} features but X_train has {tr.shape[1]}.")
    if isinstance(threshold, str):
        if threshold != "auto":
            raise InputError(f"threshold must be a cosine in (0, 1] or 'auto'; got {threshold!r}.")
        from labelwise.curate.near_duplicates import near_duplicates

        near = near_duplicates(te, reference=tr)
        best = near.frame().drop_duplicates("a")
        is_leaked = np.zeros(te.shape[0], dtype=bool)
        is_leaked[best["a"].to_numpy()] = True
        index = NeighborIndex(metric="cosine", kind="flat").fit(tr)
        dist, idx = index.search(te, 1)
        match = idx[:, 0].copy()
        match[best["a"].to_numpy()] = best["b"].to_numpy()
        sim = np.minimum(1.0 - dist[:, 0].astype(np.float64), 1.0)
        sim[best["a"].to_numpy()] = best["similarity"].to_numpy()
        cal = near.calibration
        return Leakage(is_leaked, match, sim, cal.ordinary_similarity + cal.gap_threshold)
    check_number(threshold, "threshold", "find_leakage", low=0, high=1, low_open=True)
    use_exact = tr.shape[0] <= 20_000 if exact is None else exact
    index = NeighborIndex(metric="cosine", kind="flat" if use_exact else "ivf", nprobe=8)
    dist, idx = index.fit(tr).search(te, 1)
    sim = np.minimum(1.0 - dist[:, 0].astype(np.float64), 1.0)
    return Leakage(sim >= threshold - 1e-6, idx[:, 0], sim, float(threshold))
