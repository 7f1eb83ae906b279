"""Small, clean CSV/TSV annotation files encoded without pandas: the CLI's fast start.

Importing pandas costs about 0.6 s of CPU, more than reading, fitting and writing a
few thousand answers. For a small file whose item, worker and label columns are all
present and clean, this module applies the rules of :mod:`labelwise._tables` with the
standard library and numpy and returns the encoded arrays. Whenever the file is not
plainly clean (a missing cell, a ragged row, a repeated (worker, item) pair, class
names that draw a warning, fewer than two classes, a repeated column name, an
encoding error) it returns ``None`` and the caller takes the full pandas path, which
owns every error message and warning. The fast path therefore never decides an error;
it only skips work, and a test checks that both paths give identical ``Annotations``.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["LIGHT_MAX_BYTES", "read_light_annotations"]

#: Files up to this size may take the fast path; larger ones go through pandas'
#: C reader, which is faster per row.
LIGHT_MAX_BYTES = 4 * 2**20

_DELIMITERS = {".csv": ",", ".txt": ",", ".tsv": "\t"}
# the same literal as labelwise._tables: at most 18 digits always fits in int64
_ASCII_SPACE = " \t\r\n\x0b\x0c"
_INT_LITERAL = re.compile(r"-?(0|[1-9][0-9]{0,17})")


def read_light_annotations(
    path: str | Path, item: str, worker: str, label: str
) -> dict[str, NDArray[Any]] | None:
    """Encode a small clean annotations file, or return ``None`` to use the full path.

    Returns
    -------
    dict or None
        ``item, worker, label`` (int32 codes) and ``item_ids, worker_ids, classes``
        (sorted distinct values, integers where every value is an integer literal),
        ready for ``Annotations(**result)``; ``None`` when the file is not a small,
        clean CSV/TSV.
    """
    columns = _read_columns(Path(path), (item, worker, label))
    if columns is None:
        return None
    items, workers, labels = columns
    labels = [v.strip() for v in labels]
    label_values = _as_ids(labels)
    class_names = np.unique(label_values)
    if class_names.shape[0] < 2 or _similar_names(class_names):
        return None
    item_codes, item_ids = _factorize(_as_ids(items))
    worker_codes, worker_ids = _factorize(_as_ids(workers))
    key = item_codes.astype(np.int64) * max(worker_ids.shape[0], 1) + worker_codes
    if np.unique(key).shape[0] != key.shape[0]:
        return None  # repeated (worker, item) pairs: the duplicate policy decides
    label_codes, classes = _factorize(label_values)
    return {
        "item": item_codes,
        "worker": worker_codes,
        "label": label_codes,
        "item_ids": item_ids,
        "worker_ids": worker_ids,
        "classes": classes,
    }


def _read_columns(path: Path, names: tuple[str, str, str]) -> list[list[str]] | None:
    """The named columns' text, or ``None`` unless every row is complete and non-empty."""
    delimiter = _DELIMITERS.get(path.suffix.lower())
    try:
        if delimiter is None or path.stat().st_size > LIGHT_MAX_BYTES:
            return None
        with path.open(newline="", encoding="utf-8-sig") as fh:
            rows = [row for row in csv.reader(fh, delimiter=delimiter) if row]
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    if len(rows) < 2:
        return None
    header = rows[0]
    if len(set(header)) != len(header) or not set(names) <= set(header):
        return None
    width = len(header)
    positions = [header.index(n) for n in names]
    out: list[list[str]] = [[], [], []]
    for row in rows[1:]:
        if len(row) != width:
            return None
        for column, pos in zip(out, positions, strict=True):
            value = row[pos]
            # only plain ASCII spacing is stripped here, so that no reader's idea of
            # Unicode whitespace can differ from pandas'
            if not value.strip() or value.strip() != value.strip(_ASCII_SPACE):
                return None
            column.append(value)
    return out


def _as_ids(values: list[str]) -> NDArray[Any]:
    """int64 when every value is an integer literal, else the text unchanged (object)."""
    if all(_INT_LITERAL.fullmatch(v) for v in values):
        return np.array([int(v) for v in values], dtype=np.int64)
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _factorize(values: NDArray[Any]) -> tuple[NDArray[np.int32], NDArray[Any]]:
    uniques, codes = np.unique(values, return_inverse=True)
    return codes.astype(np.int32).reshape(-1), uniques


def _similar_names(names: NDArray[Any]) -> bool:
    """Whether two class names differ only in case, spacing or number format."""
    from labelwise._tables import _class_key

    keys = [_class_key(n) for n in names.tolist()]
    return len(set(keys)) != len(keys)
