"""Active-learning selection over a pool that does not fit in memory, on Dask.

A pool of 100 million embeddings (25.6 GB at 64 float32 features) is a directory of
``.npy`` shards, or partitions made on demand. One round of selection:

1. the fitted model is sent to every Dask worker once (``client.scatter(...,
   broadcast=True)``), not once per task;
2. each partition is scored on a worker in chunks of ``chunk_rows`` rows read from
   disk (never the whole shard), keeping only its best ``m = oversample * n`` rows:
   positions, scores, features and predicted probabilities;
3. the client merges the partitions' candidates as they finish into the global
   top ``m`` (ties to the lower pool position, as :func:`~labelwise.active.top_k`
   breaks them), so neither a worker nor the client holds more than a chunk and the
   candidates;
4. the batch of ``n`` is chosen among the merged candidates with the diversity
   functions of :mod:`labelwise.active` (``cluster_top``, ``coreset``, ``badge``,
   ``weighted_kmeans_pp``) or is the plain top ``n``.

The global top ``m`` equals the in-memory top ``m``, so on a pool that fits the
selection equals ``cluster_top(X, margin(model.predict_proba(X)), n)`` run in memory
(tested). Without a ``client`` the same partitions are scored one after another in
this process, with the same bounded memory.

Example
-------
>>> from dask.distributed import Client, LocalCluster                    # doctest: +SKIP
>>> pool = ShardedPool.from_directory("pool/")   # pool/part-000.npy ...   # doctest: +SKIP
>>> with Client(LocalCluster(n_workers=2, threads_per_worker=1)) as client:  # doctest: +SKIP
...     pick = select_from_pool(model, pool, 100, client=client)
>>> pick.ids                          # global row positions, in the order chosen  # doctest: +SKIP
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise._validation import check_number, check_option
from labelwise.distributed.shards import ShardedPool, _chunks, _Shard
from labelwise.errors import InputError

__all__ = ["PoolSelection", "select_from_pool"]

IntArray = NDArray[np.int64]
DIVERSITY = (None, "cluster_top", "coreset", "badge", "weighted_kmeans_pp")


# --------------------------------------------------------- one partition's best
@dataclass(frozen=True)
class _Candidates:
    ids: IntArray
    scores: NDArray[np.float64]
    features: NDArray[Any]
    proba: NDArray[np.float64]
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    n_scored: int = 0

    @staticmethod
    def empty(d: int) -> _Candidates:
        return _Candidates(np.empty(0, np.int64), np.empty(0), np.empty((0, d)), np.empty((0, 0)))


def _best(c: _Candidates, m: int) -> _Candidates:
    """The ``m`` highest scores of ``c``, highest first, ties to the lower pool row."""
    order = np.lexsort((c.ids, -c.scores))[:m]
    return _Candidates(c.ids[order], c.scores[order], c.features[order], c.proba[order])


def _merge(a: _Candidates, b: _Candidates, m: int) -> _Candidates:
    if a.ids.size == 0:
        return _best(b, m)
    if b.ids.size == 0:
        return _best(a, m)
    joined = _Candidates(
        np.concatenate([a.ids, b.ids]),
        np.concatenate([a.scores, b.scores]),
        np.concatenate([a.features, b.features]),
        np.concatenate([a.proba, b.proba]),
    )
    return _best(joined, m)


def _peak_rss_mb() -> float:
    """This process's peak resident memory in MiB (``VmHWM``: unlike ``ru_maxrss`` it
    does not carry over the peak of the process a Dask worker was forked from)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return float("nan")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover


def _score_partition(
    shard: _Shard,
    array: Any,
    offset: int,
    model: Any,
    strategy: str,
    m: int,
    chunk_rows: int,
    exclude: IntArray,
) -> _Candidates:
    """Score one partition chunk by chunk; keep its best ``m`` rows (the Dask task).

    A partition scattered from the client arrives as ``array`` (Dask resolves a
    future passed as an argument, not one inside ``shard``).
    """
    from labelwise.active.strategies import get_score

    if array is not None:
        shard = _Shard(rows=shard.rows, array=array, index=shard.index)

    score = get_score(strategy)
    start_time = time.perf_counter()
    best = _Candidates.empty(0)
    n_scored = 0
    for start, block in _chunks(shard, chunk_rows):
        ids = np.arange(offset + start, offset + start + block.shape[0], dtype=np.int64)
        if exclude.size:
            lo, hi = np.searchsorted(exclude, [ids[0], ids[-1] + 1])
            if hi > lo:
                keep = ~np.isin(ids, exclude[lo:hi])
                ids, block = ids[keep], block[keep]
        if ids.size == 0:
            continue
        n_scored += ids.size
        proba = np.asarray(model.predict_proba(block), dtype=np.float64)
        s = score(proba)
        if s.shape[0] > m:  # a cheap first cut before the exact, tie-aware sort
            cut = np.partition(-s, m - 1)[m - 1]
            keep_idx = np.flatnonzero(-s <= cut)
            ids, s, block, proba = ids[keep_idx], s[keep_idx], block[keep_idx], proba[keep_idx]
        chunk = _Candidates(ids, s, np.array(block), proba)
        best = _merge(best, chunk, m) if best.ids.size else _best(chunk, m)
    return _Candidates(
        best.ids,
        best.scores,
        best.features,
        best.proba,
        time.perf_counter() - start_time,
        _peak_rss_mb(),
        n_scored,
    )


