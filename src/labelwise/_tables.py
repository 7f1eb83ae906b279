"""Reading tables and encoding id and label columns: the door every table comes through.

``Annotations`` (and gold labels) are built from these: a reader that picks the format
by extension and names the file in every error, and encoders that turn id columns into
integer codes in one pass without altering ids (``"007"`` stays a string).

The rules for values, the same for annotations, gold, labels and features files:

- **Missing** is an empty cell (CSV/TSV), a JSON ``null`` or a Python ``None``/``NaN``.
  The *text* ``None``, ``NA``, ``null``, ``NaN`` or ``n/a`` is a value: a valid class
  or id name (pandas' default of reading them as missing is switched off).
- **Integer ids** written as text (``"42"``) become integers when every value in the
  column is an integer literal that fits in int64; otherwise the column stays text
  (``"007"``, an id beyond int64), so ids are never altered or overflow.
- **Class names** (:func:`normalise_class_names`) are compared by their text with
  surrounding spaces removed: ``" cat"`` and ``"cat"`` are one class, and so are the
  number ``1`` and the text ``"1"`` (a CSV cannot tell them apart, so neither does the
  library). Anything else is a different class (``"cat"``/``"Cat"``, ``"1"``/``"1.0"``),
  and a :class:`~labelwise.errors.SimilarClassesWarning` names such near-identical
  pairs; declare ``classes=`` (CLI ``--classes``) to make an unexpected name an error.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from labelwise._lazy import lazy_module
from labelwise.errors import AnnotationsError, SimilarClassesWarning

if TYPE_CHECKING:
    import pandas as pd
    import scipy.sparse as sp
else:
    pd = lazy_module("pandas")
    sp = lazy_module("scipy.sparse")

__all__ = ["normalise_class_names", "read_gold", "read_table"]

# an integer literal of at most 18 digits always fits in int64
_INT_LITERAL = r"-?(0|[1-9][0-9]{0,17})"


def read_table(path: str | Path, *, what: str = "annotations") -> pd.DataFrame:
    """Read a CSV, TSV, JSON Lines or Parquet file into a DataFrame by its extension.

    Raises :class:`AnnotationsError` for a missing file, an unknown extension or an
    empty file, naming the path.
    """
    p = Path(path)
    if not p.exists():
        raise AnnotationsError(f"{what} file {str(p)!r} does not exist.")
    suffixes = "".join(p.suffixes[-2:]).lower()
    try:
        if suffixes.endswith((".parquet", ".pq")):
            df = pd.read_parquet(p)
        elif suffixes.endswith((".jsonl", ".ndjson", ".jsonl.gz")):
            df = _read_jsonl(p)
        elif suffixes.endswith((".tsv", ".tsv.gz")):
            df = pd.read_csv(p, sep="\t", dtype=str, keep_default_na=False, na_values=[""])
        elif suffixes.endswith((".csv", ".csv.gz", ".txt")):
            df = pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""])
        else:
            raise AnnotationsError(
                f"{what} file {str(p)!r}: unknown extension; use .csv, .tsv, .jsonl or .parquet."
            )
    except pd.errors.EmptyDataError:
        raise AnnotationsError(f"{what} file {str(p)!r} is empty.") from None
    except IsADirectoryError:
        raise AnnotationsError(f"{what} file {str(p)!r} is a folder.") from None
    except (OSError, UnicodeDecodeError, OverflowError) as exc:
        raise AnnotationsError(f"{what} file {str(p)!r} could not be read: {exc}") from None
    except ValueError as exc:
        if isinstance(exc, AnnotationsError):
            raise
        raise AnnotationsError(f"{what} file {str(p)!r} could not be parsed: {exc}") from exc
    if len(df) == 0:
        raise AnnotationsError(f"{what} file {str(p)!r} has a header but no rows.")
    return df


def _read_jsonl(path: Path) -> pd.DataFrame:
    """JSON Lines; integers beyond int64 (which pandas' reader refuses) are kept as text."""
    try:
        return pd.read_json(path, lines=True, dtype=False)
    except ValueError as exc:
        if "too big" not in str(exc):
            raise
    import gzip
    import json

    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh if line.strip()]
    frame = pd.DataFrame.from_records(records)
    for col in frame.columns:
        if frame[col].map(lambda v: isinstance(v, int) and not -(2**63) <= v < 2**63).any():
            frame[col] = frame[col].map(lambda v: v if v is None else str(v))
    return frame


