"""Many classes: votes and posteriors kept sparse in the number of classes.

With thousands of classes (fine-grained categories, entity ids) a dense
(n_items, K) posterior does not fit: 10,000 items x 10,000 classes is 800 MB per
array. Yet an item's answers name only a few classes. For the models whose error
is symmetric (majority votes, one-coin Dawid-Skene, GLAD) or spam-shaped (MACE),
every class nobody answered for an item has the same likelihood, so the posterior is exact with

- one value per *answered* (item, class) cell (gold cells included), and
- one *rest* mass per item: the posterior of all the other classes together,
  spread over them in proportion to the class prior.

Estimators switch to this form by themselves when ``n_items * K`` exceeds
:data:`DENSE_CELL_LIMIT`; their ``proba_`` is then a ``scipy.sparse.csr_array``
holding the answered cells and ``proba_rest_`` the rest mass per item. Full
Dawid-Skene (K x K per annotator) cannot be made sparse; :func:`check_memory`
refuses it (and MACE when its per-annotator strategies alone are too large) with the
estimated memory before anything large is allocated.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from labelwise._lazy import lazy_module
from labelwise.annotations import Annotations
from labelwise.errors import ResourceError

if TYPE_CHECKING:
    import scipy.sparse as sp
else:
    sp = lazy_module("scipy.sparse")

__all__ = [
    "DENSE_CELL_LIMIT",
    "Cells",
    "answer_cells",
    "check_memory",
    "memory_limit",
    "pick_top",
    "row_max",
    "uses_sparse",
]

#: ``n_items * n_classes`` above which the vote and posterior are kept sparse
#: (2**24 cells: 128 MiB per float64 array).
DENSE_CELL_LIMIT = 2**24
#: The aggregators that keep their posterior sparse in the number of classes.
SPARSE_MODELS = ("MajorityVote", "WeightedMajorityVote", "OneCoinDawidSkene", "GLAD", "MACE")
#: Default memory an aggregator may plan to use (bytes); ``LABELWISE_MAX_MEMORY``
#: (bytes, or with a K/M/G suffix) overrides it.
DEFAULT_MEMORY_LIMIT = 4 * 2**30


def uses_sparse(annotations: Annotations) -> bool:
    """Whether the (n_items, K) arrays are too large to keep dense."""
    return annotations.n_items * annotations.n_classes > DENSE_CELL_LIMIT


def memory_limit() -> int:
    """The memory budget in bytes: ``LABELWISE_MAX_MEMORY`` or 4 GiB."""
    raw = os.environ.get("LABELWISE_MAX_MEMORY", "").strip().upper()
    if not raw:
        return DEFAULT_MEMORY_LIMIT
    scale = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}.get(raw[-1], 1)
    try:
        return int(float(raw.rstrip("KMGTB") if scale > 1 else raw) * scale)
    except ValueError:
        raise ResourceError(
            f"LABELWISE_MAX_MEMORY={os.environ['LABELWISE_MAX_MEMORY']!r} is not a size; "
            "give bytes or a number with K, M, G or T."
        ) from None


def _size(n_bytes: float) -> str:
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:,.1f} {unit}"
    return f"{n_bytes / 2**10:,.0f} KiB"


def check_memory(name: str, annotations: Annotations, n_bytes: float, what: str) -> None:
    """Raise :class:`ResourceError` before a fit that would need more than the budget.

    ``what`` names the large arrays (for the message).
    """
    limit = memory_limit()
    if n_bytes <= limit:
        return
    others = [m for m in SPARSE_MODELS if m != name]
    listed = ", ".join(others[:-1]) + " and " + others[-1]
    raise ResourceError(
        f"{name} on {annotations.n_items:,} items x {annotations.n_classes:,} classes x "
        f"{annotations.n_workers:,} annotators needs about {_size(n_bytes)} ({what}), over "
        f"the {_size(limit)} limit (LABELWISE_MAX_MEMORY). {listed} stay sparse in "
        "the number of classes."
    )


@dataclass(frozen=True)
class Cells:
    """The (item, class) cells that hold an answer or a gold label, sorted by item.

    Attributes
    ----------
    item, label : ndarray of int64 (n_cells,)
    indptr : ndarray of int64 (n_items + 1,)
        Cells of item ``i`` are ``indptr[i]:indptr[i + 1]`` (CSR layout).
    of_answer : ndarray of int64 (n_annotations,)
        The cell of each annotation.
    """

    item: NDArray[np.int64]
    label: NDArray[np.int64]
    indptr: NDArray[np.int64]
    of_answer: NDArray[np.int64]
    n_items: int
    n_classes: int

    @property
    def counts(self) -> NDArray[np.int64]:
        """Cells per item."""
        return np.diff(self.indptr)

    def segment_max(self, values: NDArray[np.float64], empty: float = -np.inf) -> NDArray[Any]:
        """Per-item maximum of per-cell ``values`` (``empty`` for items without cells)."""
        out = np.full(self.n_items, empty, dtype=np.float64)
        has = self.counts > 0
        if values.size:
            out[has] = np.maximum.reduceat(values, self.indptr[:-1][has])
        return out

    def to_csr(self, values: NDArray[np.floating]) -> sp.csr_array:
        """The per-cell ``values`` as a (n_items, n_classes) sparse array."""
        return sp.csr_array(
            (np.asarray(values, dtype=np.float64), self.label.astype(np.int32), self.indptr),
            shape=(self.n_items, self.n_classes),
        )


def answer_cells(annotations: Annotations, gold: NDArray[np.int32] | None = None) -> Cells:
    """The answered (item, class) cells, plus each gold item's known class."""
    k = annotations.n_classes
    keys = annotations.item.astype(np.int64) * k + annotations.label
    extra = np.empty(0, dtype=np.int64)
    if gold is not None and (gold >= 0).any():
        known = np.flatnonzero(gold >= 0)
        extra = known.astype(np.int64) * k + gold[known]
    uniq = np.unique(np.concatenate([keys, extra]))
    item = uniq // k
    indptr = np.zeros(annotations.n_items + 1, dtype=np.int64)
    np.cumsum(np.bincount(item, minlength=annotations.n_items), out=indptr[1:])
    return Cells(
        item=item,
        label=uniq % k,
        indptr=indptr,
        of_answer=np.searchsorted(uniq, keys),
        n_items=annotations.n_items,
        n_classes=k,
    )


