"""Reading features and labels, and writing result tables without half-written files.

The CLI and the report call these; the library's algorithms take arrays. Every
failure is an :class:`~labelwise.errors.InputError` naming the file (and the row,
column or value): a ``.npy`` that holds Python objects or is not an array at all,
labels whose ids do not match the features, an output that names a folder, an
unknown output format, a folder without write permission.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from labelwise._lazy import lazy_module
from labelwise._tables import normalise_class_names, read_table
from labelwise.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = [
    "TABLE_FORMATS",
    "atomic_write",
    "check_output_folder",
    "check_output_path",
    "read_features",
    "read_labels",
    "write_columns",
    "write_frame",
]

#: Output table formats by extension (``-o`` on every command).
TABLE_FORMATS = (".csv", ".tsv", ".jsonl", ".ndjson", ".parquet", ".pq")

#: Column names taken as the item id of a features or labels table, in this order.
ID_COLUMNS = ("id", "item")


def _load_array(path: Path, what: str) -> NDArray[Any]:
    """``np.load`` without pickles; a file numpy cannot read becomes an :class:`InputError`."""
    try:
        loaded = np.load(path, allow_pickle=False)
    except ValueError as exc:
        why = (
            "it holds Python objects (an object-dtype array); save a numeric array, "
            "e.g. np.save(path, X.astype(float))"
            if "allow_pickle" in str(exc)
            else f"numpy cannot read it ({exc})"
        )
        raise InputError(f"{what} file {str(path)!r} cannot be loaded: {why}.") from None
    except (OSError, EOFError) as exc:
        raise InputError(
            f"{what} file {str(path)!r} is not a numpy {path.suffix} file ({exc})."
        ) from None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded as z:
            if not z.files:
                raise InputError(f"{what} file {str(path)!r} holds no arrays.")
            try:
                return {k: z[k] for k in z.files}  # type: ignore[return-value]
            except ValueError:
                raise InputError(
                    f"{what} file {str(path)!r} cannot be loaded: an array holds Python objects."
                ) from None
    return np.asarray(loaded)


def _npz_parts(arrays: dict[str, NDArray[Any]], path: Path) -> tuple[NDArray[Any], Any]:
    """Features and ids from an ``.npz``: ``X`` (else the first numeric array of 2+
    dimensions, e.g. ``images``) and ``ids`` (else ``id`` or ``item``)."""
    key = "X" if "X" in arrays else None
    if key is None:
        key = next(
            (k for k, a in arrays.items() if a.ndim >= 2 and a.dtype.kind in "biuf"),
            next(iter(arrays)),
        )
    ids = next((arrays[k] for k in ("ids", *ID_COLUMNS) if k in arrays and k != key), None)
    if ids is not None and ids.ndim != 1:
        raise InputError(f"features file {str(path)!r}: ids must be 1-D; got shape {ids.shape}.")
    return arrays[key], ids


def _numeric_matrix(X: NDArray[Any], path: Path) -> NDArray[np.float64]:
    if X.dtype.kind not in "biuf":
        raise InputError(
            f"features in {str(path)!r} must be numbers; got an array of dtype {X.dtype} "
            f"(first value {X.reshape(-1)[:1].tolist()})."
        )
    if X.ndim > 2:
        X = X.reshape(X.shape[0], -1)
    if X.ndim != 2:
        raise InputError(
            f"features in {str(path)!r} must be 2-D (rows x features); got shape {X.shape}."
        )
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise InputError(f"features in {str(path)!r} are empty (shape {X.shape}).")
    X = X.astype(np.float64, copy=False)
    finite = np.isfinite(X).all(axis=1)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        col_i = int(np.flatnonzero(~np.isfinite(X[row]))[0])
        raise InputError(
            f"features in {str(path)!r} have a NaN or infinite value at row {row}, column {col_i}."
        )
    return X


def read_features(
    path: str | Path, *, id_column: str | None = None
) -> tuple[NDArray[Any], NDArray[np.float64]]:
    """Read a feature matrix; return ``(ids, X)``.

    ``.npy`` holds the matrix alone (ids are row numbers); ``.npz`` an array
    ``X`` (else its first numeric array of two or more dimensions, such as ``images``,
    flattened per row) and optional ``ids`` (or ``id``, ``item``); CSV/Parquet a table whose
    numeric columns are the features and whose ``id_column`` (default: a column
    named ``id`` or ``item`` when present) gives the ids.

    Raises :class:`InputError` for a missing file, a non-2-D array or a NaN cell
    (naming row and column).
    """
    p = Path(path)
    if not p.is_file():
        state = "is a folder" if p.is_dir() else "does not exist"
        raise InputError(f"features file {str(p)!r} {state}.")
    suffix = p.suffix.lower()
    ids: NDArray[Any] | None = None
    if suffix in (".npy", ".npz"):
        loaded: Any = _load_array(p, "features")
        if isinstance(loaded, dict):
            X, ids = _npz_parts(loaded, p)
        else:
            X = loaded
    else:
        df = read_table(p, what="features")
        col = id_column or next((c for c in ID_COLUMNS if c in df.columns), None)
        if col is not None:
            if col not in df.columns:
                raise InputError(f"features file {str(p)!r} has no id column {col!r}.")
            ids = df[col].to_numpy()
            df = df.drop(columns=[col])
        for name in df.columns:
            values = pd.to_numeric(df[name], errors="coerce")
            bad = values.isna() & df[name].notna()
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise InputError(
                    f"features file {str(p)!r} column {name!r} row {row} is not a number: "
                    f"{df[name].iloc[row]!r}."
                )
            df[name] = values
        X = df.to_numpy(np.float64)
    X = _numeric_matrix(np.asarray(X), p)
    if ids is not None and len(ids) != X.shape[0]:
        raise InputError(f"features file {str(p)!r} has {len(ids)} ids for {X.shape[0]} rows.")
    if ids is None:
        ids = np.arange(X.shape[0])
    return ids, X


def read_labels(
    path: str | Path,
    *,
    column: str = "label",
    n_rows: int | None = None,
    ids: NDArray[Any] | None = None,
    id_column: str | None = None,
) -> pd.Series:
    """Read labels: a ``.npy`` vector, or a table column ``column`` (missing = unlabeled).

    Parameters
    ----------
    path : str or Path
        ``.npy`` (one label per feature row) or a CSV/TSV/JSONL/Parquet table.
    column : str
        The label column of a table (a one-column table needs no name).
    n_rows : int, optional
        The number of feature rows; labels without ids must have exactly this many.
    ids : array (n_rows,), optional
        The features' item ids (row numbers for a bare ``.npy``). When the labels
        table has an id column (``id_column``, else ``id`` or ``item``), each label is
        matched to its item **by id**, never by position: rows may come in any order,
        items without a row are unlabeled, and an id that is not among the features
        (or appears twice) is an error.

    Returns
    -------
    Series, shape (n_rows,)
        Aligned with the feature rows; unlabeled rows hold ``NaN``/``None``. Class
        names follow :func:`labelwise._tables.normalise_class_names` (surrounding
        spaces removed, a warning for names that differ only in case or number format).
    """
    p = Path(path)
    if not p.is_file():
        state = "is a folder" if p.is_dir() else "does not exist"
        raise InputError(f"labels file {str(p)!r} {state}.")
    id_col = None
    if p.suffix.lower() == ".npy":
        arr = _load_array(p, "labels")
        if arr.ndim != 1:
            raise InputError(f"labels in {str(p)!r} must be 1-D; got shape {arr.shape}.")
        s = pd.Series(arr)
    else:
        df = read_table(p, what="labels")
        id_col = id_column or next((c for c in ID_COLUMNS if c in df.columns), None)
        if id_column is not None and id_column not in df.columns:
            raise InputError(
                f"labels file {str(p)!r} has no id column {id_column!r}; found {list(df.columns)}."
            )
        if column not in df.columns:
            rest = [c for c in df.columns if c != id_col]
            if len(rest) == 1:
                column = rest[0]
            else:
                raise InputError(
                    f"labels file {str(p)!r} has no column {column!r}; found {list(df.columns)}."
                )
        s = df[column].reset_index(drop=True)
        if id_col is not None and ids is None and n_rows is not None:
            ids = np.arange(n_rows)  # bare features: the ids are the row numbers
        if id_col is not None and ids is not None:
            s = _align_by_id(df[id_col], s, ids, p, id_col)
    s = normalise_class_names(s, column=f"{str(p)!r} column {column!r}", missing_ok=True)
    if n_rows is not None and len(s) != n_rows:
        raise InputError(
            f"labels file {str(p)!r} has {len(s)} rows but the features have {n_rows}; "
            f"add an id column ({' or '.join(ID_COLUMNS)}) to match labels to items by id."
        )
    return s


def _align_by_id(
    label_ids: pd.Series, labels: pd.Series, ids: NDArray[Any], path: Path, id_col: str
) -> pd.Series:
    """Labels reordered to the feature ids; ids compared as text when their types differ."""
    from labelwise._tables import _normalise_ids

    want = pd.Index(_normalise_ids(pd.Series(ids)))
    got = _normalise_ids(label_ids.reset_index(drop=True))
    if want.inferred_type != pd.Index(got).inferred_type:
        want = pd.Index(pd.Series(ids).astype(str).str.strip())
        got = got.astype(str).str.strip()
    if not want.is_unique:
        dup = want[want.duplicated()][0]
        raise InputError(f"the features' ids repeat ({dup!r}): labels cannot be matched by id.")
    dup_rows = np.flatnonzero(got.duplicated().to_numpy())
    if dup_rows.size:
        row = int(dup_rows[0])
        raise InputError(
            f"labels file {str(path)!r} column {id_col!r} row {row} repeats id {got.iloc[row]!r}."
        )
    pos = want.get_indexer(got)
    if (pos < 0).any():
        row = int(np.flatnonzero(pos < 0)[0])
        raise InputError(
            f"labels file {str(path)!r} column {id_col!r} row {row} has id {got.iloc[row]!r}, "
            f"which is not among the features' ids ({int((pos < 0).sum())} unmatched in all; "
            f"features' ids look like {want[:3].tolist()})."
        )
    out = pd.Series([None] * len(want), dtype=object)
    out.iloc[pos] = labels.to_numpy(dtype=object)
    if labels.dtype.kind in "iuf" and len(pos) == len(want):
        return out.astype(labels.dtype)
    return out


def check_output_path(
    path: str | Path, *, what: str = "output", formats: tuple[str, ...] = TABLE_FORMATS
) -> Path:
    """Return ``path`` if a table can be written there, else raise :class:`InputError`.

    Checked before any work starts, so that a long run does not end in an error:
    a folder instead of a file, an extension that is not a known format (no CSV text
    in an ``.xlsx``), a parent that is a file, a folder without write permission.
    """
    p = Path(path)
    if p.is_dir():
        raise InputError(
            f"{what} {str(p)!r} is a folder; name a file in it, e.g. {str(p / 'out.csv')!r}."
        )
    suffix = p.suffix.lower()
    if suffix not in formats:
        shown = f"{suffix!r}" if suffix else "no extension"
        raise InputError(
            f"{what} {str(p)!r}: unknown format ({shown}); use one of {', '.join(formats)}."
        )
    parent = p.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"cannot write {what} {str(p)!r}: {str(parent)!r} is a file.")
    _probe_writable(parent, p, what)
    return p


def _probe_writable(folder: Path, target: Path, what: str) -> None:
    """Create and remove a scratch file in ``folder``: the only test that also holds for
    root, read-only mounts and pseudo file systems (``os.access`` says yes to root)."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        reason = "no write permission" if isinstance(exc, PermissionError) else exc.strerror
        raise InputError(
            f"cannot write {what} {str(target)!r}: {reason or exc} in {str(folder)!r}."
        ) from None