def _normalise_ids(values: pd.Series) -> pd.Series:
    """Map ids read as strings back to ints when every one is an integer literal.

    CSV readers give strings; "007" stays a string so that ids are never altered.
    """
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        s = values.astype(str)
        if s.str.fullmatch(_INT_LITERAL).all():
            return s.astype(np.int64)
        return s
    if pd.api.types.is_float_dtype(values):
        v = values.to_numpy()
        # exact integers only: beyond 2**53 a float no longer holds every integer
        if np.all(np.mod(v, 1) == 0) and np.all(np.abs(v) <= 2**53):
            return values.astype(np.int64)
    return values


def _class_key(name: Any) -> str:
    """What two class names share when they differ only in case, spacing or number format."""
    text = " ".join(str(name).split()).casefold()
    try:
        number = float(text)
    except ValueError:
        return text
    return repr(number) if np.isfinite(number) else text


def normalise_class_names(
    values: pd.Series, *, column: str = "label", missing_ok: bool = False
) -> pd.Series:
    """Class names by the module's rule: text stripped, integer text as integers.

    Warns (:class:`~labelwise.errors.SimilarClassesWarning`) when distinct names
    differ only in case, spacing or number format (``"cat"``/``"Cat"``,
    ``"1"``/``"1.0"``), or when numbers and text are mixed (``1`` and ``"1"`` become
    one class). Missing values stay missing when ``missing_ok``.

    Returns
    -------
    Series
        The same length and index; names stripped; integer-literal text as int64.
    """
    present = values.notna()
    vals = values[present]
    if vals.dtype == object or pd.api.types.is_string_dtype(vals):
        kinds = {type(v) for v in vals.to_numpy()}
        text_kinds = {k for k in kinds if issubclass(k, str)}
        if text_kinds and kinds - text_kinds:
            warnings.warn(
                f"{column} mixes numbers and text (e.g. {vals.iloc[0]!r}); class names are "
                "compared as text, so 1 and '1' are one class.",
                SimilarClassesWarning,
                stacklevel=3,
            )
        vals = vals.astype(str).str.strip()
    vals = _normalise_ids(vals)
    names = pd.unique(vals)
    if 1 < len(names) <= 100_000:
        keys = pd.Series([_class_key(n) for n in names])
        clash = keys.duplicated(keep=False).to_numpy()
        if clash.any():
            counts = vals.value_counts()
            first = keys[clash].iloc[0]
            group = [n for n, k in zip(names, keys, strict=True) if k == first]
            listed = ", ".join(f"{_py(n)!r} ({int(counts[n])} rows)" for n in group)
            warnings.warn(
                f"{column} has class names that differ only in case, spacing or number "
                f"format: {listed}; they are kept as separate classes "
                f"({int(clash.sum())} such names in all). Fix the file or declare the classes.",
                SimilarClassesWarning,
                stacklevel=3,
            )
    if missing_ok and not present.all():
        out = pd.Series([None] * len(values), index=values.index, dtype=object)
        out[present] = vals.to_numpy(dtype=object)
        return out
    return vals


def _first_missing_row(values: pd.Series) -> int | None:
    mask = values.isna().to_numpy().copy()
    if pd.api.types.is_string_dtype(values) or values.dtype == object:
        # only an empty cell is missing: the text "None", "NA" or "null" is a name
        mask |= (values.astype(str).str.strip() == "").to_numpy() & ~mask
    if mask.any():
        return int(np.flatnonzero(mask)[0])
    return None


def _py(value: Any) -> Any:
    """A numpy scalar as the plain Python value, so messages show 'w1', not np.str_('w1')."""
    return value.item() if isinstance(value, np.generic) else value


