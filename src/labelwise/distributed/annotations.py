"""Annotations past memory: read partition by partition, shuffle by item, encode on the workers.

:class:`DaskAnnotations` is the distributed twin of :class:`labelwise.Annotations`.
It is built in one pass over the input, never collected into one process:

1. every input chunk (a Parquet row-group range, a CSV file, a DataFrame partition)
   is read by a worker task, checked for missing values, and split into
   ``npartitions`` pieces by a hash of the item id, so that all answers of an item
   meet in one partition; the chunk also reports its distinct annotators and labels;
2. the client unions those (small) sets into the shared dictionaries of annotators
   and classes, with the same normalisation rules as the in-memory reader
   (``labelwise._tables``), and broadcasts them;
3. each output partition concatenates its pieces and encodes them into a local
   :class:`labelwise.Annotations`: item codes local to the partition (items sorted
   within it), annotator and class codes global. Duplicated (item, annotator) pairs
   are resolved there, since both answers sit in the same partition.

The encoded partitions stay in the workers' memory as Dask futures (with their
lineage: a lost partition is rebuilt from its input chunks). The estimators of
:mod:`labelwise.aggregate` accept a ``DaskAnnotations`` in ``fit`` and run as
map-reduce over these partitions (:mod:`labelwise.distributed._fit`).
"""

from __future__ import annotations

import glob as globlib
import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from labelwise._progress import ProgressCallback, report
from labelwise._tables import (
    _apply_duplicate_policy,
    _factorize,
    _first_missing_row,
    _normalise_ids,
    normalise_class_names,
)
from labelwise.annotations import Annotations, encode_classes
from labelwise.errors import AnnotationsError, InputError

__all__ = ["DaskAnnotations", "input_files"]

#: Rows per input chunk (Parquet row groups are grouped up to about this many).
CHUNK_ROWS = 4_000_000
#: Answers per output partition, when ``npartitions`` is not given.
PARTITION_ROWS = 5_000_000
_PARQUET = (".parquet", ".pq")
_CSV = (".csv", ".csv.gz", ".tsv", ".tsv.gz")


# ---------------------------------------------------------------- input chunks
@dataclass(frozen=True)
class _Chunk:
    """Where one worker task reads its rows: a file, and for Parquet its row groups."""

    path: str
    row_groups: tuple[int, ...] | None = None
    first_row: int = 0

    def where(self, row: int) -> str:
        return f"file {self.path!r} row {self.first_row + row}"


def _suffix(path: str) -> str:
    name = path.lower()
    return next((s for s in _PARQUET + _CSV if name.endswith(s)), "")


def input_files(path: str | Path) -> list[str]:
    """The Parquet or CSV files a path names: a file, a folder (searched recursively)
    or a glob pattern; sorted, one format only.

    Raises
    ------
    AnnotationsError
        When nothing matches, or the files mix Parquet and CSV or have other extensions.
    """
    text = str(path)
    p = Path(text)
    if p.is_dir():
        files = sorted(str(f) for f in p.rglob("*") if f.is_file() and _suffix(str(f)))
        files = [f for f in files if not any(part.startswith((".", "_")) for part in Path(f).parts)]
        where = f"folder {text!r}"
    elif p.is_file():
        files, where = [text], f"file {text!r}"
    elif any(c in text for c in "*?["):
        files, where = (
            sorted(f for f in globlib.glob(text, recursive=True) if Path(f).is_file()),
            (f"pattern {text!r}"),
        )
    else:
        raise AnnotationsError(f"annotations {text!r} do not exist (no such file or folder).")
    if not files:
        raise AnnotationsError(f"{where} holds no .parquet or .csv file.")
    unknown = [f for f in files if not _suffix(f)]
    if unknown:
        raise AnnotationsError(
            f"{where}: {unknown[0]!r} is neither Parquet nor CSV; use .parquet, .csv or .tsv."
        )
    kinds = {_suffix(f) in _PARQUET for f in files}
    if len(kinds) > 1:
        raise AnnotationsError(f"{where} mixes Parquet and CSV files; keep one format.")
    return files


