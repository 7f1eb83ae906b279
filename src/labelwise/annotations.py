"""``Annotations``: who said what about which item, validated once at the door.

Every crowd algorithm in labelwise reads this one structure. It keeps the
annotations as three aligned integer arrays (COO form) plus the maps back to the
user's ids and class names, so that algorithms work with ``np.bincount`` and
``scipy.sparse`` and never with pandas inside a loop.

Example
-------
>>> import pandas as pd
>>> from labelwise import Annotations
>>> df = pd.DataFrame({"item": ["a", "a", "b"], "worker": ["w1", "w2", "w1"],
...                    "label": ["cat", "dog", "dog"]})
>>> ann = Annotations.from_frame(df)
>>> ann.n_items, ann.n_workers, list(ann.classes)
(2, 2, ['cat', 'dog'])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise._lazy import lazy_module
from labelwise._tables import (
    _apply_duplicate_policy,
    _factorize,
    _first_missing_row,
    _gold_frame,
    _normalise_ids,
    _py,
    normalise_class_names,
    read_gold,
    read_table,
)
from labelwise.errors import AnnotationsError

if TYPE_CHECKING:
    import pandas as pd
    import scipy.sparse as sp
else:
    pd = lazy_module("pandas")
    sp = lazy_module("scipy.sparse")

__all__ = ["Annotations", "DuplicatePolicy", "read_gold", "read_table"]

DuplicatePolicy = Literal["error", "keep_last", "keep_all"]
_DUPLICATE_POLICIES = ("error", "keep_last", "keep_all")


@dataclass(frozen=True, eq=False)
class Annotations:
    """Crowd annotations as aligned integer arrays plus the id maps.

    Attributes
    ----------
    item, worker, label : ndarray of int32, shape (n_annotations,)
        Codes into ``item_ids``, ``worker_ids`` and ``classes``.
    item_ids, worker_ids, classes : ndarray, shape (n_items,), (n_workers,), (n_classes,)
        The user's ids and class names, in code order.
    time, cost : ndarray of float, shape (n_annotations,), optional
        Time spent and price paid per annotation, when known.

    Build it with :meth:`from_frame`, :meth:`read` or :meth:`from_arrays`; the
    constructor trusts its inputs.
    """

    item: NDArray[np.int32]
    worker: NDArray[np.int32]
    label: NDArray[np.int32]
    item_ids: NDArray[Any]
    worker_ids: NDArray[Any]
    classes: NDArray[Any]
    time: NDArray[np.float64] | None = None
    cost: NDArray[np.float64] | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    # ------------------------------------------------------------------ sizes
    @property
    def n_annotations(self) -> int:
        """Number of (item, worker, label) rows."""
        return int(self.item.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.item_ids.shape[0])

    @property
    def n_workers(self) -> int:
        return int(self.worker_ids.shape[0])

    @property
    def n_classes(self) -> int:
        return int(self.classes.shape[0])

    def __len__(self) -> int:
        return self.n_annotations

    def __repr__(self) -> str:
        return (
            f"Annotations(n_annotations={self.n_annotations}, n_items={self.n_items}, "
            f"n_workers={self.n_workers}, classes={self.classes.tolist()!r})"
        )

    # ---------------------------------------------------------- constructors
    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        item: str = "item",
        worker: str = "worker",
        label: str = "label",
        classes: Sequence[Any] | None = None,
        duplicates: DuplicatePolicy = "error",
        time: str | None = None,
        cost: str | None = None,
    ) -> Annotations:
        """Validate a long table ``item, worker, label`` and encode it.

        Parameters
        ----------
        frame : DataFrame
            One row per annotation. Ids and labels may be strings or integers. Only an
            empty cell or ``None``/``NaN`` is missing (the text ``"NA"`` or ``"null"``
            is a class name); class names are stripped of surrounding spaces, ``1``
            and ``"1"`` are one class, and names that differ only in case or number
            format draw a ``SimilarClassesWarning`` (the rules in ``labelwise._tables``).
        item, worker, label : str
            Column names.
        classes : sequence, optional
            The declared class list, in order. A label outside it is an error. When
            omitted, the sorted distinct labels are the classes.
        duplicates : {"error", "keep_last", "keep_all"}
            What to do when one worker labeled one item more than once.
        time, cost : str, optional
            Columns with the time spent and the price of each annotation.

        Returns
        -------
        Annotations

        Raises
        ------
        AnnotationsError
            Naming the column and first offending row: missing column, empty table,
            missing id or label, label outside ``classes``, fewer than two classes,
            duplicate (worker, item) under ``duplicates="error"``.
        """
        if duplicates not in _DUPLICATE_POLICIES:
            raise AnnotationsError(
                "The 'duplicates' parameter must be one of "
                f"{', '.join(map(repr, _DUPLICATE_POLICIES))}. Got {duplicates!r} instead."
            )
        if not isinstance(frame, pd.DataFrame):
            raise AnnotationsError(
                f"annotations must be a pandas DataFrame; got {type(frame).__name__}."
            )
        wanted = {"item": item, "worker": worker, "label": label}
        if time is not None:
            wanted["time"] = time
        if cost is not None:
            wanted["cost"] = cost
        missing = [col for col in wanted.values() if col not in frame.columns]
        if missing:
            raise AnnotationsError(
                f"annotations are missing column(s) {missing}; found columns "
                f"{list(frame.columns)}. Name the columns with item=, worker=, label= "
                "(CLI: --item-col, --worker-col, --label-col)."
            )
        if len(frame) == 0:
            raise AnnotationsError("annotations are empty: the table has no rows.")
        df = frame[list(wanted.values())].reset_index(drop=True)
        for role in ("item", "worker", "label"):
            row = _first_missing_row(df[wanted[role]])
            if row is not None:
                raise AnnotationsError(
                    f"column {wanted[role]!r} has a missing value (NaN or empty) at row {row}."
                )
        items = _normalise_ids(df[item])
        workers = _normalise_ids(df[worker])
        labels = normalise_class_names(df[label], column=f"column {label!r}")

        label_codes, class_arr = encode_classes(labels, classes, label)

        item_codes, item_ids = _factorize(items)
        worker_codes, worker_ids = _factorize(workers)
        extra = {k: _amounts(df[wanted[k]], wanted[k]) for k in ("time", "cost") if k in wanted}
        item_codes, worker_codes, label_codes, keep = _apply_duplicate_policy(
            item_codes, worker_codes, label_codes, duplicates, item_ids, worker_ids, (item, worker)
        )
        extra = {k: v[keep] for k, v in extra.items()}
        return cls(
            item=item_codes,
            worker=worker_codes,
            label=label_codes,
            item_ids=item_ids,
            worker_ids=worker_ids,
            classes=class_arr,
            time=extra.get("time"),
            cost=extra.get("cost"),
        )

    @classmethod
    def read(
        cls,
        path: str | Path,
        *,
        item: str = "item",
        worker: str = "worker",
        label: str = "label",
        classes: Sequence[Any] | None = None,
        duplicates: DuplicatePolicy = "error",
    ) -> Annotations:
        """Read annotations from CSV, TSV, JSON Lines or Parquet (chosen by extension).

        See :meth:`from_frame` for the parameters and the errors. A small, clean CSV
        or TSV is encoded without pandas (:mod:`labelwise._light_csv`), with the same
        result.
        """
        if classes is None:
            from labelwise._light_csv import read_light_annotations

            light = read_light_annotations(path, item, worker, label)
            if light is not None:
                return cls(**light)
        return cls.from_frame(
            read_table(path),
            item=item,
            worker=worker,
            label=label,
            classes=classes,
            duplicates=duplicates,
        )

    @classmethod
    def from_arrays(
        cls,
        item: ArrayLike,
        worker: ArrayLike,
        label: ArrayLike,
        *,
        classes: Sequence[Any] | None = None,
        duplicates: DuplicatePolicy = "error",
    ) -> Annotations:
        """Build from three equal-length arrays of ids and labels (validated like a table)."""
        arrays = [np.asarray(a) for a in (item, worker, label)]
        if len({a.shape[0] for a in arrays}) != 1:
            raise AnnotationsError(
                f"item, worker and label must have the same length; got "
                f"{[a.shape[0] for a in arrays]}."
            )
        frame = pd.DataFrame({"item": arrays[0], "worker": arrays[1], "label": arrays[2]})
        return cls.from_frame(frame, classes=classes, duplicates=duplicates)

    @classmethod
    def from_codes(
        cls,
        item: ArrayLike,
        worker: ArrayLike,
        label: ArrayLike,
        *,
        n_items: int,
        n_workers: int,
        n_classes: int,
    ) -> Annotations:
        """Wrap integer codes that are already ``0..n-1`` (the simulator's fast path).

        Ids become ``0..n_items-1`` etc. Only the code ranges are checked.
        """
        i = np.asarray(item, dtype=np.int32)
        w = np.asarray(worker, dtype=np.int32)
        y = np.asarray(label, dtype=np.int32)
        for name, arr, n in (
            ("item", i, n_items),
            ("worker", w, n_workers),
            ("label", y, n_classes),
        ):
            if arr.shape != i.shape:
                raise AnnotationsError(f"{name} codes have shape {arr.shape}, expected {i.shape}.")
            if arr.size and (arr.min() < 0 or arr.max() >= n):
                bad = int(np.flatnonzero((arr < 0) | (arr >= n))[0])
                raise AnnotationsError(
                    f"{name} code {arr[bad]} at row {bad} is outside 0..{n - 1}."
                )
        if n_classes < 2:
            raise AnnotationsError("aggregation needs at least two classes.")
        return cls(
            item=i,
            worker=w,
            label=y,
            item_ids=np.arange(n_items),
            worker_ids=np.arange(n_workers),
            classes=np.arange(n_classes),
        )

    # ---------------------------------------------------------------- views
    def to_frame(self) -> pd.DataFrame:
        """Return the annotations as a long table with the user's ids and class names."""
        out = pd.DataFrame(
            {
                "item": self.item_ids[self.item],
                "worker": self.worker_ids[self.worker],
                "label": self.classes[self.label],
            }
        )
        if self.time is not None:
            out["time"] = self.time
        if self.cost is not None:
            out["cost"] = self.cost
        return out

    def subset(self, mask: NDArray[np.bool_]) -> Annotations:
        """Return the annotations selected by a boolean mask, keeping every id map.

        Items, workers and classes keep their codes, so results stay aligned with
        the full set (an item with no annotation left gets the prior).
        """
        m = np.asarray(mask, dtype=bool)
        return Annotations(
            item=self.item[m],
            worker=self.worker[m],
            label=self.label[m],
            item_ids=self.item_ids,
            worker_ids=self.worker_ids,
            classes=self.classes,
            time=None if self.time is None else self.time[m],
            cost=None if self.cost is None else self.cost[m],
        )

    def answer_matrix(self, dtype: Any = np.float64) -> sp.csr_matrix:
        """The one-hot answer matrix ``S``, shape (n_items, n_workers * n_classes).

        ``S[i, w * K + l]`` counts how often worker ``w`` gave label ``l`` to item
        ``i``. Dawid-Skene's E-step is ``S @ log(pi)`` and its M-step ``S.T @ T``.
        Cached per ``dtype``: built once per ``Annotations``.
        """
        key = ("S", np.dtype(dtype).str)
        if key not in self._cache:
            k = self.n_classes
            cols = self.worker.astype(np.int64) * k + self.label
            data = np.ones(self.n_annotations, dtype=dtype)
            # duplicates (keep_all) stay as repeated entries: products sum them anyway
            s = sp.csr_matrix((data, (self.item, cols)), shape=(self.n_items, self.n_workers * k))
            self._cache[key] = s
        s_out: sp.csr_matrix = self._cache[key]
        return s_out

    def answer_matrix_t(self, dtype: Any = np.float64) -> sp.csr_matrix:
        """``answer_matrix().T`` converted to CSR (cached).

        For products ``S.T @ T`` the free transpose view ``answer_matrix().T`` (CSC)
        is faster; this copy serves row access by worker.
        """
        key = ("ST", np.dtype(dtype).str)
        if key not in self._cache:
            self._cache[key] = self.answer_matrix(dtype).T.tocsr()
        st: sp.csr_matrix = self._cache[key]
        return st

    def vote_counts(self) -> NDArray[np.float64]:
        """Votes per item and class, shape (n_items, n_classes)."""
        if "votes" not in self._cache:
            k = self.n_classes
            flat = np.bincount(
                self.item.astype(np.int64) * k + self.label, minlength=self.n_items * k
            )
            self._cache["votes"] = flat.reshape(self.n_items, k).astype(np.float64)
        votes: NDArray[np.float64] = self._cache["votes"]
        return votes

    def annotations_per_item(self) -> NDArray[np.int64]:
        """Number of annotations each item received, shape (n_items,)."""
        return np.bincount(self.item, minlength=self.n_items)

    def annotations_per_worker(self) -> NDArray[np.int64]:
        """Number of annotations each worker gave, shape (n_workers,)."""
        return np.bincount(self.worker, minlength=self.n_workers)

    # ------------------------------------------------------------------ gold
    def encode_gold(self, gold: Any) -> NDArray[np.int32]:
        """Return gold class codes per item, shape (n_items,), ``-1`` where unknown.

        ``gold`` is a mapping or Series ``item -> label``, a DataFrame with columns
        ``item, label``, or ``None`` (all ``-1``).

        Raises
        ------
        AnnotationsError
            For a gold item that has no annotation, a gold label outside the classes,
            a missing value, or the same item twice with different labels.
        """
        codes = np.full(self.n_items, -1, dtype=np.int32)
        if gold is None:
            return codes
        if (
            isinstance(gold, np.ndarray)
            and gold.shape == (self.n_items,)
            and gold.dtype.kind == "i"
        ):
            if gold.min() < -1 or gold.max() >= self.n_classes:
                raise AnnotationsError("gold codes must be -1 (unknown) or in 0..n_classes-1.")
            return gold.astype(np.int32)
        frame = _gold_frame(gold)
        for col in ("item", "label"):
            row = _first_missing_row(frame[col])
            if row is not None:
                raise AnnotationsError(f"gold column {col!r} has a missing value at row {row}.")
        g_items = _normalise_ids(frame["item"])
        g_labels = _normalise_ids(frame["label"])
        item_index = pd.Index(self.item_ids)
        if item_index.inferred_type != pd.Index(g_items).inferred_type:
            item_index = pd.Index(self.item_ids.astype(str))
            g_items = g_items.astype(str)
        idx = item_index.get_indexer(g_items)
        if (idx < 0).any():
            row = int(np.flatnonzero(idx < 0)[0])
            n_bad = int((idx < 0).sum())
            raise AnnotationsError(
                f"gold row {row} names item {_py(g_items.iloc[row])!r}, which has no annotation "
                f"({n_bad} unknown gold item(s) in all)."
            )
        class_index = pd.Index(self.classes)
        if class_index.inferred_type != pd.Index(g_labels).inferred_type:
            class_index = pd.Index(self.classes.astype(str))
            g_labels = g_labels.astype(str)
        lab = class_index.get_indexer(g_labels)
        if (lab < 0).any():
            row = int(np.flatnonzero(lab < 0)[0])
            raise AnnotationsError(
                f"gold row {row} has label {_py(g_labels.iloc[row])!r}, which is not one of the "
                f"classes {self.classes.tolist()}."
            )
        order = np.argsort(idx, kind="stable")
        dup = np.flatnonzero((np.diff(idx[order]) == 0) & (np.diff(lab[order]) != 0))
        if dup.size:
            row = int(order[dup[0] + 1])
            raise AnnotationsError(
                f"gold row {row} gives item {_py(g_items.iloc[row])!r} a second, different label."
            )
        codes[idx] = lab
        return codes


def encode_classes(
    labels: pd.Series, classes: Sequence[Any] | None, column: str, *, rows: bool = True
) -> tuple[NDArray[np.int32], NDArray[Any]]:
    """Class codes of normalised ``labels`` and the class names in code order.

    The classes are the declared ``classes`` in their order, else the sorted distinct
    labels. Raises :class:`AnnotationsError` for duplicated declared classes, a label
    outside them (naming its row when ``rows``) or fewer than two classes.
    """
    if classes is not None:
        class_arr = np.asarray(list(classes))
        if len(set(class_arr.tolist())) != len(class_arr):
            raise AnnotationsError(f"declared classes contain duplicates: {class_arr.tolist()}.")
        known = pd.Index(class_arr)
        # compare as strings when the declared list and the file disagree in type
        if known.inferred_type != pd.Index(labels).inferred_type:
            known = pd.Index(class_arr.astype(str))
            labels = labels.astype(str)
        codes = known.get_indexer(labels)
        if (codes < 0).any():
            row = int(np.flatnonzero(codes < 0)[0])
            where = f" row {row}" if rows else ""
            raise AnnotationsError(
                f"column {column!r}{where} has label {_py(labels.iloc[row])!r}, which is "
                f"not one of the declared classes {class_arr.tolist()}."
            )
        label_codes = codes.astype(np.int32)
    else:
        label_codes, class_arr = _factorize(labels)
    if len(class_arr) < 2:
        raise AnnotationsError(
            f"only one class ({class_arr.tolist()!r}) in column {column!r}: aggregation needs "
            "at least two. Declare the full class list with classes= (CLI: --classes)."
        )
    return label_codes, class_arr


def _amounts(values: pd.Series, column: str) -> NDArray[np.float64]:
    """A time or cost column as floats: numbers, finite and not negative, or an error."""
    nums = pd.to_numeric(values, errors="coerce").to_numpy(np.float64)
    bad = ~np.isfinite(nums) | (nums < 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise AnnotationsError(
            f"column {column!r} row {row} has {_py(values.iloc[row])!r}: times and costs must "
            "be numbers of at least 0."
        )
    return nums
