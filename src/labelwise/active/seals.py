"""SEALS candidate pools: score only the neighbourhood of what is labeled.

Coleman et al., "Similarity Search for Efficient Active Learning and Search of Rare
Concepts" (AAAI 2022). A nearest-neighbour index over the whole pool is built once;
the candidate pool is the union of the ``k`` nearest neighbours of every labeled item,
minus the labeled items, and grows as labels arrive. A round then costs
``predict_proba`` on the candidates (at most ``k`` per labeled item) instead of on
the whole pool, and an update costs one index search for the newly labeled items:
neither touches the full pool.

Example
-------
>>> import numpy as np
>>> from labelwise.active.seals import SEALS
>>> X = np.random.default_rng(0).normal(size=(500, 8))
>>> s = SEALS(k=5).fit(X, labeled=[0, 1])
>>> len(s.candidates_) <= 10
True
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise._validation import check_is_fitted, check_number
from labelwise.errors import InputError
from labelwise.index import NeighborIndex

__all__ = ["SEALS"]

IntArray = NDArray[np.int64]


class SEALS:
    """Candidate pool made of the ``k`` nearest neighbours of the labeled items.

    Parameters
    ----------
    k : int
        Neighbours added per labeled item (the paper uses 100).
    metric : {"cosine", "l2"}
        Similarity of the index (when ``index`` is not given).
    kind : {"auto", "flat", "hnsw", "ivf", "sharded"}
        Index kind (exact below 50,000 rows with ``"auto"``, HNSW above);
        ``"sharded"``: an IVF index split in shards searched in parallel
        (:class:`~labelwise.distributed.ShardedIndex`, for pools of many millions).
    index : NeighborIndex, optional
        An index already fitted on the pool (shared with ``curate``); then ``fit``
        does not rebuild it.
    n_random : int
        Random unlabeled rows added to each round's candidates by
        :class:`~labelwise.active.ActiveLearner` (drawn by rejection sampling, so the
        pool is still never scanned). The neighbourhoods of the first labels cover
        little of the pool; these rows let the strategy look beyond them.
    precompute : bool
        Compute the whole pool's k-nearest-neighbour graph once in ``fit`` (one
        batched index search over every row, ``n * k`` int32 of memory). Every update
        is then a lookup in that graph, with no index search while labeling goes on:
        the one-off cost moves to set-up, where the index is built anyway.

    Attributes
    ----------
    index_ : NeighborIndex
    candidates_ : (c,) int array
        Pool rows that are candidates now (never labeled ones), in the order they joined.
    n_pool_ : int
    """

    def __init__(
        self,
        k: int = 100,
        *,
        metric: Literal["cosine", "l2"] = "cosine",
        kind: Literal["auto", "flat", "hnsw", "ivf", "sharded"] = "auto",
        index: NeighborIndex | None = None,
        n_random: int = 0,
        precompute: bool = False,
    ):
        self.k = k
        self.n_random = n_random
        self.precompute = precompute
        self.metric = metric
        self.kind = kind
        self.index = index

    def fit(self, X: ArrayLike | None, labeled: ArrayLike = ()) -> SEALS:
        """Build (or adopt) the index over the pool ``X`` (n, d) and seed the candidates.

        ``X`` may be ``None`` when a fitted ``index`` was given. Returns ``self``.
        """
        check_number(self.k, "k", "SEALS", kind=int, low=1)
        check_number(self.n_random, "n_random", "SEALS", kind=int, low=0)
        if self.index is not None:
            check_is_fitted(self.index, "index_")
            self.index_ = self.index
        else:
            if X is None:
                raise InputError("SEALS.fit needs the pool's embeddings X (or a fitted index).")
            if self.kind == "sharded":
                from labelwise.distributed.sharded_index import ShardedIndex

                self.index_ = ShardedIndex(metric=self.metric).fit(X)
            else:
                self.index_ = NeighborIndex(metric=self.metric, kind=self.kind).fit(X)
        n = int(self.index_.n_)
        self.n_pool_ = n
        self._labeled = np.zeros(n, dtype=bool)
        self._is_cand = np.zeros(n, dtype=bool)
        self._cand: IntArray = np.empty(0, dtype=np.int64)
        self.graph_: NDArray[np.int32] | None = None
        if self.precompute:
            self.graph_ = self._knn_graph()
        self.add_labeled(labeled)
        return self

    def _knn_graph(self, batch: int = 65_536) -> NDArray[np.int32]:
        """Every pool row's ``k`` nearest other rows, shape (n, k), -1 where missing."""
        k = min(self.k, self.n_pool_ - 1)
        graph = np.full((self.n_pool_, max(k, 0)), -1, dtype=np.int32)
        if k < 1:
            return graph
        for start in range(0, self.n_pool_, batch):
            rows = np.arange(start, min(start + batch, self.n_pool_))
            graph[rows] = self.index_.neighbors_of_indexed(rows, k)[1]
        return graph

    @property
    def candidates_(self) -> IntArray:
        check_is_fitted(self, "_cand")
        keep = ~self._labeled[self._cand]
        if not keep.all():  # compact once: labeled rows leave for good
            self._cand = self._cand[keep]
        return self._cand

    def add_labeled(self, ids: ArrayLike) -> IntArray:
        """Mark pool rows ``ids`` labeled and add their ``k`` nearest neighbours.

        Returns the rows that newly joined the candidate pool. Cost: one index search
        for ``len(ids)`` queries; nothing proportional to the pool size.
        """
        check_is_fitted(self, "_cand")
        r = np.unique(np.asarray(ids, dtype=np.int64))
        if r.size == 0:
            return np.empty(0, dtype=np.int64)
        if r[0] < 0 or r[-1] >= self.n_pool_:
            bad = r[(r < 0) | (r >= self.n_pool_)][0]
            raise InputError(f"labeled id {int(bad)} is outside the pool of {self.n_pool_} rows.")
        r = r[~self._labeled[r]]
        self._labeled[r] = True
        if r.size == 0:
            return np.empty(0, dtype=np.int64)
        k = min(self.k, self.n_pool_ - 1)
        if k < 1:
            return np.empty(0, dtype=np.int64)
        if self.graph_ is not None:
            nn = self.graph_[r]
        else:
            nn = self.index_.neighbors_of_indexed(r, k)[1]
        new = np.unique(nn[nn >= 0]).astype(np.int64)
        new = new[~self._is_cand[new] & ~self._labeled[new]]
        self._is_cand[new] = True
        self._cand = np.concatenate([self._cand, new])
        return new

    def __repr__(self) -> str:
        return (
            f"SEALS(k={self.k!r}, metric={self.metric!r}, kind={self.kind!r}, "
            f"n_random={self.n_random!r}, precompute={self.precompute!r})"
        )

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Hyper-parameters (scikit-learn's ``clone`` contract)."""
        return {
            "k": self.k,
            "metric": self.metric,
            "kind": self.kind,
            "index": self.index,
            "n_random": self.n_random,
            "precompute": self.precompute,
        }