def _factorize(values: pd.Series) -> tuple[NDArray[np.int32], NDArray[Any]]:
    """Codes and sorted distinct values in one pass (first-seen order if unsortable).

    Integer ids in a compact range take an O(n) counting path (no hashing, no sort).
    """
    arr = values.to_numpy()
    if arr.dtype.kind in "iu" and arr.size:
        lo, hi = int(arr.min()), int(arr.max())
        if hi - lo <= 4 * arr.size + 1024:
            present = np.bincount(arr - lo, minlength=hi - lo + 1) > 0
            rank = np.cumsum(present) - 1
            return rank[arr - lo].astype(np.int32), np.flatnonzero(present) + lo
    try:
        codes, uniques = pd.factorize(values, sort=True)
    except TypeError:  # mixed types cannot be sorted
        codes, uniques = pd.factorize(values.astype(str), sort=False)
    return codes.astype(np.int32), np.asarray(uniques)


def _gold_frame(gold: Any) -> pd.DataFrame:
    if isinstance(gold, pd.DataFrame):
        if not {"item", "label"} <= set(gold.columns):
            raise AnnotationsError(
                f"gold is missing column(s) {sorted({'item', 'label'} - set(gold.columns))}; "
                f"found {list(gold.columns)}."
            )
        return gold[["item", "label"]].reset_index(drop=True)
    if isinstance(gold, pd.Series):
        return pd.DataFrame({"item": gold.index.to_numpy(), "label": gold.to_numpy()})
    if isinstance(gold, Mapping):
        return pd.DataFrame({"item": list(gold.keys()), "label": list(gold.values())})
    raise AnnotationsError(
        f"gold must be a DataFrame (item, label), a Series or a dict; got {type(gold).__name__}."
    )


def read_gold(path: str | Path, *, item: str = "item", label: str = "label") -> pd.DataFrame:
    """Read gold labels (columns ``item, label``) from CSV, JSON Lines or Parquet."""
    df = read_table(path, what="gold")
    missing = [c for c in (item, label) if c not in df.columns]
    if missing:
        raise AnnotationsError(
            f"gold file {str(path)!r} is missing column(s) {missing}; found {list(df.columns)}."
        )
    return df[[item, label]].rename(columns={item: "item", label: "label"})


def _apply_duplicate_policy(
    item: NDArray[np.int32],
    worker: NDArray[np.int32],
    label: NDArray[np.int32],
    policy: str,
    item_ids: NDArray[Any],
    worker_ids: NDArray[Any],
    columns: tuple[str, str],
) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.int32], NDArray[np.intp]]:
    """Resolve repeated (worker, item) pairs; return the kept arrays and kept row indices."""
    keep_all = np.arange(item.shape[0])
    if policy == "keep_all":
        return item, worker, label, keep_all
    # fast check: a CSR matrix of (item, worker) loses entries when pairs repeat
    pairs = sp.csr_matrix(
        (np.ones(item.shape[0], dtype=np.int8), (item, worker)),
        shape=(len(item_ids), max(len(worker_ids), 1)),
    )
    pairs.sum_duplicates()
    if pairs.nnz == item.shape[0]:
        return item, worker, label, keep_all
    key = item.astype(np.int64) * max(len(worker_ids), 1) + worker
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    repeated = np.flatnonzero(sorted_key[1:] == sorted_key[:-1])
    if repeated.size == 0:
        return item, worker, label, keep_all
    if policy == "error":
        # report the earliest row that repeats an earlier (worker, item) pair
        first_dup = int(order[repeated + 1].min())
        raise AnnotationsError(
            f"worker {_py(worker_ids[worker[first_dup]])!r} labeled item "
            f"{_py(item_ids[item[first_dup]])!r} "
            f"more than once (first repeat at row {first_dup}, columns {columns[1]!r}, "
            f"{columns[0]!r}; {repeated.size} repeat(s) in all). Choose duplicates='keep_last' or "
            "'keep_all' (CLI: --duplicates)."
        )
    # keep_last: the last row of each run of equal keys in the stable order
    last_of_run = np.ones(sorted_key.shape[0], dtype=bool)
    last_of_run[:-1] = sorted_key[1:] != sorted_key[:-1]
    kept = np.sort(order[last_of_run])
    return item[kept], worker[kept], label[kept], kept
