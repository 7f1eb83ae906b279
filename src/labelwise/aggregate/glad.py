"""GLAD: annotator ability and item difficulty (Whitehill et al., NeurIPS 2009)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelwise._validation import check_number
from labelwise.aggregate._base import class_prior
from labelwise.aggregate._em import EMAggregator
from labelwise.aggregate._sparse_em import SparseEMMixin
from labelwise.annotations import Annotations

__all__ = ["GLAD"]


class GLAD(SparseEMMixin, EMAggregator):
    """Generative model of Labels, Abilities and Difficulties.

    Annotator ``w`` answers item ``i`` correctly with probability
    ``sigmoid(alpha_w * beta_i)``, where ``alpha_w`` is the ability (negative for an
    adversary) and ``beta_i = exp(b_i) > 0`` the inverse difficulty; a wrong answer
    is uniform over the other classes. EM alternates the class posterior with a
    few L-BFGS steps on ``alpha`` and ``b`` under Gaussian priors
    ``alpha ~ N(1, 1)``, ``b ~ N(0, 1)``, with gradients from ``np.bincount``.

    Parameters
    ----------
    max_iter : int
        Maximum EM iterations.
    tol : float
        Change of the log-likelihood per annotation that stops EM.
    m_step_iter : int
        L-BFGS iterations per M-step.
    smoothing : float
        Pseudo-count per class in the class prior.
    learn_prior : bool
        Estimate the class prior from the posterior. The default ``False`` keeps it
        uniform, as crowd-kit's GLAD does: a learned prior feeds on itself when items
        look hard (small ``beta`` makes every answer weak evidence, so the prior decides
        and then grows); on a two-class crowd with 39 answers per item a user saw it
        put 104 of 108 items in one class. On the six real crowds of
        ``benchmarks/aggregation_glad_prior.py`` the uniform prior is as accurate or
        better on five (web: 0.819 against 0.780) and 0.002 lower on one (temp).

    Attributes
    ----------
    ability_ : ndarray (n_workers,)
        ``alpha``.
    difficulty_ : ndarray (n_items,)
        ``1 / beta``: larger is harder.
    skill_ : ndarray (n_workers,)
        Mean probability of a correct answer over the items the annotator labeled.

    Notes
    -----
    With many classes ``proba_`` is sparse over the answered classes and
    ``proba_rest_`` holds the rest, as in :class:`OneCoinDawidSkene`.
    """

    def __init__(
        self,
        *,
        max_iter: int = 100,
        tol: float = 1e-5,
        m_step_iter: int = 25,
        smoothing: float = 0.01,
        learn_prior: bool = False,
    ):
        self.max_iter = max_iter
        self.tol = tol
        self.m_step_iter = m_step_iter
        self.smoothing = smoothing
        self.learn_prior = learn_prior

    def _check_params(self) -> None:
        super()._check_params()
        check_number(self.m_step_iter, "m_step_iter", type(self).__name__, kind=int, low=1)

    def _class_prior(self, posterior: NDArray[np.floating]) -> NDArray[np.float64]:
        k = posterior.shape[1]
        return class_prior(posterior, self.smoothing) if self.learn_prior else np.full(k, 1.0 / k)

    def _prepare(self, annotations: Annotations) -> None:
        self._cell = annotations.item.astype(np.int64) * annotations.n_classes + annotations.label
        self.ability_ = np.ones(annotations.n_workers)
        self._log_beta = np.zeros(annotations.n_items)

    def _neg_q(
        self, params: NDArray[np.float64], p: NDArray[np.float64], annotations: Annotations
    ) -> tuple[float, NDArray[np.float64]]:
        """Negative expected complete log-likelihood (with priors) and its gradient."""
        n_w, n_i = annotations.n_workers, annotations.n_items
        item, worker = annotations.item, annotations.worker
        a, bb = params[:n_w], params[n_w:]
        beta = np.exp(bb)
        x = a[worker] * beta[item]
        q = np.sum(-p * np.logaddexp(0, -x) - (1 - p) * np.logaddexp(0, x))
        q -= 0.5 * np.sum((a - 1) ** 2) + 0.5 * np.sum(bb**2)
        g = p - expit(x)
        ga = np.bincount(worker, weights=g * beta[item], minlength=n_w) - (a - 1)
        gb = np.bincount(item, weights=g * x, minlength=n_i) - bb
        return -float(q), -np.concatenate([ga, gb])

    def _m_step(self, annotations: Annotations, posterior: NDArray[np.floating]) -> None:
        self._m_step_correct(annotations, posterior[annotations.item, annotations.label])

    def _m_step_correct(self, annotations: Annotations, p_correct: NDArray[np.floating]) -> None:
        """M-step from the posterior of each answer's own label."""
        from threadpoolctl import threadpool_limits

        # L-BFGS-B's small BLAS calls run 5-8x slower when OpenBLAS spreads them over
        # threads (measured on 2 busy cores: 6.7 s -> 0.8 s for RTE's 8,000 answers)
        with threadpool_limits(1):
            res = minimize(
                self._neg_q,
                np.concatenate([self.ability_, self._log_beta]),
                args=(p_correct, annotations),
                jac=True,
                method="L-BFGS-B",
                options={"maxiter": self.m_step_iter},
            )
        self.ability_ = res.x[: annotations.n_workers]
        self._log_beta = res.x[annotations.n_workers :]

    def _answer_terms(
        self, annotations: Annotations
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Per answer: log P(answer | another class) and log-ratio right / wrong."""
        x = self.ability_[annotations.worker] * np.exp(self._log_beta[annotations.item])
        log_right = -np.logaddexp(0, -x)
        log_wrong = -np.logaddexp(0, x) - np.log(annotations.n_classes - 1)
        return log_wrong, log_right - log_wrong

    def _answer_log_likelihood(self, annotations: Annotations) -> NDArray[np.floating]:
        k, n = annotations.n_classes, annotations.n_items
        log_wrong, log_ratio = self._answer_terms(annotations)
        base = np.bincount(annotations.item, weights=log_wrong, minlength=n)
        bonus = np.bincount(self._cell, weights=log_ratio, minlength=n * k)
        return base[:, None] + bonus.reshape(n, k)

    def _finalize(self, annotations: Annotations, posterior: NDArray[np.float64]) -> None:
        worker, n_w = annotations.worker, annotations.n_workers
        self.difficulty_ = np.exp(-self._log_beta)
        p_right = expit(self.ability_[worker] * np.exp(self._log_beta[annotations.item]))
        counts = np.bincount(worker, minlength=n_w)
        self.skill_ = np.where(
            counts > 0,
            np.bincount(worker, weights=p_right, minlength=n_w) / np.maximum(counts, 1),
            expit(self.ability_),
        )


# scipy.optimize costs about 0.4 s to import: load it when a GLAD is fitted, not on
# every ``import labelwise`` (and every CLI call).
def expit(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """The logistic function (scipy's, imported on first use)."""
    from scipy.special import expit as _expit

    return np.asarray(_expit(x))


def minimize(*args: Any, **kwargs: Any) -> Any:
    """``scipy.optimize.minimize``, imported on first use."""
    from scipy.optimize import minimize as _minimize

    return _minimize(*args, **kwargs)
