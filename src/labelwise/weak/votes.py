"""The vote matrix: what each labeling function said about each item.

:func:`apply_functions` runs labeling functions over a table into a
:class:`VoteMatrix` (items x functions, class codes, ``-1`` for abstain), in
parallel chunks for large tables. A function that raises on an item, or returns
something that is not a class, abstains there and the failure is recorded with the
item, the function and the message: one bad row never stops the run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from labelwise.annotations import Annotations
from labelwise.errors import InputError, ParameterError
from labelwise.weak.functions import Item, LabelingFunction, check_functions

__all__ = ["ABSTAIN_CODE", "FunctionError", "VoteMatrix", "apply_functions"]

#: The code of an abstain in :attr:`VoteMatrix.codes`.
ABSTAIN_CODE = -1

_ERROR_COLUMNS = ["item", "function", "error"]


class FunctionError(InputError):
    """A labeling function failed on an item (raised only with ``on_error="raise"``)."""


@dataclass(frozen=True, eq=False)
class VoteMatrix:
    """Votes of labeling functions: ``codes[i, j]`` is function ``j``'s class code for
    item ``i`` (``-1`` = abstain).

    Attributes
    ----------
    codes : ndarray of int32, shape (n_items, n_functions)
    item_ids : ndarray, shape (n_items,)
    functions : tuple of str
        Function names, the columns.
    classes : ndarray, shape (n_classes,)
        Class names, in code order.
    errors : DataFrame
        One row per failure: item, function, error (empty when nothing failed).
    """

    codes: NDArray[np.int32]
    item_ids: NDArray[Any]
    functions: tuple[str, ...]
    classes: NDArray[Any]
    errors: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_ERROR_COLUMNS))

    def __post_init__(self) -> None:
        c = self.codes
        if c.ndim != 2 or c.shape != (len(self.item_ids), len(self.functions)):
            raise InputError(
                f"vote codes have shape {c.shape}; expected ({len(self.item_ids)} items, "
                f"{len(self.functions)} functions)."
            )
        if len(self.classes) < 2:
            raise InputError("a vote matrix needs at least two classes.")
        if c.size and (c.min() < ABSTAIN_CODE or c.max() >= len(self.classes)):
            bad = np.argwhere((c < ABSTAIN_CODE) | (c >= len(self.classes)))[0]
            raise InputError(
                f"vote code {c[bad[0], bad[1]]} at item row {bad[0]}, function "
                f"{self.functions[bad[1]]!r} is neither -1 (abstain) nor a class code "
                f"0..{len(self.classes) - 1}."
            )

    @property
    def n_items(self) -> int:
        """Number of items (rows)."""
        return int(self.codes.shape[0])

    @property
    def n_functions(self) -> int:
        """Number of labeling functions (columns)."""
        return int(self.codes.shape[1])

    @classmethod
    def from_codes(
        cls,
        codes: Any,
        *,
        classes: Sequence[Any],
        functions: Sequence[str] | None = None,
        item_ids: Any = None,
    ) -> VoteMatrix:
        """Wrap an integer array (``-1`` abstain) with names; ids default to ``0..n-1``."""
        arr = np.asarray(codes)
        if arr.ndim != 2:
            raise InputError(f"vote codes must be 2-D (items x functions); got shape {arr.shape}.")
        if arr.size and arr.dtype.kind not in "iu":
            raise InputError(f"vote codes must be integers; got dtype {arr.dtype}.")
        names = (
            tuple(functions)
            if functions is not None
            else tuple(f"lf{j}" for j in range(arr.shape[1]))
        )
        ids = np.arange(arr.shape[0]) if item_ids is None else np.asarray(item_ids)
        return cls(
            codes=arr.astype(np.int32), item_ids=ids, functions=names, classes=np.asarray(classes)
        )

    def to_frame(self) -> pd.DataFrame:
        """Items as rows, one column per function holding the class name (empty = abstain)."""
        out = pd.DataFrame({"item": self.item_ids})
        for j, name in enumerate(self.functions):
            col = self.codes[:, j]
            vals = np.empty(col.shape[0], dtype=object)
            voted = col >= 0
            vals[voted] = self.classes[col[voted]]
            out[name] = vals
        return out

    def hstack(self, other: VoteMatrix) -> VoteMatrix:
        """The votes of both matrices side by side (same items and classes, distinct names)."""
        if not np.array_equal(self.item_ids, other.item_ids):
            raise InputError("hstack: the two vote matrices hold different items.")
        if not np.array_equal(self.classes, other.classes):
            raise InputError(
                f"hstack: classes differ ({self.classes.tolist()} vs {other.classes.tolist()})."
            )
        clash = set(self.functions) & set(other.functions)
        if clash:
            raise InputError(f"hstack: function names used twice: {sorted(clash)}.")
        return VoteMatrix(
            codes=np.hstack([self.codes, other.codes]),
            item_ids=self.item_ids,
            functions=self.functions + other.functions,
            classes=self.classes,
            errors=pd.concat([self.errors, other.errors], ignore_index=True),
        )

    def to_annotations(self, prefix: str = "") -> Annotations:
        """The votes as :class:`~labelwise.Annotations`: each function is an annotator
        (named ``prefix + name``) and an abstain is a missing answer, not a class."""
        rows, cols = np.nonzero(self.codes >= 0)
        return Annotations(
            item=rows.astype(np.int32),
            worker=cols.astype(np.int32),
            label=self.codes[rows, cols].astype(np.int32),
            item_ids=self.item_ids,
            worker_ids=np.array([prefix + f for f in self.functions], dtype=object),
            classes=self.classes,
        )


def _apply_chunk(
    records: list[dict[str, Any]],
    ids: list[Any],
    functions: list[LabelingFunction],
    lookup: dict[Any, int],
    on_error: str,
) -> tuple[NDArray[np.int32], list[tuple[Any, str, str]]]:
    """Votes of every function on one chunk of rows, and the failures met there."""
    out = np.full((len(records), len(functions)), ABSTAIN_CODE, dtype=np.int32)
    errors: list[tuple[Any, str, str]] = []
    for r, (rec, item_id) in enumerate(zip(records, ids, strict=True)):
        item = Item(rec)
        for j, f in enumerate(functions):
            try:
                value = f(item)
            except Exception as exc:  # the user's code: record, keep going
                msg = f"{type(exc).__name__}: {exc}"
                if on_error == "raise":
                    raise FunctionError(
                        f"labeling function {f.name!r} raised on item {item_id!r}: {msg}"
                    ) from exc
                errors.append((item_id, f.name, msg))
                continue
            if value is None:
                continue
            try:
                code = lookup[value]
            except (KeyError, TypeError):
                msg = f"returned {value!r}, which is not one of the classes {list(lookup)}"
                if on_error == "raise":
                    raise FunctionError(
                        f"labeling function {f.name!r} on item {item_id!r} {msg}"
                    ) from None
                errors.append((item_id, f.name, msg))
                continue
            out[r, j] = code
    return out, errors


def apply_functions(
    table: pd.DataFrame,
    functions: Iterable[LabelingFunction],
    *,
    classes: Sequence[Any],
    item_col: str | None = None,
    on_error: Literal["record", "raise"] = "record",
    n_jobs: int = 1,
    chunk_size: int = 5000,
) -> VoteMatrix:
    """Apply labeling functions to every row of ``table``.

    Parameters
    ----------
    table : DataFrame
        One row per item; a function sees the row as an :class:`~labelwise.weak.Item`.
    functions : iterable of LabelingFunction
    classes : sequence
        The declared classes; a function must return one of them or ``None``.
    item_col : str, optional
        Column holding the item id; the row position when omitted.
    on_error : {"record", "raise"}
        ``"record"`` (default): a function that raises on an item, or returns a value
        that is not a class, abstains there and the failure goes to ``errors``.
        ``"raise"``: stop with a :class:`FunctionError` naming the function and item.
    n_jobs : int
        Worker processes (joblib); chunks of ``chunk_size`` rows run in parallel.
    chunk_size : int
        Rows per chunk.

    Returns
    -------
    VoteMatrix
        The (items x functions) votes and the recorded failures.
    """
    fns = check_functions(functions)
    if on_error not in ("record", "raise"):
        raise ParameterError(f"on_error must be 'record' or 'raise'; got {on_error!r}.")
    if not isinstance(n_jobs, int) or n_jobs == 0:
        raise ParameterError(f"n_jobs must be a non-zero integer; got {n_jobs!r}.")
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ParameterError(f"chunk_size must be a positive integer; got {chunk_size!r}.")
    class_arr = np.asarray(list(classes), dtype=object)
    if len(class_arr) < 2 or len(set(class_arr.tolist())) != len(class_arr):
        raise ParameterError(f"classes must hold at least two distinct names; got {list(classes)}.")
    if item_col is not None:
        if item_col not in table.columns:
            raise InputError(
                f"item column {item_col!r} not in the table; columns: {list(table.columns)}."
            )
        ids = table[item_col].to_numpy()
        dup = pd.Series(ids).duplicated()
        if dup.any():
            row = int(np.flatnonzero(dup.to_numpy())[0])
            raise InputError(
                f"item id {ids[row]!r} appears twice in column {item_col!r} (row {row})."
            )
    else:
        ids = np.arange(len(table))
    lookup = {c: k for k, c in enumerate(class_arr.tolist())}
    records = table.to_dict("records")
    id_list = ids.tolist()
    starts = range(0, len(records), chunk_size)
    jobs = [
        (records[s : s + chunk_size], id_list[s : s + chunk_size], fns, lookup, on_error)
        for s in starts
    ]
    if n_jobs == 1 or len(jobs) <= 1:
        parts = [_apply_chunk(*job) for job in jobs]
    else:
        from joblib import Parallel, delayed

        parts = Parallel(n_jobs=n_jobs)(delayed(_apply_chunk)(*job) for job in jobs)
    codes = (
        np.vstack([p[0] for p in parts])
        if parts
        else np.full((0, len(fns)), ABSTAIN_CODE, dtype=np.int32)
    )
    errs = [e for p in parts for e in p[1]]
    return VoteMatrix(
        codes=codes,
        item_ids=ids,
        functions=tuple(f.name for f in fns),
        classes=class_arr,
        errors=pd.DataFrame(errs, columns=_ERROR_COLUMNS),
    )