def pick_top(
    cells: Cells, scores: NDArray[np.float64], ties: str, rng: np.random.Generator
) -> tuple[NDArray[np.int32], NDArray[np.bool_]]:
    """Per item, the cell with the highest score; (class codes, tied mask).

    The sparse twin of the dense tie-break: ``ties="random"`` draws uniformly among
    the top cells with ``rng``, ``ties="flag"`` returns ``-1`` for tied items,
    ``ties="first"`` takes the lowest class. Items without cells get ``-1``.
    """
    top = cells.segment_max(scores)
    is_top = np.isclose(scores, top[cells.item], rtol=1e-12, atol=1e-12)
    n_top = np.bincount(cells.item[is_top], minlength=cells.n_items)
    tied = n_top > 1
    # a key per top cell; the top cell with the largest key wins: random keys, or for
    # ties="first" the lowest class (as a dense arg-max does)
    if ties == "first":
        key = np.where(is_top, -cells.label.astype(np.float64), -np.inf)
    else:
        key = np.where(is_top, rng.random(scores.shape[0]) if tied.any() else 1.0, -1.0)
    order = np.lexsort((key, cells.item))  # by item, then key ascending
    last = cells.indptr[1:] - 1
    codes = np.full(cells.n_items, -1, dtype=np.int32)
    has = cells.counts > 0
    codes[has] = cells.label[order[last[has]]]
    if ties == "flag":
        codes[tied] = -1
    return codes, tied


def is_sparse(x: Any) -> bool:
    """Whether ``x`` is a scipy sparse array, without importing scipy to find out.

    A sparse array can only exist once scipy.sparse is loaded.
    """
    return "scipy.sparse" in sys.modules and bool(sp.issparse(x))


def row_max(proba: Any) -> NDArray[np.float64]:
    """Largest value per row of a dense or sparse (n, K) array."""
    if is_sparse(proba):
        return np.asarray(proba.max(axis=1).toarray()).ravel().astype(np.float64)
    return np.asarray(proba).max(axis=1)  # type: ignore[no-any-return]
