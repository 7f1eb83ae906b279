"""labelwise past one machine: the same estimators over Dask collections.

Needs the optional extra ``labelwise[dask]`` (``dask[dataframe]`` and ``distributed``).
"""

from __future__ import annotations

from labelwise.distributed.dawid_skene import DaskDawidSkene
from labelwise.distributed.pool import PoolSelection, select_from_pool
from labelwise.distributed.sharded_index import ShardedIndex
from labelwise.distributed.shards import ShardedPool

__all__ = ["DaskDawidSkene"]
__all__ += ["PoolSelection", "ShardedIndex", "ShardedPool", "select_from_pool"]
