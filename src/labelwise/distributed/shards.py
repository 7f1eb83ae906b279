"""A pool split in partitions: ``.npy`` shards read in chunks, arrays, or partitions made
where they are used.

:class:`ShardedPool` is what :func:`~labelwise.distributed.select_from_pool` scores and
:class:`~labelwise.distributed.ShardedIndex` indexes. A partition is read a chunk of
rows at a time (:func:`_chunks`), never whole, so that a worker's memory is bounded by
the chunk and not by the shard.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise._validation import check_number
from labelwise.errors import InputError

__all__ = ["ShardedPool"]

IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class _Shard:
    """One partition: a ``.npy`` file, an array, or ``make(index)`` run where it is scored."""

    rows: int
    path: str | None = None
    array: Any = None
    make: Callable[[int], Any] | None = None
    index: int = 0


def _npy_header(path: Path) -> tuple[tuple[int, ...], np.dtype[Any], int, bool]:
    """(shape, dtype, byte offset of the data, fortran order) of a ``.npy`` file."""
    with open(path, "rb") as f:
        try:
            version = np.lib.format.read_magic(f)
            reader = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, fortran, dtype = reader(f)
        except ValueError as exc:
            raise InputError(f"{path} is not a .npy array file ({exc}).") from None
        return shape, dtype, f.tell(), fortran


@dataclass(frozen=True)
class ShardedPool:
    """An unlabeled pool split in partitions; row ``r`` of partition ``p`` is pool row
    ``offsets[p] + r``.

    Build one with :meth:`from_directory` (``.npy`` shards read in chunks),
    :meth:`from_arrays` (arrays in this process, e.g. memory maps) or
    :meth:`from_function` (each partition made on the worker that scores it, e.g.
    read from object storage or generated).
    """

    shards: tuple[_Shard, ...]
    n_features: int
    offsets: IntArray = field(repr=False)

    @property
    def n_rows(self) -> int:
        """Rows in the whole pool."""
        return int(self.offsets[-1])

    @property
    def n_partitions(self) -> int:
        return len(self.shards)

    def head(self, n_partitions: int) -> ShardedPool:
        """The pool made of the first ``n_partitions`` partitions (rows keep their numbers)."""
        check_number(n_partitions, "n_partitions", "ShardedPool.head", kind=int, low=1)
        return self._build(list(self.shards[:n_partitions]), self.n_features)

    @classmethod
    def _build(cls, shards: list[_Shard], n_features: int) -> ShardedPool:
        if not shards:
            raise InputError("the pool has no partitions.")
        offsets = np.zeros(len(shards) + 1, dtype=np.int64)
        np.cumsum([s.rows for s in shards], out=offsets[1:])
        return cls(tuple(shards), n_features, offsets)

    @classmethod
    def from_directory(cls, path: str | Path, pattern: str = "*.npy") -> ShardedPool:
        """The ``.npy`` files of ``path`` (sorted by name), each a (rows, d) float array."""
        root = Path(path)
        if not root.is_dir():
            raise InputError(f"pool directory {root} does not exist.")
        files = sorted(root.glob(pattern))
        if not files:
            raise InputError(f"pool directory {root} holds no files matching {pattern!r}.")
        shards, dims = [], set()
        for f in files:
            shape, dtype, _, fortran = _npy_header(f)
            if len(shape) != 2 or fortran or dtype.kind != "f":
                raise InputError(
                    f"pool shard {f.name} must be a 2-D C-ordered float array; it is "
                    f"{'Fortran-ordered ' if fortran else ''}{dtype} with shape {shape}."
                )
            dims.add(shape[1])
            shards.append(_Shard(rows=shape[0], path=str(f)))
        if len(dims) != 1:
            raise InputError(f"pool shards in {root} differ in their number of features: {dims}.")
        return cls._build(shards, dims.pop())

    @classmethod
    def from_arrays(cls, arrays: Iterable[ArrayLike]) -> ShardedPool:
        """Partitions already in this process (arrays or ``np.load(..., mmap_mode="r")``)."""
        shards: list[_Shard] = []
        dims = set()
        for a in arrays:
            arr = a if isinstance(a, np.ndarray) else np.asarray(a)
            if arr.ndim != 2:
                raise InputError(f"pool partition {len(shards)} has shape {arr.shape}; need 2-D.")
            dims.add(arr.shape[1])
            shards.append(_Shard(rows=arr.shape[0], array=arr))
        if len(dims) > 1:
            raise InputError(f"pool partitions differ in their number of features: {dims}.")
        return cls._build(shards, dims.pop() if dims else 0)

    @classmethod
    def from_function(
        cls, make: Callable[[int], Any], rows: Iterable[int], n_features: int
    ) -> ShardedPool:
        """Partition ``i`` is ``make(i)`` (shape ``(rows[i], n_features)``), called on the
        worker that scores it, so the data never passes through this process.
        ``make`` must be picklable (a module-level function) and deterministic."""
        shards = [_Shard(rows=int(r), make=make, index=i) for i, r in enumerate(rows)]
        return cls._build(shards, int(n_features))


def _chunks(shard: _Shard, chunk_rows: int) -> Iterator[tuple[int, NDArray[Any]]]:
    """(first row, block) of a partition, ``chunk_rows`` rows at a time."""
    if shard.path is not None:
        shape, dtype, offset, _ = _npy_header(Path(shard.path))
        width = int(shape[1])
        with open(shard.path, "rb") as f:
            for start in range(0, shard.rows, chunk_rows):
                count = min(chunk_rows, shard.rows - start)
                f.seek(offset + start * width * dtype.itemsize)
                block = np.fromfile(f, dtype=dtype, count=count * width)
                yield start, block.reshape(count, width)
        return
    data = shard.make(shard.index) if shard.make is not None else shard.array
    arr = np.asarray(data)
    if arr.shape[0] != shard.rows:
        raise InputError(f"pool partition {shard.index} has {arr.shape[0]} rows, not {shard.rows}.")
    for start in range(0, shard.rows, chunk_rows):
        yield start, np.asarray(arr[start : start + chunk_rows])