# ------------------------------------------------------------------ the round
@dataclass(frozen=True)
class PoolSelection:
    """One round of selection over a partitioned pool.

    Attributes
    ----------
    ids : (n,) int array
        Pool rows chosen, in the order the batch strategy chose them.
    scores : (n,) float array
        Their informativeness scores.
    candidate_ids : (m,) int array
        The global top ``m`` the batch was chosen from, best first.
    n_scored : int
        Pool rows scored (excluded rows not counted).
    n_partitions : int
    seconds : float
        Wall time of the round (scoring, merging and choosing; cluster start excluded).
    worker_seconds : float
        Scoring time summed over partitions (what the workers spent).
    peak_rss_mb : float
        Largest peak resident memory of a process that scored partitions, MiB.
    """

    ids: IntArray
    scores: NDArray[np.float64]
    candidate_ids: IntArray
    n_scored: int
    n_partitions: int
    seconds: float
    worker_seconds: float
    peak_rss_mb: float


def _choose(
    best: _Candidates, n: int, diversity: str | None, labeled: Any, random_state: Any
) -> IntArray:
    """Positions into the merged candidates forming the batch."""
    from labelwise.active import diversity as div

    if diversity is None:
        return np.arange(n, dtype=np.int64)
    E = best.features.astype(np.float64)
    if diversity == "cluster_top":
        # the candidates are the oversample * n best: cluster_top keeps them all
        return div.cluster_top(
            E, best.scores, n, oversample=-(-len(E) // n), random_state=random_state
        )
    if diversity == "coreset":
        return div.coreset(E, n, labeled=labeled, random_state=random_state)
    if diversity == "badge":
        return div.badge(best.proba, E, n, random_state=random_state)
    return div.weighted_kmeans_pp(E, np.maximum(best.scores, 0.0), n, random_state=random_state)


def select_from_pool(
    model: Any,
    pool: ShardedPool | ArrayLike,
    n: int,
    *,
    strategy: str = "margin",
    diversity: str | None = "cluster_top",
    oversample: int = 10,
    exclude: ArrayLike | None = None,
    client: Any = None,
    chunk_rows: int = 262_144,
    labeled_features: ArrayLike | None = None,
    random_state: Any = None,
) -> PoolSelection:
    """Choose ``n`` pool rows to label next, scoring the pool partition by partition.

    Parameters
    ----------
    model : fitted classifier with ``predict_proba``
        Sent once to every Dask worker.
    pool : ShardedPool, array (rows, d) or iterator of arrays
        An array is one partition (the in-memory case); an iterator (a generator)
        yields partitions one at a time, numbered in the order they come, and is
        consumed once, never held whole.
    n : int
        Batch size.
    strategy : {"margin", "entropy", "least_confidence"}
        The score (:mod:`labelwise.active.strategies`); higher is more informative.
    diversity : {"cluster_top", "coreset", "badge", "weighted_kmeans_pp", None}
        How the batch is chosen among the ``oversample * n`` best rows; ``None``
        takes the ``n`` best.
    exclude : array of int, optional
        Pool rows never to choose (already labeled).
    client : dask.distributed.Client, optional
        Score partitions on its workers; ``None`` scores them in this process.
    chunk_rows : int
        Rows scored at a time; bounds a worker's memory with the candidates.
    labeled_features : array (l, d), optional
        Features of the rows already labeled: ``diversity="coreset"`` starts from them
        (the batch is then far from what is labeled, not only spread within itself).

    Returns
    -------
    PoolSelection
    """
    check_number(n, "n", "select_from_pool", kind=int, low=1)
    check_number(oversample, "oversample", "select_from_pool", kind=int, low=1)
    check_number(chunk_rows, "chunk_rows", "select_from_pool", kind=int, low=1)
    check_option(diversity, "diversity", "select_from_pool", DIVERSITY)
    from labelwise.active.strategies import get_score

    get_score(strategy)  # an unknown name fails here, not on a worker
    if not hasattr(model, "predict_proba"):
        raise InputError("select_from_pool needs a fitted model with predict_proba.")
    excl = np.unique(np.asarray([] if exclude is None else exclude, dtype=np.int64))
    if excl.size and excl[0] < 0:
        raise InputError(f"exclude holds row {int(excl[0])}; pool rows start at 0.")
    m = n * oversample if diversity is not None else n
    jobs: Iterator[tuple[_Shard, int]]
    if isinstance(pool, Iterator):
        jobs, n_partitions = _stream(pool), None
    else:
        if not isinstance(pool, ShardedPool):
            pool = ShardedPool.from_arrays([np.asarray(pool)])
        if excl.size and excl[-1] >= pool.n_rows:
            raise InputError(
                f"exclude holds row {int(excl[-1])}, outside the pool of {pool.n_rows} rows."
            )
        if n > pool.n_rows - excl.size:
            raise InputError(
                f"a batch of {n} is larger than the {pool.n_rows - excl.size} unlabeled pool rows."
            )
        jobs = zip(pool.shards, (int(o) for o in pool.offsets[:-1]), strict=False)
        n_partitions = pool.n_partitions
    start = time.perf_counter()
    best = _Candidates.empty(0)
    worker_seconds, peak, n_scored, seen = 0.0, 0.0, 0, 0
    for part in _score_all(jobs, model, strategy, m, chunk_rows, excl, client):
        best = _merge(best, part, m)
        worker_seconds += part.seconds
        peak = max(peak, part.peak_rss_mb)
        n_scored += part.n_scored
        seen += 1
    if best.ids.size < n:
        raise InputError(f"a batch of {n} is larger than the {best.ids.size} unlabeled pool rows.")
    pos = _choose(best, n, diversity, labeled_features, random_state)
    return PoolSelection(
        ids=best.ids[pos],
        scores=best.scores[pos],
        candidate_ids=best.ids,
        n_scored=n_scored,
        n_partitions=seen if n_partitions is None else n_partitions,
        seconds=time.perf_counter() - start,
        worker_seconds=worker_seconds,
        peak_rss_mb=peak,
    )


def _stream(partitions: Iterator[Any]) -> Iterator[tuple[_Shard, int]]:
    """(shard, offset) of each partition a generator yields, numbered as they come."""
    offset, width = 0, None
    for i, part in enumerate(partitions):
        arr = np.asarray(part)
        if arr.ndim != 2 or (width is not None and arr.shape[1] != width):
            raise InputError(
                f"pool partition {i} has shape {arr.shape}; need 2-D with {width or 'd'} features."
            )
        width = arr.shape[1]
        yield _Shard(rows=arr.shape[0], array=arr, index=i), offset
        offset += arr.shape[0]


def _score_all(
    jobs: Iterator[tuple[_Shard, int]],
    model: Any,
    strategy: str,
    m: int,
    chunk_rows: int,
    exclude: IntArray,
    client: Any,
) -> Iterator[_Candidates]:
    """Each partition's candidates, in this process or on the client's workers.

    On Dask at most two partitions per worker are in flight, so partitions that
    travel from this process (arrays) are never all in memory at once.
    """
    if client is None:
        for shard, offset in jobs:
            yield _score_partition(shard, None, offset, model, strategy, m, chunk_rows, exclude)
        return
    from dask.distributed import as_completed

    model_f = client.scatter(model, broadcast=True, hash=False)
    excl_f = client.scatter(exclude, broadcast=True, hash=False)
    window = 2 * max(1, len(client.scheduler_info().get("workers", {})))

    def submit(shard: _Shard, offset: int) -> Any:
        array = None
        if shard.array is not None:  # data in this process: scatter it with the task
            array = client.scatter(shard.array, hash=False)
            shard = _Shard(rows=shard.rows, index=shard.index)
        return client.submit(
            _score_partition, shard, array, offset, model_f, strategy, m, chunk_rows, excl_f,
            pure=False,
        )  # fmt: skip

    first = [submit(s, int(o)) for s, o in itertools.islice(jobs, window)]
    done = as_completed(first)
    for fut in done:
        part = fut.result()
        fut.release()
        nxt = next(jobs, None)
        if nxt is not None:
            done.add(submit(nxt[0], int(nxt[1])))
        yield part