def _parquet_chunks(files: list[str], columns: list[str], rows: int) -> list[_Chunk]:
    """Row-group ranges of about ``rows`` rows; the footers are read here, the data not."""
    import pyarrow.parquet as pq

    chunks: list[_Chunk] = []
    for f in files:
        try:
            meta = pq.ParquetFile(f)
        except (OSError, ValueError) as exc:
            raise AnnotationsError(f"file {f!r} could not be read as Parquet: {exc}") from None
        names = meta.schema_arrow.names
        missing = [c for c in columns if c not in names]
        if missing:
            raise AnnotationsError(
                f"file {f!r} is missing column(s) {missing}; found columns {names}. Name the "
                "columns with item=, worker=, label= (CLI: --item-col, --worker-col, --label-col)."
            )
        groups: list[int] = []
        n, start = 0, 0
        for g in range(meta.num_row_groups):
            groups.append(g)
            n += meta.metadata.row_group(g).num_rows
            if n >= rows:
                chunks.append(_Chunk(f, tuple(groups), start))
                start, groups, n = start + n, [], 0
        if groups or not chunks or chunks[-1].path != f:
            chunks.append(_Chunk(f, tuple(groups), start))
    return chunks


def _read_chunk(chunk: _Chunk, columns: list[str]) -> pd.DataFrame:
    if chunk.row_groups is not None:
        import pyarrow.parquet as pq

        table = pq.ParquetFile(chunk.path).read_row_groups(list(chunk.row_groups), columns=columns)
        return table.to_pandas()
    sep = "\t" if ".tsv" in chunk.path.lower() else ","
    try:
        frame = pd.read_csv(chunk.path, sep=sep, dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        raise AnnotationsError(f"file {chunk.path!r} is empty.") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise AnnotationsError(
            f"file {chunk.path!r} is missing column(s) {missing}; found columns "
            f"{list(frame.columns)}."
        )
    return frame[columns]


# ------------------------------------------------------------ split by item
@dataclass
class _Split:
    """One input chunk after the map side of the shuffle (lives on a worker)."""

    pieces: list[tuple[NDArray[Any], NDArray[Any], NDArray[Any]]]
    summary: dict[str, Any]


def _split(source: Any, columns: list[str], n_parts: int) -> _Split:
    """Read a chunk, check it, and cut it into ``n_parts`` pieces by hash of the item id."""
    frame = _read_chunk(source, columns) if isinstance(source, _Chunk) else source[columns]
    frame = frame.reset_index(drop=True)

    def where(row: int) -> str:
        return source.where(row) if isinstance(source, _Chunk) else f"row {row}"

    for col in columns:
        row = _first_missing_row(frame[col])
        if row is not None:
            raise AnnotationsError(
                f"column {col!r} has a missing value (NaN or empty) at {where(row)}."
            )
    item_col, worker_col, label_col = columns
    items = frame[item_col].to_numpy()
    bucket = (pd.util.hash_array(items) % np.uint64(n_parts)).astype(np.uint16)
    order = np.argsort(bucket, kind="stable")  # a radix sort on 16-bit keys: O(n)
    bounds = np.searchsorted(bucket[order], np.arange(n_parts + 1))
    cols = [frame[c].to_numpy()[order] for c in columns]
    pieces = [tuple(c[bounds[j] : bounds[j + 1]] for c in cols) for j in range(n_parts)]
    kind = _normalise_ids(frame[item_col].iloc[: min(len(frame), 1_000_000)]).dtype
    summary = {
        "rows": len(frame),
        "item_text": kind.kind not in "iuf",
        "workers": pd.unique(frame[worker_col]),
        "labels": pd.unique(frame[label_col]),
    }
    return _Split(pieces, summary)  # type: ignore[arg-type]


def _piece(split: _Split, j: int) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
    return split.pieces[j]


def _identity(value: Any) -> Any:
    return value


def _summary(split: _Split) -> dict[str, Any]:
    return split.summary


# --------------------------------------------------------- shared dictionary
@dataclass(frozen=True)
class _Plan:
    """The shared dictionaries every partition encodes with (broadcast once)."""

    columns: tuple[str, str, str]
    item_text: bool
    worker_ids: NDArray[Any]
    worker_text: bool
    label_raw: pd.Index
    label_code: NDArray[np.int32]
    classes: NDArray[Any]
    duplicates: str


def _ids_like(raw: NDArray[Any], as_text: bool) -> pd.Series:
    """Ids by the global rule: text when any chunk has a non-integer id, else integers."""
    series = pd.Series(raw)
    return series.astype(str) if as_text else _normalise_ids(series)


def _make_plan(
    summaries: list[dict[str, Any]],
    columns: tuple[str, str, str],
    classes: Sequence[Any] | None,
    duplicates: str,
) -> _Plan:
    worker_raw = pd.Series(np.concatenate([s["workers"] for s in summaries])).drop_duplicates()
    workers = _normalise_ids(worker_raw.reset_index(drop=True))
    _, worker_ids = _factorize(workers)
    label_raw = pd.Series(np.concatenate([s["labels"] for s in summaries])).drop_duplicates()
    label_raw = label_raw.reset_index(drop=True)
    names = normalise_class_names(label_raw, column=f"column {columns[2]!r}")
    label_code, class_arr = encode_classes(names, classes, columns[2], rows=False)
    return _Plan(
        columns=columns,
        item_text=any(s["item_text"] for s in summaries),
        worker_ids=np.asarray(worker_ids),
        worker_text=workers.dtype.kind not in "iuf",
        label_raw=pd.Index(label_raw.to_numpy()),
        label_code=label_code,
        classes=np.asarray(class_arr),
        duplicates=duplicates,
    )


# ------------------------------------------------------------ the partitions
@dataclass(eq=False)
class Block:
    """One partition on a worker: its answers as a local :class:`Annotations`.

    ``ann.item`` codes are local (into ``ann.item_ids``, sorted), ``ann.worker``
    and ``ann.label`` codes are the global ones. ``cache`` keeps what a fit derives
    from the block (answer matrices, gold codes); it is rebuilt after a loss.
    """

    ann: Annotations
    index: int
    cache: dict[Any, Any] = field(default_factory=dict, repr=False)


def _encode(plan: _Plan, index: int, *pieces: tuple[NDArray[Any], ...]) -> Block:
    item_col, worker_col, _ = plan.columns
    raw_item, raw_worker, raw_label = (np.concatenate([p[c] for p in pieces]) for c in range(3))
    items = _ids_like(raw_item, plan.item_text)
    item_codes, item_ids = _factorize(items)
    workers = _ids_like(raw_worker, plan.worker_text)
    worker_codes = _lookup(plan.worker_ids, workers.to_numpy())
    label_codes = plan.label_code[plan.label_raw.get_indexer(raw_label)]
    item_codes, worker_codes, label_codes, _ = _apply_duplicate_policy(
        item_codes,
        worker_codes,
        label_codes,
        plan.duplicates,
        item_ids,
        plan.worker_ids,
        (item_col, worker_col),
    )
    ann = Annotations(
        item=item_codes,
        worker=worker_codes,
        label=label_codes,
        item_ids=item_ids,
        worker_ids=plan.worker_ids,
        classes=plan.classes,
    )
    return Block(ann, index)


def _lookup(ids: NDArray[Any], values: NDArray[Any]) -> NDArray[np.int32]:
    """Codes of ``values`` in the sorted ``ids``: a table for compact integer ids (no
    hashing), else a hash index."""
    if ids.dtype.kind in "iu" and values.dtype.kind in "iu" and ids.size:
        lo, hi = int(ids[0]), int(ids[-1])
        if hi - lo <= 4 * ids.size + 1024 and values.min() >= lo and values.max() <= hi:
            table = np.full(hi - lo + 1, -1, dtype=np.int32)
            table[ids - lo] = np.arange(ids.size, dtype=np.int32)
            return table[values - lo]
    return pd.Index(ids).get_indexer(values).astype(np.int32)


def _block_counts(block: Block) -> dict[str, Any]:
    """What the client keeps of a partition: sizes and answers per annotator."""
    ann = block.ann
    per_item = ann.annotations_per_item()
    return {
        "annotations": ann.n_annotations,
        "items": ann.n_items,
        "max_per_item": int(per_item.max(initial=0)),
        "per_worker": ann.annotations_per_worker(),
    }


def default_client(client: Any) -> Any:
    """``client``, or the Dask client this process already has (``get_client``)."""
    if client is not None:
        return client
    from distributed import get_client

    try:
        return get_client()
    except ValueError:
        raise InputError(
            "no Dask client: pass client=, or start one with labelwise.distributed.connect() "
            "or dask.distributed.Client()."
        ) from None


class DaskAnnotations:
    """Annotations held as item-partitioned blocks in Dask workers' memory.

    Build it with :meth:`read` (Parquet/CSV files, a folder or a glob) or
    :meth:`from_frame` (a pandas or dask DataFrame). Pass it to an aggregator's
    ``fit`` like an :class:`labelwise.Annotations`:
    ``DawidSkene().fit(DaskAnnotations.read("answers/", client=client))``.

    Attributes
    ----------
    blocks : list of Future
        One :class:`Block` per partition, kept in the workers' memory.
    worker_ids, classes : ndarray
        The shared dictionaries (sorted annotator ids, class names in code order).
    n_annotations, n_items, n_workers, n_classes, npartitions : int
    annotations_per_worker : ndarray (n_workers,)
    client : distributed.Client
    progress : callable or None
        ``progress(stage, done, total)``, called by the fits (EM iterations) too.
    """

    _is_distributed = True

    def __init__(
        self,
        client: Any,
        blocks: list[Any],
        plan: _Plan,
        counts: list[dict[str, Any]],
        progress: ProgressCallback | None = None,
    ):
        self.client = client
        self.blocks = blocks
        self.worker_ids = plan.worker_ids
        self.classes = plan.classes
        self.columns = plan.columns
        self.item_text = plan.item_text
        self.n_annotations = int(sum(c["annotations"] for c in counts))
        self.n_items = int(sum(c["items"] for c in counts))
        self.max_annotations_per_item = max(c["max_per_item"] for c in counts)
        self.annotations_per_worker = np.sum([c["per_worker"] for c in counts], axis=0)
        self.progress = progress

    @property
    def n_workers(self) -> int:
        return int(self.worker_ids.shape[0])

    @property
    def n_classes(self) -> int:
        return int(self.classes.shape[0])

    @property
    def npartitions(self) -> int:
        return len(self.blocks)

    def __len__(self) -> int:
        return self.n_annotations

    def __repr__(self) -> str:
        return (
            f"DaskAnnotations(n_annotations={self.n_annotations}, n_items={self.n_items}, "
            f"n_workers={self.n_workers}, classes={self.classes.tolist()!r}, "
            f"npartitions={self.npartitions})"
        )

    # ---------------------------------------------------------- constructors
    @classmethod
    def read(
        cls,
        path: str | Path,
        *,
        client: Any = None,
        item: str = "item",
        worker: str = "worker",
        label: str = "label",
        classes: Sequence[Any] | None = None,
        duplicates: Literal["error", "keep_last", "keep_all"] = "error",
        npartitions: int | None = None,
        chunk_rows: int = CHUNK_ROWS,
        progress: ProgressCallback | None = None,
    ) -> DaskAnnotations:
        """Read a Parquet or CSV file, folder or glob on the cluster, chunk by chunk.

        The workers read the files (so the path must be reachable from them: a shared
        file system on a real cluster). Parquet is read by row groups, CSV one file
        per task. See :class:`labelwise.Annotations` for the parameters; ``npartitions``
        defaults to one per 5 million answers and at least two per worker.

        Raises
        ------
        AnnotationsError
            Naming the file and row: no matching file, a missing column or value,
            a label outside ``classes``, fewer than two classes, a duplicated
            (item, worker) pair under ``duplicates="error"``.
        """
        client = default_client(client)
        columns = [item, worker, label]
        files = input_files(path)
        if _suffix(files[0]) in _PARQUET:
            chunks = _parquet_chunks(files, columns, chunk_rows)
            total = sum(_parquet_rows(c) for c in chunks)
        else:
            chunks = [_Chunk(f) for f in files]
            total = None
        return cls._build(
            client, chunks, columns, total, classes, duplicates, npartitions, progress
        )

    @classmethod
    def from_frame(
        cls,
        frame: Any,
        *,
        client: Any = None,
        item: str = "item",
        worker: str = "worker",
        label: str = "label",
        classes: Sequence[Any] | None = None,
        duplicates: Literal["error", "keep_last", "keep_all"] = "error",
        npartitions: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> DaskAnnotations:
        """From a dask DataFrame (its partitions are the input chunks) or a pandas one
        (cut into ``npartitions`` chunks and scattered to every worker: such chunks
        have no files to be re-read from, so a worker lost during a fit is survived
        only while another holds a copy)."""
        client = default_client(client)
        columns = [item, worker, label]
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise AnnotationsError(
                f"annotations are missing column(s) {missing}; found columns {list(frame.columns)}."
            )
        if isinstance(frame, pd.DataFrame):
            n = max(1, npartitions or 2 * _n_workers(client))
            bounds = np.linspace(0, len(frame), n + 1).astype(int)
            parts = [frame.iloc[a:b][columns] for a, b in itertools.pairwise(bounds) if b > a]
            sources = client.scatter(parts, broadcast=True) if parts else []
            total: int | None = len(frame)
        else:  # a dask DataFrame: its partitions are computed on the workers
            sources = client.compute(frame[columns].to_delayed())
            total = None
        return cls._build(
            client, sources, columns, total, classes, duplicates, npartitions, progress
        )

    @classmethod
    def _build(
        cls,
        client: Any,
        sources: list[Any],
        columns: list[str],
        total: int | None,
        classes: Sequence[Any] | None,
        duplicates: str,
        npartitions: int | None,
        progress: ProgressCallback | None,
    ) -> DaskAnnotations:
        if duplicates not in ("error", "keep_last", "keep_all"):
            raise AnnotationsError(
                "The 'duplicates' parameter must be one of 'error', 'keep_last', 'keep_all'. "
                f"Got {duplicates!r} instead."
            )
        if total == 0 or not sources:
            raise AnnotationsError("annotations are empty: the table has no rows.")
        from distributed import wait

        n_parts = npartitions or max(2 * _n_workers(client), -(-(total or 0) // PARTITION_ROWS))
        token = uuid.uuid4().hex[:8]
        splits = client.map(
            _split,
            sources,
            columns=columns,
            n_parts=n_parts,
            key=[f"labelwise-split-{token}-{i}" for i in range(len(sources))],
        )
        summaries_f = client.map(
            _summary, splits, key=[f"labelwise-summary-{token}-{i}" for i in range(len(splits))]
        )
        summaries = []
        for i, fut in enumerate(summaries_f):
            summaries.append(fut.result())
            report(progress, "reading and splitting by item", i + 1, len(summaries_f))
        if sum(s["rows"] for s in summaries) == 0:
            raise AnnotationsError("annotations are empty: the table has no rows.")
        plan = _make_plan(summaries, tuple(columns), classes, duplicates)  # type: ignore[arg-type]
        # a task holding the plan, not scattered data: a worker lost later can
        # rebuild it (scattered data has no lineage and would be lost with it)
        plan_f = client.submit(_identity, plan, key=f"labelwise-plan-{token}")
        blocks = []
        for j in range(n_parts):
            pieces = [
                client.submit(_piece, s, j, key=f"labelwise-piece-{token}-{i}-{j}")
                for i, s in enumerate(splits)
            ]
            blocks.append(
                client.submit(_encode, plan_f, j, *pieces, key=f"labelwise-block-{token}-{j}")
            )
        del splits, summaries_f
        counts_f = client.map(
            _block_counts, blocks, key=[f"labelwise-counts-{token}-{j}" for j in range(n_parts)]
        )
        counts = []
        for j, fut in enumerate(counts_f):
            counts.append(fut.result())
            report(progress, "encoding partitions", j + 1, n_parts)
        wait(blocks)
        return cls(client, blocks, plan, counts, progress)

    def to_annotations(self) -> Annotations:
        """Collect everything into one in-memory :class:`Annotations` (small data only)."""
        parts = [b.ann for b in self.client.gather(self.blocks)]
        offsets = np.cumsum([0] + [p.n_items for p in parts])
        return Annotations(
            item=np.concatenate([p.item + o for p, o in zip(parts, offsets, strict=False)]).astype(
                np.int32
            ),
            worker=np.concatenate([p.worker for p in parts]),
            label=np.concatenate([p.label for p in parts]),
            item_ids=np.concatenate([p.item_ids for p in parts]),
            worker_ids=self.worker_ids,
            classes=self.classes,
        )

    def release(self) -> None:
        """Drop the partitions from the workers' memory."""
        for b in self.blocks:
            b.release()
        self.blocks = []


def _parquet_rows(chunk: _Chunk) -> int:
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(chunk.path).metadata
    return int(sum(meta.row_group(g).num_rows for g in chunk.row_groups or ()))


def _n_workers(client: Any) -> int:
    from labelwise.distributed._cluster import n_workers

    return n_workers(client)