def check_output_folder(path: str | Path, *, what: str = "output folder") -> Path:
    """Return ``path`` if a folder can be made or written there, else raise InputError."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise InputError(f"{what} {str(p)!r} is a file; name a folder.")
    parent = p
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"cannot create {what} {str(p)!r}: {str(parent)!r} is a file.")
    _probe_writable(parent, p, what)
    return p


def atomic_write(path: str | Path, write: Callable[[Path], Any]) -> Path:
    """Call ``write(tmp_path)`` and move the result onto ``path`` only if it succeeded.

    So a failure never leaves a half-written output file behind. An operating-system
    refusal (a folder in the way, no permission, a full disk) becomes an
    :class:`InputError` naming the path.
    """
    target = Path(path)
    if target.is_dir():
        raise InputError(f"cannot write {str(target)!r}: it is a folder.")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as exc:
        raise InputError(f"cannot write {str(target)!r}: {exc.strerror or exc}.") from None
    os.close(fd)
    try:
        write(Path(tmp))
        # mkstemp creates the file 0600; give it the mode a plain open() would have
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"cannot write {str(target)!r}: {exc.strerror or exc}.") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_frame(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a table as CSV, TSV, JSON Lines or Parquet (by extension), atomically.

    Raises :class:`InputError` for an unknown extension (see :func:`check_output_path`).
    """
    target = check_output_path(path)
    suffix = target.suffix.lower()

    def _write(tmp: Path) -> None:
        if suffix in (".parquet", ".pq"):
            frame.to_parquet(tmp, index=False)
        elif suffix in (".jsonl", ".ndjson"):
            frame.to_json(tmp, orient="records", lines=True)
        elif suffix == ".tsv":
            frame.to_csv(tmp, sep="\t", index=False)
        else:
            frame.to_csv(tmp, index=False)

    return atomic_write(target, _write)


