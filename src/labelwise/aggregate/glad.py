"""GLAD: annotator ability and item difficulty (Whitehill et al., NeurIPS 2009)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import expit

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

__all__ = ["GLAD"]


class GLAD(BaseAggregator):
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
        name = type(self).__name__
        check_number(self.max_iter, "max_iter", name, kind=int, low=1)
        check_number(self.tol, "tol", name, low=0, high=1, low_open=True, high_open=True)
        check_number(self.m_step_iter, "m_step_iter", name, kind=int, low=1)
        check_number(self.smoothing, "smoothing", name, low=0)

    def _fit(self, annotations: Annotations, gold: NDArray[np.int32]) -> None:
        k = annotations.n_classes
        n_items, n_workers = annotations.n_items, annotations.n_workers
        item, worker, label = annotations.item, annotations.worker, annotations.label
        cell = item.astype(np.int64) * k + label
        post = vote_share(annotations, gold)
        alpha = np.ones(n_workers)
        b = np.zeros(n_items)
        history: list[float] = []
        self.converged_ = False
        log_k1 = np.log(k - 1)

        def neg_q(
            params: NDArray[np.float64], p: NDArray[np.float64]
        ) -> tuple[float, NDArray[np.float64]]:
            a, bb = params[:n_workers], params[n_workers:]
            beta = np.exp(bb)
            x = a[worker] * beta[item]
            q = np.sum(-p * np.logaddexp(0, -x) - (1 - p) * np.logaddexp(0, x))
            q -= 0.5 * np.sum((a - 1) ** 2) + 0.5 * np.sum(bb**2)
            g = p - expit(x)
            ga = np.bincount(worker, weights=g * beta[item], minlength=n_workers) - (a - 1)
            gb = np.bincount(item, weights=g * x, minlength=n_items) - bb
            return -float(q), -np.concatenate([ga, gb])

        for it in range(1, self.max_iter + 1):
            p_correct = post[item, label]
            res = minimize(
                neg_q,
                np.concatenate([alpha, b]),
                args=(p_correct,),
                jac=True,
                method="L-BFGS-B",
                options={"maxiter": self.m_step_iter},
            )
            alpha, b = res.x[:n_workers], res.x[n_workers:]
            prior = class_prior(post, self.smoothing) if self.learn_prior else np.full(k, 1.0 / k)
            x = alpha[worker] * np.exp(b[item])
            log_right = -np.logaddexp(0, -x)
            log_wrong = -np.logaddexp(0, x) - log_k1
            base = np.bincount(item, weights=log_wrong, minlength=n_items)
            bonus = np.bincount(cell, weights=log_right - log_wrong, minlength=n_items * k)
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
        self.prior_ = class_prior(post, self.smoothing) if self.learn_prior else np.full(k, 1.0 / k)
        self.ability_ = alpha
        self.difficulty_ = np.exp(-b)
        p_right = expit(alpha[worker] * np.exp(b[item]))
        n_w = np.bincount(worker, minlength=n_workers)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.skill_ = np.where(
                n_w > 0,
                np.bincount(worker, weights=p_right, minlength=n_workers) / np.maximum(n_w, 1),
                expit(alpha),
            )
        self.log_likelihood_ = history
