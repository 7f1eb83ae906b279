"""labelwise past one machine: the same estimators over Dask collections.

Needs the optional extra ``labelwise[dask]`` (``dask[dataframe]`` and ``distributed``).
"""

from __future__ import annotations

from labelwise.distributed.dawid_skene import DaskDawidSkene

__all__ = ["DaskDawidSkene"]