def write_columns(columns: Mapping[str, NDArray[Any]], path: str | Path) -> Path:
    """Write named equal-length columns like :func:`write_frame`, atomically.

    CSV and TSV are written with the standard library, byte for byte what pandas'
    ``to_csv`` writes (empty cells for missing values, floats in their shortest
    round-trip form), so a small CLI call need not import pandas; other formats go
    through :func:`write_frame`.
    """
    target = check_output_path(path)
    suffix = target.suffix.lower()
    if suffix not in (".csv", ".tsv"):
        return write_frame(pd.DataFrame(dict(columns)), target)
    import csv

    cells = [_csv_cells(np.asarray(values)) for values in columns.values()]

    def _write(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(
                fh, delimiter="\t" if suffix == ".tsv" else ",", lineterminator="\n"
            )
            writer.writerow(list(columns))
            writer.writerows(zip(*cells, strict=True))

    return atomic_write(target, _write)


def _csv_cells(values: NDArray[Any]) -> list[str]:
    """One column's cells as pandas' ``to_csv`` writes them."""
    if values.dtype.kind == "f":
        return ["" if v != v else repr(v) for v in values.astype(np.float64).tolist()]
    if values.dtype.kind in "iub":
        return [str(v) for v in values.tolist()]
    return ["" if v is None or v != v else str(v) for v in values.tolist()]
