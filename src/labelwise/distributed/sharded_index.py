"""A nearest-neighbour index split in shards: IVF trained once on a sample, shards
searched in parallel, results merged.

For pools too large for one flat or HNSW index (100 million embeddings), the rows
are split in ``n_shards`` contiguous shards. One coarse quantizer (the IVF
centroids) is trained on a random sample of at most ``sample_size`` rows and shared
by every shard, so a query visits the same ``nprobe`` lists in each. Each shard is an
``IndexIVFFlat`` over its own rows; with ``directory`` the shards are written there
and memory-mapped back, so the index need not fit in memory. A search runs the
shards in parallel threads (faiss releases the GIL) and merges each query's
per-shard top ``k`` into the global top ``k``.

:class:`ShardedIndex` is a :class:`~labelwise.index.NeighborIndex`: SEALS
(``SEALS(kind="sharded")`` or ``index=``), the outlier and duplicate passes
(:func:`~labelwise.curate.nearest_neighbors`, automatic above
``SHARDED_ROWS`` rows) and :func:`~labelwise.curate.near_duplicates` (``index=``)
use it unchanged. With ``nprobe`` equal to the number of lists the search is exact.

Example
-------
>>> import numpy as np
>>> from labelwise.distributed.sharded_index import ShardedIndex
>>> X = np.random.default_rng(0).normal(size=(2000, 8)).astype("float32")
>>> idx = ShardedIndex(n_shards=4, nlist=16, nprobe=16).fit(X)
>>> idx.search(X[:2], k=1)[1].ravel().tolist()
[0, 1]
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from labelwise._validation import check_number, check_option
from labelwise.errors import InputError
from labelwise.index import NeighborIndex

__all__ = ["ShardedIndex"]


class _Shards:
    """The faiss shards behind a :class:`ShardedIndex`, with a faiss index's
    ``search`` and ``reconstruct_batch`` (so that ``NeighborIndex`` drives it)."""

    def __init__(self, shards: list[Any], offsets: NDArray[np.int64], ip: bool, workers: int):
        self.shards = shards
        self.offsets = offsets
        self.ip = ip
        self.workers = workers

    def search(self, q: NDArray[np.float32], k: int) -> tuple[NDArray[Any], NDArray[np.int64]]:
        def one(s: int) -> tuple[NDArray[Any], NDArray[np.int64]]:
            d, i = self.shards[s].search(q, k)
            return d, np.where(i >= 0, i + self.offsets[s], -1)

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            parts = list(pool.map(one, range(len(self.shards))))
        scores = np.concatenate([p[0] for p in parts], axis=1)
        ids = np.concatenate([p[1] for p in parts], axis=1)
        # best first: largest inner product or smallest squared L2; missing (-1) last;
        # equal scores to the lower row, as a flat index orders them
        key = np.where(ids >= 0, -scores if self.ip else scores, np.inf)
        order = np.lexsort((ids, key), axis=1)[:, :k]
        rows = np.arange(len(q))[:, None]
        return scores[rows, order], ids[rows, order].astype(np.int64)

    def reconstruct_batch(self, rows: NDArray[np.int64]) -> NDArray[np.float32]:
        shard = np.searchsorted(self.offsets, rows, side="right") - 1
        out = np.empty((len(rows), self.shards[0].d), dtype=np.float32)
        for s in np.unique(shard):
            mine = shard == s
            out[mine] = self.shards[s].reconstruct_batch(rows[mine] - self.offsets[s])
        return out


class ShardedIndex(NeighborIndex):
    """k-nearest-neighbour search over shards of one IVF index.

    Parameters
    ----------
    metric : {"cosine", "l2"}
        As in :class:`~labelwise.index.NeighborIndex`.
    n_shards : int
        Contiguous shards of the rows (a :class:`~labelwise.distributed.ShardedPool`
        keeps its own partitions as the shards).
    nlist : int or None
        IVF lists shared by every shard (``None``: ``min(65536, 4 sqrt(n))``).
    nprobe : int or None
        Lists visited per query in each shard (``None``: ``max(1, nlist // 16)``);
        ``nprobe == nlist`` is an exact search.
    sample_size : int
        Rows the IVF centroids are trained on (a uniform sample, ``random_state``).
    directory : path or None
        Write the shards there and memory-map them back (the index then lives on disk).
    n_jobs : int or None
        Shards searched at once (``None``: one per shard, at most 8).
    random_state : int
        Seed of the training sample.

    Attributes
    ----------
    index_ : the shards (``search`` and ``reconstruct_batch`` like a faiss index)
    n_, dim_ : rows and features indexed
    nlist_, nprobe_ : the lists and lists probed
    """

    def __init__(
        self,
        *,
        metric: Literal["cosine", "l2"] = "cosine",
        n_shards: int = 4,
        nlist: int | None = None,
        nprobe: int | None = None,
        sample_size: int = 100_000,
        directory: str | Path | None = None,
        n_jobs: int | None = None,
        random_state: int = 0,
    ):
        super().__init__(metric=metric, kind="ivf", nlist=nlist, nprobe=nprobe)
        self.n_shards = n_shards
        self.sample_size = sample_size
        self.directory = directory
        self.n_jobs = n_jobs
        self.random_state = random_state

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Hyper-parameters (scikit-learn's ``clone`` contract)."""
        return {
            k: getattr(self, k)
            for k in (
                "metric",
                "n_shards",
                "nlist",
                "nprobe",
                "sample_size",
                "directory",
                "n_jobs",
                "random_state",
            )
        }

    def fit(self, X: Any) -> ShardedIndex:
        """Build the shards over ``X``: an array (n, d) or a
        :class:`~labelwise.distributed.ShardedPool` (read partition by partition)."""
        import faiss

        from labelwise.distributed.shards import ShardedPool, _chunks

        name = type(self).__name__
        check_option(self.metric, "metric", name, ("cosine", "l2"))
        check_number(self.n_shards, "n_shards", name, kind=int, low=1)
        check_number(self.sample_size, "sample_size", name, kind=int, low=1)
        for opt in ("nlist", "nprobe", "n_jobs"):
            if getattr(self, opt) is not None:
                check_number(getattr(self, opt), opt, name, kind=int, low=1)
        if isinstance(X, ShardedPool):
            parts = [
                (lambda shard=shard: np.concatenate([b for _, b in _chunks(shard, 1 << 20)]))
                for shard in X.shards
            ]
            n, d = X.n_rows, X.n_features
            offsets = X.offsets
            sample = self._sample_pool(X, parts)
        else:
            data = self._prepare(X, "X")
            n, d = data.shape
            bounds = np.linspace(0, n, min(self.n_shards, n) + 1).astype(np.int64)
            offsets = bounds
            parts = [(lambda a=a, b=b: data[a:b]) for a, b in itertools.pairwise(bounds)]
            rng = np.random.default_rng(self.random_state)
            sample = data[np.sort(rng.choice(n, size=min(n, self.sample_size), replace=False))]
        nlist = self.nlist or max(1, min(65_536, int(4 * np.sqrt(n))))
        nlist = min(nlist, len(sample))
        ip = self.metric == "cosine"
        metric = faiss.METRIC_INNER_PRODUCT if ip else faiss.METRIC_L2
        quant = faiss.IndexFlatIP(d) if ip else faiss.IndexFlatL2(d)
        trained = faiss.IndexIVFFlat(quant, d, nlist, metric)
        trained.train(sample)
        nprobe = min(nlist, self.nprobe or max(1, nlist // 16))
        root = None if self.directory is None else Path(self.directory)
        if root is not None:
            root.mkdir(parents=True, exist_ok=True)
        shards = []
        for s, make in enumerate(parts):
            shard: Any = faiss.clone_index(trained)
            block = make()
            if isinstance(X, ShardedPool):
                block = self._prepare(block, "X")
            shard.add(block)
            del block
            if root is not None:
                path = str(root / f"shard-{s:04d}.faiss")
                faiss.write_index(shard, path)
                shard = faiss.read_index(path, faiss.IO_FLAG_MMAP)
            shard.nprobe = nprobe
            shard.make_direct_map()
            shards.append(shard)
        workers = self.n_jobs or min(8, len(shards))
        self.index_ = _Shards(shards, np.asarray(offsets[:-1], dtype=np.int64), ip, workers)
        self.kind_ = "sharded"
        self.n_, self.dim_ = int(n), int(d)
        self.nlist_, self.nprobe_ = nlist, nprobe
        return self

    def _sample_pool(self, pool: Any, parts: list[Any]) -> NDArray[np.float32]:
        """A uniform sample of the pool's rows, read partition by partition."""
        rng = np.random.default_rng(self.random_state)
        size = min(pool.n_rows, self.sample_size)
        pick = np.sort(rng.choice(pool.n_rows, size=size, replace=False))
        out = []
        for s, make in enumerate(parts):
            lo, hi = pool.offsets[s], pool.offsets[s + 1]
            mine = pick[(pick >= lo) & (pick < hi)] - lo
            if mine.size:
                out.append(self._prepare(make()[mine], "X"))
        if not out:
            raise InputError("the pool is empty.")
        return np.concatenate(out)
