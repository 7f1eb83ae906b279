"""Dawid-Skene EM: full confusion matrices, and its one-coin special case.

Both are written over the annotation arrays: Dawid-Skene's E-step is one
sparse-dense product ``S @ log(pi)`` over the one-hot answer matrix ``S``
(items x workers*K) and its M-step one product ``S.T @ T``; one-coin uses
``np.bincount``. Nothing loops over annotations in Python.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from labelwise.aggregate._base import expected_accuracy
from labelwise.aggregate._em import EMAggregator
from labelwise.aggregate._sparse import check_memory, uses_sparse
from labelwise.aggregate._sparse_em import SparseEMMixin
from labelwise.annotations import Annotations

#: Up to this many annotations Dawid-Skene's products run on the index arrays
#: (:class:`IndexedAnswers`) instead of a scipy sparse matrix: as fast at this size,
#: and a small CLI call need not import scipy.
INDEXED_ANSWERS_LIMIT = 200_000

__all__ = [
    "DawidSkene",
    "IndexedAnswers",
    "OneCoinDawidSkene",
    "confusion_from_counts",
    "dawid_skene_m_step",
    "log_confusion_rows",
    "m_step_counts",
]


def confusion_from_counts(
    counts: NDArray[np.floating], n_workers: int, n_classes: int, smoothing: float
) -> NDArray[np.float64]:
    """Confusion matrices (n_workers, K true, K given) from the M-step's sufficient
    statistics ``S.T @ posterior`` (shape (n_workers * K, K), rows (worker, given label)).

    ``smoothing`` is a symmetric Dirichlet pseudo-count added to every cell. The
    statistics are sums over items, so partitions of the items (Dask) add theirs up
    and call this once.
    """
    k = n_classes
    cells = np.asarray(counts, dtype=np.float64).reshape(n_workers, k, k).transpose(0, 2, 1)
    cells = cells + smoothing
    totals = cells.sum(axis=2, keepdims=True)
    return cells / np.where(totals > 0, totals, 1.0)  # type: ignore[no-any-return]


def dawid_skene_m_step(
    st: object, posterior: NDArray[np.floating], n_workers: int, n_classes: int, smoothing: float
) -> NDArray[np.float64]:
    """Return confusion matrices from ``st @ posterior`` (``st`` = the transposed answer
    matrix); see :func:`confusion_from_counts`."""
    return confusion_from_counts(m_step_counts(st, posterior), n_workers, n_classes, smoothing)


def m_step_counts(st: object, posterior: NDArray[np.floating]) -> NDArray[np.float64]:
    """The M-step's sufficient statistics ``st @ posterior``, summed in float64.

    The EM loop runs in float32, but these are sums over all items: in float64 the sums
    of item partitions (Dask) add up to the in-memory total to about 1e-16, where
    float32 sums in a different order left posteriors up to 3e-6 apart.
    """
    return np.asarray(st @ posterior.astype(np.float64, copy=False), dtype=np.float64)


def log_confusion_rows(
    confusion: NDArray[np.floating], dtype: type = np.float32
) -> NDArray[np.floating]:
    """``log(confusion)`` laid out as rows (worker, given label) x columns (true class),
    so that the E-step is the product ``S @ rows``."""
    w, k = confusion.shape[0], confusion.shape[1]
    with np.errstate(divide="ignore"):
        log_conf = np.log(confusion).astype(dtype)
    return np.ascontiguousarray(log_conf.transpose(0, 2, 1).reshape(w * k, k))


class IndexedAnswers:
    """The one-hot answer matrix ``S`` (n_items, n_workers * K) kept as index arrays.

    ``S @ rows`` and ``S.T @ posterior`` are the two products of Dawid-Skene's EM;
    here each is one ``np.bincount`` per class over the annotations, the same sums as
    :meth:`Annotations.answer_matrix`'s sparse products (repeated answers count twice
    in both).
    """

    def __init__(self, annotations: Annotations, *, transposed: bool = False) -> None:
        self._item = annotations.item
        self._cell = annotations.worker.astype(np.intp) * annotations.n_classes + annotations.label
        self._n_items = annotations.n_items
        self._n_cells = annotations.n_workers * annotations.n_classes
        self._annotations = annotations
        self._transposed = transposed

    @property
    def T(self) -> IndexedAnswers:
        """``S.T``: products with it sum per (worker, given label) row."""
        return IndexedAnswers(self._annotations, transposed=not self._transposed)

    def __matmul__(self, other: NDArray[np.floating]) -> NDArray[np.floating]:
        src, dst, n_out = (
            (self._item, self._cell, self._n_cells)
            if self._transposed
            else (self._cell, self._item, self._n_items)
        )
        gathered = other[src]
        out = np.empty((n_out, other.shape[1]), dtype=other.dtype)
        for c in range(other.shape[1]):
            out[:, c] = np.bincount(dst, weights=gathered[:, c], minlength=n_out)
        return out


class DawidSkene(EMAggregator):
    """Dawid and Skene's (1979) EM with one full confusion matrix per annotator.

    Parameters
    ----------
    max_iter : int
        Maximum EM iterations.
    tol : float
        Stop when the log-likelihood per annotation changes by less than ``tol``
        (crowd-kit's rule and default).
    smoothing : float
        Dirichlet pseudo-count added to every confusion-matrix cell (and to the
        class counts of the prior). Keeps annotators seen on few items from getting
        zero-probability answers; ``0`` is the plain maximum-likelihood EM.
    device : str or None
        ``None`` runs the loop in numpy/scipy. A torch device name (``"cuda"``,
        ``"cuda:1"``, ``"cpu"``, ``"mps"``) runs it in torch on that device with
        ``index_add_`` over the annotation arrays (optional extra ``labelwise[gpu]``);
        a device that is not there raises :class:`~labelwise.errors.ResourceError`,
        never a silent fallback to the CPU.

    Attributes
    ----------
    proba_ : ndarray (n_items, n_classes)
    confusion_ : ndarray (n_workers, n_classes, n_classes)
        ``confusion_[w, k, l]`` = P(worker w answers l | true class k).
    prior_ : ndarray (n_classes,)
    skill_ : ndarray (n_workers,)
        Probability of a correct answer under ``prior_``.
    log_likelihood_ : list of float
        Data log-likelihood after each iteration.
    n_iter_ : int
    converged_ : bool

    Notes
    -----
    Needs ``n_workers * K * K`` confusion cells: with thousands of classes the fit is
    refused with a :class:`~labelwise.errors.ResourceError` giving the estimated
    memory before anything large is allocated (limit 4 GiB, ``LABELWISE_MAX_MEMORY``).
    Initialised from the soft majority vote. Gold labels, when given, are clamped
    on their items in every E-step, so they anchor the confusion matrices. The loop
    runs in float32 (half the memory traffic of the two sparse products, which
    dominate); the log-likelihood is summed and the posterior returned in float64.

    Examples
    --------
    >>> from labelwise import Annotations, DawidSkene
    >>> ann = Annotations.from_arrays([1, 1, 1, 2, 2, 2], list("abcabc"), list("xxyyyx"))
    >>> DawidSkene().fit(ann).labels_.tolist()
    ['x', 'y']
    """

    _loop_dtype = np.float32

    def __init__(
        self,
        *,
        max_iter: int = 100,
        tol: float = 1e-5,
        smoothing: float = 0.01,
        device: str | None = None,
    ):
        self.max_iter = max_iter
        self.tol = tol
        self.smoothing = smoothing
        self.device = device

    def _prepare(self, annotations: Annotations) -> None:
        n, w, k = annotations.n_items, annotations.n_workers, annotations.n_classes
        # float32 posterior and log-likelihood in the loop, float64 result; confusion
        # counts, matrices and their float32 logs
        check_memory(
            type(self).__name__,
            annotations,
            n * k * (3 * 4 + 2 * 8) + w * k * k * (3 * 8 + 4),
            f"{w:,} confusion matrices of {k:,} x {k:,} and {n:,} x {k:,} posteriors",
        )
        self._s = (
            IndexedAnswers(annotations)
            if annotations.n_annotations <= INDEXED_ANSWERS_LIMIT
            else annotations.answer_matrix(np.float32)
        )

    def _m_step(self, annotations: Annotations, posterior: NDArray[np.floating]) -> None:
        # S.T is a CSC view: the product needs no transposed copy of S
        self.confusion_ = dawid_skene_m_step(
            self._s.T, posterior, annotations.n_workers, annotations.n_classes, self.smoothing
        )

    def _answer_log_likelihood(self, annotations: Annotations) -> NDArray[np.floating]:
        return np.asarray(self._s @ log_confusion_rows(self.confusion_))

    def _finalize(self, annotations: Annotations, posterior: NDArray[np.float64]) -> None:
        self.__dict__.pop("_s", None)  # the torch path never built it
        self.confusion_ = self.confusion_.astype(np.float64)
        self.skill_ = expected_accuracy(self.confusion_, self.prior_)


class OneCoinDawidSkene(SparseEMMixin, EMAggregator):
    """Dawid-Skene with one accuracy per annotator (errors spread evenly over the rest).

    ``P(answer l | true k) = p_w`` if ``l == k`` else ``(1 - p_w) / (K - 1)``.
    Fewer parameters than :class:`DawidSkene` (one per annotator instead of K²),
    so it is the better choice when annotators label few items each.

    Parameters
    ----------
    max_iter, tol
        As in :class:`DawidSkene`.
    smoothing : float
        Beta pseudo-counts: ``smoothing`` right and ``smoothing`` wrong answers are
        added to every annotator's counts.
    device : str or None
        As in :class:`DawidSkene` (the torch path needs the dense posterior, so not
        with many classes).

    Attributes
    ----------
    skill_ : ndarray (n_workers,)
        The accuracy ``p_w``.
    confusion_ : ndarray (n_workers, K, K)
        The implied confusion matrices (not set with many classes).

    Notes
    -----
    With many classes (``n_items * K`` over ``aggregate._sparse.DENSE_CELL_LIMIT``)
    the fit runs over answered cells only: ``proba_`` is a ``scipy.sparse.csr_array``
    with each item's posterior on the classes it was answered (or its gold class), and
    ``proba_rest_`` (n_items,) the posterior mass of all other classes together, spread
    over them in proportion to ``prior_``. The result equals the dense fit's; the label
    is the most probable answered class.
    """

    def __init__(
        self,
        *,
        max_iter: int = 100,
        tol: float = 1e-5,
        smoothing: float = 0.5,
        device: str | None = None,
    ):
        self.max_iter = max_iter
        self.tol = tol
        self.smoothing = smoothing
        self.device = device

    def _prepare(self, annotations: Annotations) -> None:
        self._n_w = annotations.annotations_per_worker().astype(float)
        self._cell = annotations.item.astype(np.int64) * annotations.n_classes + annotations.label

    def _m_step(self, annotations: Annotations, posterior: NDArray[np.floating]) -> None:
        self._m_step_correct(annotations, posterior[annotations.item, annotations.label])

    def _m_step_correct(self, annotations: Annotations, correct: NDArray[np.floating]) -> None:
        """M-step from the posterior of each answer's own label."""
        hits = np.bincount(annotations.worker, weights=correct, minlength=annotations.n_workers)
        acc = (hits + self.smoothing) / (self._n_w + 2 * self.smoothing)
        self.skill_ = np.clip(acc, 1e-9, 1 - 1e-9)

    def _answer_terms(
        self, annotations: Annotations
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Per answer: log P(answer | another class) and log-ratio right / wrong."""
        acc, k = self.skill_, annotations.n_classes
        log_wrong = np.log((1 - acc) / (k - 1))
        log_ratio = np.log(acc) - log_wrong
        w = annotations.worker
        return log_wrong[w], log_ratio[w]

    def _answer_log_likelihood(self, annotations: Annotations) -> NDArray[np.floating]:
        k, n = annotations.n_classes, annotations.n_items
        log_wrong, log_ratio = self._answer_terms(annotations)
        base = np.bincount(annotations.item, weights=log_wrong, minlength=n)
        bonus = np.bincount(self._cell, weights=log_ratio, minlength=n * k).reshape(n, k)
        return base[:, None] + bonus

    def _finalize(self, annotations: Annotations, posterior: NDArray[np.float64]) -> None:
        if uses_sparse(annotations):
            return  # (n_workers, K, K) would not fit: skill_ is the whole model
        k, acc = annotations.n_classes, self.skill_
        conf = np.repeat(((1 - acc) / (k - 1))[:, None, None], k, axis=1).repeat(k, axis=2)
        idx = np.arange(k)
        conf[:, idx, idx] = acc[:, None]
        self.confusion_ = conf
