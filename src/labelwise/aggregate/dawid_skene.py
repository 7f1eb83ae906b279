"""Dawid-Skene EM: full confusion matrices, and its one-coin special case.

Both are written over the one-hot answer matrix ``S`` (items x workers*K): the
E-step is one sparse-dense product ``S @ log(pi)`` and the M-step one product
``S.T @ T``; nothing loops over annotations in Python.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from labelwise._validation import check_number
from labelwise.aggregate._base import (
    BaseAggregator,
    clamp_gold,
    class_prior,
    expected_accuracy,
    gold_log_likelihood,
    has_converged,
    normalise_rows,
    vote_share,
)
from labelwise.annotations import Annotations

__all__ = ["DawidSkene", "OneCoinDawidSkene", "dawid_skene_m_step"]


def dawid_skene_m_step(
    st: object, posterior: NDArray[np.float64], n_workers: int, n_classes: int, smoothing: float
) -> NDArray[np.float64]:
    """Return confusion matrices (n_workers, K true, K given) from ``S.T @ posterior``.

    ``smoothing`` is a symmetric Dirichlet pseudo-count added to every cell.
    ``st`` is the transposed answer matrix (or any object with ``@``), so the
    same step serves in-memory arrays and partition-wise sums.
    """
    k = n_classes
    counts = np.asarray(st @ posterior).reshape(n_workers, k, k).transpose(0, 2, 1)
    counts = counts + smoothing
    totals = counts.sum(axis=2, keepdims=True)
    return counts / np.where(totals > 0, totals, 1.0)  # type: ignore[no-any-return]


class DawidSkene(BaseAggregator):
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
    Initialised from the soft majority vote. Gold labels, when given, are clamped
    on their items in every E-step, so they anchor the confusion matrices.

    Examples
    --------
    >>> from labelwise import Annotations, DawidSkene
    >>> ann = Annotations.from_arrays([1, 1, 1, 2, 2, 2], list("abcabc"), list("xxyyyx"))
    >>> DawidSkene().fit(ann).labels_.tolist()
    ['x', 'y']
    """

    def __init__(self, *, max_iter: int = 100, tol: float = 1e-5, smoothing: float = 0.01):
        self.max_iter = max_iter
        self.tol = tol
        self.smoothing = smoothing

    def _check_params(self) -> None:
        name = type(self).__name__
        check_number(self.max_iter, "max_iter", name, kind=int, low=1)
        check_number(self.tol, "tol", name, low=0, high=1, low_open=True, high_open=True)
        check_number(self.smoothing, "smoothing", name, low=0)

    def _fit(self, annotations: Annotations, gold: NDArray[np.int32]) -> None:
        # The loop runs in float32: half the memory traffic of float64 for the two
        # sparse products and the normalisation, which dominate; the log-likelihood
        # is summed in float64 and the final posterior is returned in float64.
        f32 = np.float32
        s = annotations.answer_matrix(f32)
        st = s.T  # a CSC view: S.T @ T without building a transposed copy
        w, k = annotations.n_workers, annotations.n_classes
        post = vote_share(annotations, gold).astype(f32)
        history: list[float] = []
        self.converged_ = False
        for it in range(1, self.max_iter + 1):
            confusion = dawid_skene_m_step(st, post, w, k, self.smoothing)
            prior = class_prior(post, self.smoothing)
            with np.errstate(divide="ignore"):
                log_conf = np.log(confusion).astype(f32)
            # rows (worker, given label) -> columns true class
            m = np.ascontiguousarray(log_conf.transpose(0, 2, 1).reshape(w * k, k))
            log_unnorm = np.asarray(s @ m)
            log_unnorm += np.log(prior).astype(f32)
            post, lse = normalise_rows(log_unnorm)
            clamp_gold(post, gold)
            history.append(gold_log_likelihood(log_unnorm, lse, gold))
            self.n_iter_ = it
            if has_converged(history, self.tol, annotations.n_annotations):
                self.converged_ = True
                break
        if not self.converged_:
            self._warn_not_converged()
        post64 = post.astype(np.float64)
        post64 /= post64.sum(axis=1, keepdims=True)
        self.confusion_ = dawid_skene_m_step(st, post, w, k, self.smoothing).astype(np.float64)
        self.prior_ = class_prior(post64, self.smoothing)
        self.proba_ = post64
        self.log_likelihood_ = history
        self.skill_ = expected_accuracy(self.confusion_, self.prior_)


class OneCoinDawidSkene(BaseAggregator):
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

    Attributes
    ----------
    skill_ : ndarray (n_workers,)
        The accuracy ``p_w``.
    confusion_ : ndarray (n_workers, K, K)
        The implied confusion matrices.
    """

    def __init__(self, *, max_iter: int = 100, tol: float = 1e-5, smoothing: float = 0.5):
        self.max_iter = max_iter
        self.tol = tol
        self.smoothing = smoothing

    def _check_params(self) -> None:
        name = type(self).__name__
        check_number(self.max_iter, "max_iter", name, kind=int, low=1)
        check_number(self.tol, "tol", name, low=0, high=1, low_open=True, high_open=True)
        check_number(self.smoothing, "smoothing", name, low=0)

    def _fit(self, annotations: Annotations, gold: NDArray[np.int32]) -> None:
        k = annotations.n_classes
        item, worker, label = annotations.item, annotations.worker, annotations.label
        n_w = np.bincount(worker, minlength=annotations.n_workers).astype(float)
        cell = item.astype(np.int64) * k + label
        post = vote_share(annotations, gold)
        history: list[float] = []
        self.converged_ = False
        acc = np.full(annotations.n_workers, 0.7)
        for it in range(1, self.max_iter + 1):
            correct = post[item, label]
            acc = (
                np.bincount(worker, weights=correct, minlength=annotations.n_workers)
                + self.smoothing
            ) / (n_w + 2 * self.smoothing)
            acc = np.clip(acc, 1e-9, 1 - 1e-9)
            prior = class_prior(post, self.smoothing)
            log_wrong = np.log((1 - acc) / (k - 1))
            log_ratio = np.log(acc) - log_wrong
            base = np.bincount(item, weights=log_wrong[worker], minlength=annotations.n_items)
            bonus = np.bincount(
                cell, weights=log_ratio[worker], minlength=annotations.n_items * k
            ).reshape(annotations.n_items, k)
            log_unnorm = base[:, None] + bonus + np.log(prior)
            post, lse = normalise_rows(log_unnorm)
            clamp_gold(post, gold)
            history.append(gold_log_likelihood(log_unnorm, lse, gold))
            self.n_iter_ = it
            if has_converged(history, self.tol, annotations.n_annotations):
                self.converged_ = True
                break
        if not self.converged_:
            self._warn_not_converged()
        self.proba_ = post
        self.prior_ = class_prior(post, self.smoothing)
        self.skill_ = acc
        off = (1 - acc) / (k - 1)
        conf = np.repeat(off[:, None, None], k, axis=1).repeat(k, axis=2)
        idx = np.arange(k)
        conf[:, idx, idx] = acc[:, None]
        self.confusion_ = conf
        self.log_likelihood_ = history
