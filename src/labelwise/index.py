"""Nearest-neighbour index over embeddings (faiss), shared by active learning and curation.

One index is built once over a pool's embeddings and then answers k-nearest
neighbour queries: SEALS candidate pools (``active``), near duplicates, leakage
and outliers (``curate``). ``kind="auto"`` picks an exact index for small pools
and HNSW for large ones.

Example
-------
>>> import numpy as np
>>> from labelwise.index import NeighborIndex
>>> X = np.random.default_rng(0).normal(size=(100, 8)).astype("float32")
>>> idx = NeighborIndex(metric="cosine").fit(X)
>>> dist, nn = idx.search(X[:2], k=3)
>>> nn[:, 0].tolist()
[0, 1]
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise._validation import check_features, check_is_fitted, check_number, check_option
from labelwise.errors import InputError

__all__ = ["NeighborIndex"]

#: Below this many rows ``kind="auto"`` uses an exact (flat) index.
EXACT_LIMIT = 50_000


def _as_float32(X: ArrayLike, name: str) -> NDArray[np.float32]:
    arr = check_features(X, name)
    return np.ascontiguousarray(arr, dtype=np.float32)


class NeighborIndex:
    """k-nearest-neighbour search over the rows of an embedding matrix.

    Parameters
    ----------
    metric : {"cosine", "l2"}
        ``"cosine"`` normalises rows and searches by inner product; distances
        returned are ``1 - cosine similarity``. ``"l2"`` returns Euclidean distances.
    kind : {"auto", "flat", "hnsw", "ivf"}
        ``"flat"`` is exact; ``"hnsw"`` (graph) and ``"ivf"`` (inverted lists) are
        approximate and scale to millions of rows. ``"auto"``: flat below
        ``EXACT_LIMIT`` rows, HNSW above.
    hnsw_m : int
        Links per node of the HNSW graph.
    ef_search : int
        HNSW search breadth (recall against speed).
    n_threads : int or None
        faiss threads (``None``: faiss's default, all cores).
    nlist : int or None
        IVF lists (``None``: ``min(4096, n // 40, 4 sqrt(n))``). Fewer lists build
        faster (k-means over the lists' centroids) and search slower.
    nprobe : int or None
        IVF lists visited per query (``None``: ``nlist // 16``).
    """

    def __init__(
        self,
        *,
        metric: Literal["cosine", "l2"] = "cosine",
        kind: Literal["auto", "flat", "hnsw", "ivf"] = "auto",
        hnsw_m: int = 32,
        ef_search: int = 64,
        n_threads: int | None = None,
        nlist: int | None = None,
        nprobe: int | None = None,
    ):
        self.metric = metric
        self.kind = kind
        self.hnsw_m = hnsw_m
        self.ef_search = ef_search
        self.n_threads = n_threads
        self.nlist = nlist
        self.nprobe = nprobe

    def fit(self, X: ArrayLike) -> NeighborIndex:
        """Build the index over the rows of ``X`` (n, d); return ``self``."""
        import faiss

        name = type(self).__name__
        check_option(self.metric, "metric", name, ("cosine", "l2"))
        check_option(self.kind, "kind", name, ("auto", "flat", "hnsw", "ivf"))
        check_number(self.hnsw_m, "hnsw_m", name, kind=int, low=4)
        check_number(self.ef_search, "ef_search", name, kind=int, low=1)
        if self.nlist is not None:
            check_number(self.nlist, "nlist", name, kind=int, low=1)
        if self.nprobe is not None:
            check_number(self.nprobe, "nprobe", name, kind=int, low=1)
        if self.n_threads is not None:
            faiss.omp_set_num_threads(int(self.n_threads))
        data = self._prepare(X, "X")
        n, d = data.shape
        kind = self.kind
        if kind == "auto":
            kind = "flat" if n <= EXACT_LIMIT else "hnsw"
        ip = self.metric == "cosine"
        metric = faiss.METRIC_INNER_PRODUCT if ip else faiss.METRIC_L2
        index: Any
        if kind == "flat":
            index = faiss.IndexFlatIP(d) if ip else faiss.IndexFlatL2(d)
        elif kind == "hnsw":
            index = faiss.IndexHNSWFlat(d, self.hnsw_m, metric)
            index.hnsw.efConstruction = max(40, self.hnsw_m * 2)
            index.hnsw.efSearch = self.ef_search
        else:
            nlist = self.nlist or max(1, min(4096, n // 40, int(np.sqrt(n) * 4)))
            nlist = min(nlist, n)
            quant = faiss.IndexFlatIP(d) if ip else faiss.IndexFlatL2(d)
            index = faiss.IndexIVFFlat(quant, d, nlist, metric)
            rng = np.random.default_rng(0)
            sample = data[rng.choice(n, size=min(n, nlist * 40), replace=False)]
            index.train(sample)
            index.nprobe = min(nlist, self.nprobe or max(1, nlist // 16))
        index.add(data)
        if kind == "ivf":
            index.make_direct_map()
        self.index_ = index
        self.kind_ = kind
        self.n_ = n
        self.dim_ = d
        return self

    def _prepare(self, X: ArrayLike, name: str) -> NDArray[np.float32]:
        data = _as_float32(X, name)
        if self.metric == "cosine":
            norms = np.linalg.norm(data, axis=1, keepdims=True)
            data = data / np.where(norms > 0, norms, 1.0)
        return np.ascontiguousarray(data, dtype=np.float32)

    def search(self, Q: ArrayLike, k: int) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        """Return ``(distances, indices)`` of the ``k`` nearest indexed rows to each row of ``Q``.

        Both have shape (n_queries, k); missing neighbours (k > n) are index -1
        with distance ``inf``.
        """
        check_is_fitted(self, "index_")
        check_number(k, "k", "NeighborIndex.search", kind=int, low=1)
        q = self._prepare(Q, "Q")
        if q.shape[1] != self.dim_:
            raise InputError(f"Q has {q.shape[1]} features; the index was built with {self.dim_}.")
        scores, idx = self.index_.search(q, k)
        if self.metric == "cosine":
            dist = (1.0 - scores).astype(np.float32)
        else:
            dist = np.sqrt(np.maximum(scores, 0)).astype(np.float32)
        dist[idx < 0] = np.inf
        return dist, idx.astype(np.int64)

    def neighbors_of_indexed(
        self, rows: ArrayLike, k: int
    ) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        """The ``k`` nearest *other* indexed rows of indexed rows ``rows`` (self excluded)."""
        check_is_fitted(self, "index_")
        r = np.asarray(rows, dtype=np.int64)
        vecs = (
            self.index_.reconstruct_batch(r) if hasattr(self.index_, "reconstruct_batch") else None
        )
        if vecs is None:  # pragma: no cover - every index kind used here can reconstruct
            raise InputError("this index cannot return its stored vectors.")
        scores, idx = self.index_.search(np.ascontiguousarray(vecs, dtype=np.float32), k + 1)
        if self.metric == "cosine":
            dist = 1.0 - scores
        else:
            dist = np.sqrt(np.maximum(scores, 0))
        dist[idx < 0] = np.inf
        # drop the query row itself (wherever the search placed it), keep k others
        is_self = idx == r[:, None]
        no_self = ~is_self.any(axis=1)
        is_self[no_self, -1] = True  # self not found: drop the farthest instead
        keep = ~is_self
        out_idx = idx[keep].reshape(r.shape[0], k)
        out_dist = dist[keep].reshape(r.shape[0], k).astype(np.float32)
        return out_dist, out_idx.astype(np.int64)
