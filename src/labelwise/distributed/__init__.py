"""labelwise past one machine: the same estimators over annotations partitioned on Dask.

Read annotations that do not fit one process with :meth:`DaskAnnotations.read` (a
Parquet or CSV file, folder or glob, read by the workers chunk by chunk and
shuffled by item), then fit any of :data:`SUPPORTED` as usual::

    from labelwise import DawidSkene
    from labelwise.distributed import DaskAnnotations, connect

    with connect() as client:                      # a LocalCluster, or connect("tcp://...")
        data = DaskAnnotations.read("answers/", client=client)
        model = DawidSkene().fit(data)             # map-reduce EM over the partitions
        model.result_.to_parquet("labels/")        # written by the workers, atomically

Needs the optional extra ``labelwise[dask]`` (``dask[dataframe]`` and ``distributed``).
"""

from __future__ import annotations

from labelwise.distributed._cluster import SCHEDULER_ENV, connect
from labelwise.distributed._fit import SUPPORTED
from labelwise.distributed.annotations import DaskAnnotations, input_files
from labelwise.distributed.pool import PoolSelection, select_from_pool
from labelwise.distributed.result import DaskConsensus
from labelwise.distributed.sharded_index import ShardedIndex
from labelwise.distributed.shards import ShardedPool

__all__ = [
    "SCHEDULER_ENV",
    "SUPPORTED",
    "DaskAnnotations",
    "DaskConsensus",
    "PoolSelection",
    "ShardedIndex",
    "ShardedPool",
    "connect",
    "input_files",
    "select_from_pool",
]
