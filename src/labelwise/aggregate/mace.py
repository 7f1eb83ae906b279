"""MACE: Multi-Annotator Competence Estimation (Hovy et al., NAACL 2013)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from labelwise._validation import check_number
from labelwise.aggregate._base import (
    BaseAggregator,
    clamp_gold,
    class_prior,
    gold_log_likelihood,
    has_converged,
    normalise_rows,
    vote_share,
)
from labelwise.annotations import Annotations

__all__ = ["MACE"]

_EPS = 1e-9


class MACE(BaseAggregator):
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
        n_items, n_workers = annotations.n_items, annotations.n_workers
        item, worker, label = annotations.item, annotations.worker, annotations.label
        cell = item.astype(np.int64) * k + label
        wcell = worker.astype(np.int64) * k + label
        n_w = np.bincount(worker, minlength=n_workers).astype(float)
        s = self.smoothing
        post = vote_share(annotations, gold)
        theta = np.full(n_workers, 0.8)
        xi = np.full((n_workers, k), 1.0 / k)
        history: list[float] = []
        self.converged_ = False
        for it in range(1, self.max_iter + 1):
            # M-step: split each answer into "truthful" and "spam" by its posterior
            p_right = post[item, label]
            spam_l = (1 - theta[worker]) * xi[worker, label]
            truthful = p_right * theta[worker] / np.maximum(theta[worker] + spam_l, _EPS)
            spam = 1.0 - truthful
            theta = (np.bincount(worker, weights=truthful, minlength=n_workers) + s) / (n_w + 2 * s)
            theta = np.clip(theta, _EPS, 1 - _EPS)
            xi_counts = np.bincount(wcell, weights=spam, minlength=n_workers * k).reshape(
                n_workers, k
            )
            xi_counts = xi_counts + s
            xi = xi_counts / np.maximum(xi_counts.sum(axis=1, keepdims=True), _EPS)
            xi = np.clip(xi, _EPS, 1.0)
            prior = class_prior(post, s)
            # E-step
            log_spam = np.log((1 - theta[worker]) * xi[worker, label])
            log_true = np.log(theta[worker] + (1 - theta[worker]) * xi[worker, label])
            base = np.bincount(item, weights=log_spam, minlength=n_items)
            bonus = np.bincount(cell, weights=log_true - log_spam, minlength=n_items * k)
            log_unnorm = base[:, None] + bonus.reshape(n_items, k) + np.log(prior)
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
        self.prior_ = class_prior(post, s)
        self.competence_ = theta
        self.strategy_ = xi
        self.skill_ = theta + (1 - theta) * (xi @ self.prior_)
        conf = (1 - theta)[:, None, None] * xi[:, None, :] * np.ones((1, k, 1))
        idx = np.arange(k)
        conf[:, idx, idx] += theta[:, None]
        self.confusion_ = conf
        self.log_likelihood_ = history
