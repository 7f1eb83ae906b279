"""One k-nearest-neighbour pass shared by the outlier and near-duplicate detectors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise._validation import check_features, check_number, check_option
from labelwise.errors import InputError
from labelwise.index import NeighborIndex

__all__ = ["Neighbors", "nearest_neighbors"]

#: Above this many rows the pass uses an IVF index (a few lists per query).
EXACT_ROWS = 20_000
#: Above this many rows the IVF index is split in shards searched in parallel
#: (:class:`~labelwise.distributed.ShardedIndex`), one per million rows.
SHARDED_ROWS = 2_000_000


@dataclass(frozen=True)
class Neighbors:
    """The ``k`` nearest *other* rows of every row: ``distance`` and ``index``, (n, k).

    Distances are ``1 - cosine similarity`` (metric ``"cosine"``) or Euclidean.
    """

    distance: NDArray[np.float32]
    index: NDArray[np.int64]
    metric: str


def nearest_neighbors(
    X: ArrayLike,
    k: int = 10,
    *,
    metric: Literal["cosine", "l2"] = "cosine",
    exact: bool | None = None,
    nprobe: int = 2,
    index: NeighborIndex | None = None,
) -> Neighbors:
    """The ``k`` nearest other rows of every row of ``X`` (self excluded).

    ``exact=None`` searches exactly up to ``EXACT_ROWS`` rows and with an IVF index
    (``nprobe`` lists per query) above: a near duplicate lies in its original's
    list, and outlier scores only need the distance scale of the neighbourhood.
    Above ``SHARDED_ROWS`` rows the IVF index is a
    :class:`~labelwise.distributed.ShardedIndex` (one shard per million rows,
    searched in parallel). ``index``: an index already fitted on ``X`` (for example
    a ``ShardedIndex`` shared with SEALS) is used as it is.
    """
    check_number(k, "k", "nearest_neighbors", kind=int, low=1)
    check_option(metric, "metric", "nearest_neighbors", ("cosine", "l2"))
    data = check_features(X, "X")
    n = data.shape[0]
    k_eff = min(k, n - 1)
    if k_eff < 1:
        empty = np.zeros((n, 0))
        return Neighbors(empty.astype(np.float32), empty.astype(np.int64), metric)
    use_exact = n <= EXACT_ROWS if exact is None else exact
    if index is not None:
        if getattr(index, "n_", None) != n:
            raise InputError(
                f"index was fitted on {getattr(index, 'n_', 'no')} rows; X has {n}. "
                "Pass the index fitted on X."
            )
    elif use_exact:
        index = NeighborIndex(metric=metric, kind="flat").fit(data)
    elif n > SHARDED_ROWS and exact is None:
        from labelwise.distributed.sharded_index import ShardedIndex

        index = ShardedIndex(
            metric=metric, n_shards=-(-n // 1_000_000), nlist=int(2 * np.sqrt(n)), nprobe=nprobe
        ).fit(data)
    else:
        # ~2 sqrt(n) lists: training k-means stays cheap (it dominated with 4 sqrt(n))
        # and each query scans about nprobe * sqrt(n) / 2 rows
        nlist = max(1, int(2 * np.sqrt(n)))
        index = NeighborIndex(metric=metric, kind="ivf", nlist=nlist, nprobe=nprobe).fit(data)
    dist, idx = index.neighbors_of_indexed(np.arange(n), k_eff)
    return Neighbors(np.maximum(dist, 0).astype(np.float32), idx, metric)
