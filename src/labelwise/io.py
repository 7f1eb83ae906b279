"""Reading features and labels, and writing result tables without half-written files.

The CLI and the report call these; the library's algorithms take arrays.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from labelwise.annotations import read_table
from labelwise.errors import InputError

__all__ = ["atomic_write", "read_features", "read_labels", "write_frame"]


def read_features(
    path: str | Path, *, id_column: str | None = None
) -> tuple[NDArray[Any], NDArray[np.float64]]:
    """Read a feature matrix; return ``(ids, X)``.

    ``.npy`` holds the matrix alone (ids are row numbers); ``.npz`` an array
    ``X`` (or the first array) and optional ``ids``; CSV/Parquet a table whose
    numeric columns are the features and whose ``id_column`` (default: a column
    named ``id`` or ``item`` when present) gives the ids.

    Raises :class:`InputError` for a missing file, a non-2-D array or a NaN cell
    (naming row and column).
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"features file {str(p)!r} does not exist.")
    suffix = p.suffix.lower()
    ids: NDArray[Any] | None = None
    if suffix == ".npy":
        X = np.load(p, allow_pickle=False)
    elif suffix == ".npz":
        with np.load(p, allow_pickle=False) as z:
            key = "X" if "X" in z.files else z.files[0]
            X = z[key]
            ids = z["ids"] if "ids" in z.files else None
    else:
        df = read_table(p, what="features")
        col = id_column or next((c for c in ("id", "item") if c in df.columns), None)
        if col is not None:
            if col not in df.columns:
                raise InputError(f"features file {str(p)!r} has no id column {col!r}.")
            ids = df[col].to_numpy()
            df = df.drop(columns=[col])
        try:
            X = df.apply(pd.to_numeric).to_numpy(np.float64)
        except (ValueError, TypeError) as exc:
            raise InputError(f"features file {str(p)!r} has a non-numeric column: {exc}") from exc
    X = np.asarray(X)
    if X.ndim != 2:
        X = X.reshape(X.shape[0], -1) if X.ndim > 2 else X
    if X.ndim != 2:
        raise InputError(
            f"features in {str(p)!r} must be 2-D (rows x features); got shape {X.shape}."
        )
    X = X.astype(np.float64, copy=False)
    finite = np.isfinite(X).all(axis=1)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        col_i = int(np.flatnonzero(~np.isfinite(X[row]))[0])
        raise InputError(
            f"features in {str(p)!r} have a NaN or infinite value at row {row}, column {col_i}."
        )
    if ids is None:
        ids = np.arange(X.shape[0])
    return ids, X


def read_labels(path: str | Path, *, column: str = "label", n_rows: int | None = None) -> pd.Series:
    """Read labels: a ``.npy`` vector, or a table column ``column`` (missing = unlabeled).

    Returns a Series indexed by row; unlabeled rows hold ``NaN``/``None``. When
    ``n_rows`` is given the length must match.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"labels file {str(p)!r} does not exist.")
    if p.suffix.lower() == ".npy":
        s = pd.Series(np.load(p, allow_pickle=False))
    else:
        df = read_table(p, what="labels")
        if column not in df.columns:
            if df.shape[1] == 1:
                column = df.columns[0]
            else:
                raise InputError(
                    f"labels file {str(p)!r} has no column {column!r}; found {list(df.columns)}."
                )
        s = df[column].reset_index(drop=True)
    if n_rows is not None and len(s) != n_rows:
        raise InputError(
            f"labels file {str(p)!r} has {len(s)} rows but the features have {n_rows}."
        )
    return s


def atomic_write(path: str | Path, write: Any) -> Path:
    """Call ``write(tmp_path)`` and move the result onto ``path`` only if it succeeded.

    So a failure never leaves a half-written output file behind.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        # mkstemp creates the file 0600; give it the mode a plain open() would have
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_frame(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a table as CSV, TSV, JSON Lines or Parquet (by extension), atomically."""
    target = Path(path)
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
