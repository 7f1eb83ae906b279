"""GLAD: annotator ability and item difficulty (Whitehill et al., NeurIPS 2009)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelwise._validation import check_number
from labelwise.aggregate._base import class_prior
from labelwise.aggregate._em import EMAggregator
from labelwise.annotations import Annotations

__all__ = ["GLAD"]


class GLAD(EMAggregator):
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
        Estimate the class prior from the posterior (default). ``False`` keeps it
        uniform, as crowd-kit's GLAD does.

    Attributes
    ----------
    ability_ : ndarray (n_workers,)
        ``alpha``.
    difficulty_ : ndarray (n_items,)
        ``1 / beta``: larger is harder.
    skill_ : ndarray (n_workers,)
        Mean probability of a correct answer over the items the annotator labeled.
    """

    def __init__(
        self,
        *,
        max_iter: int = 100,
        tol: float = 1e-5,
        m_step_iter: int = 25,
        smoothing: float = 0.01,
        learn_prior: bool = True,
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
        p_correct = posterior[annotations.item, annotations.label]
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

    def _answer_log_likelihood(self, annotations: Annotations) -> NDArray[np.floating]:
        k, n = annotations.n_classes, annotations.n_items
        x = self.ability_[annotations.worker] * np.exp(self._log_beta[annotations.item])
        log_right = -np.logaddexp(0, -x)
        log_wrong = -np.logaddexp(0, x) - np.log(k - 1)
        base = np.bincount(annotations.item, weights=log_wrong, minlength=n)
        bonus = np.bincount(self._cell, weights=log_right - log_wrong, minlength=n * k)
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
