"""MACE: Multi-Annotator Competence Estimation (Hovy et al., NAACL 2013)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from labelwise.aggregate._em import EMAggregator
from labelwise.aggregate._sparse import check_memory, uses_sparse
from labelwise.aggregate._sparse_em import SparseEMMixin
from labelwise.annotations import Annotations

__all__ = ["MACE"]

_EPS = 1e-9


class MACE(SparseEMMixin, EMAggregator):
    """Annotators who either know the answer or spam by a strategy of their own.

    With probability ``competence_[w]`` annotator ``w`` gives the true class; else
    they "spam" and draw a label from their own distribution ``strategy_[w]``
    (a uniform clicker, or someone who always picks the first option). So
    ``P(answer l | true k) = theta_w [l = k] + (1 - theta_w) xi_w[l]``.

    Fitted by EM from the soft majority vote, with Beta and Dirichlet
    pseudo-counts (``smoothing``) on ``theta`` and ``xi``.

    Parameters
    ----------
    max_iter, tol
        EM stopping rule, as in :class:`DawidSkene`.
    smoothing : float
        Pseudo-count added to the competence (right and spam) and strategy counts.

    Attributes
    ----------
    competence_ : ndarray (n_workers,)
        ``theta``: the probability that an answer is not spam.
    strategy_ : ndarray (n_workers, n_classes)
        ``xi``: the label distribution when spamming.
    skill_ : ndarray (n_workers,)
        Probability of a correct answer: ``theta + (1 - theta) * sum_k prior_k xi_k``.
    confusion_ : ndarray (n_workers, n_classes, n_classes)
        Not set with many classes, where ``proba_`` is sparse over the answered classes
        and ``proba_rest_`` holds the rest, as in :class:`OneCoinDawidSkene`.
    """

    def __init__(self, *, max_iter: int = 100, tol: float = 1e-5, smoothing: float = 0.5):
        self.max_iter = max_iter
        self.tol = tol
        self.smoothing = smoothing

    def _prepare(self, annotations: Annotations) -> None:
        n, w, k = annotations.n_items, annotations.n_workers, annotations.n_classes
        if uses_sparse(annotations):  # only the (n_workers, K) strategies stay dense
            need, what = w * k * 8 * 4, f"{w:,} spam strategies over {k:,} classes"
        else:
            need = n * k * 8 * 4 + w * k * k * 8 + w * k * 8 * 3
            what = f"{n:,} x {k:,} posteriors and {w:,} confusion matrices of {k:,} x {k:,}"
        check_memory(type(self).__name__, annotations, need, what)
        self._cell = annotations.item.astype(np.int64) * k + annotations.label
        self._wcell = annotations.worker.astype(np.int64) * k + annotations.label
        self._n_w = annotations.annotations_per_worker().astype(float)
        self.competence_ = np.full(annotations.n_workers, 0.8)
        self.strategy_ = np.full((annotations.n_workers, k), 1.0 / k)

    def _m_step(self, annotations: Annotations, posterior: NDArray[np.floating]) -> None:
        self._m_step_correct(annotations, posterior[annotations.item, annotations.label])

    def _m_step_correct(self, annotations: Annotations, p_right: NDArray[np.floating]) -> None:
        """M-step from the posterior of each answer's own label."""
        # split each answer into "truthful" and "spam" by its posterior
        worker, label = annotations.worker, annotations.label
        theta, xi, s = self.competence_, self.strategy_, self.smoothing
        n_w, k = annotations.n_workers, annotations.n_classes
        spam_l = (1 - theta[worker]) * xi[worker, label]
        truthful = p_right * theta[worker] / np.maximum(theta[worker] + spam_l, _EPS)
        theta = (np.bincount(worker, weights=truthful, minlength=n_w) + s) / (self._n_w + 2 * s)
        xi_counts = np.bincount(self._wcell, weights=1.0 - truthful, minlength=n_w * k)
        xi_counts = xi_counts.reshape(n_w, k) + s
        xi = xi_counts / np.maximum(xi_counts.sum(axis=1, keepdims=True), _EPS)
        self.competence_ = np.clip(theta, _EPS, 1 - _EPS)
        self.strategy_ = np.clip(xi, _EPS, 1.0)

    def _answer_terms(
        self, annotations: Annotations
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Per answer: log P(answer | another class) (spam) and log-ratio true / spam."""
        worker, label = annotations.worker, annotations.label
        theta, xi = self.competence_[worker], self.strategy_[worker, label]
        log_spam = np.log((1 - theta) * xi)
        return log_spam, np.log(theta + (1 - theta) * xi) - log_spam

    def _answer_log_likelihood(self, annotations: Annotations) -> NDArray[np.floating]:
        k, n = annotations.n_classes, annotations.n_items
        log_spam, log_ratio = self._answer_terms(annotations)
        base = np.bincount(annotations.item, weights=log_spam, minlength=n)
        bonus = np.bincount(self._cell, weights=log_ratio, minlength=n * k)
        return base[:, None] + bonus.reshape(n, k)

    def _finalize(self, annotations: Annotations, posterior: NDArray[np.float64]) -> None:
        theta, xi, k = self.competence_, self.strategy_, annotations.n_classes
        self.skill_ = theta + (1 - theta) * (xi @ self.prior_)
        if uses_sparse(annotations):
            return  # (n_workers, K, K) would not fit: competence_ and strategy_ are the model
        conf = (1 - theta)[:, None, None] * xi[:, None, :] * np.ones((1, k, 1))
        idx = np.arange(k)
        conf[:, idx, idx] += theta[:, None]
        self.confusion_ = conf
