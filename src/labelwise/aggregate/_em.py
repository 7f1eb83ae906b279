"""The EM loop shared by Dawid-Skene, one-coin Dawid-Skene, GLAD and MACE.

Each model supplies only its M-step (parameters from the item posterior) and the
E-step's per-item, per-class log-likelihood of the answers; the loop, the class
prior, gold clamping, the stopping rule and the log-likelihood history live here
once.
"""

from __future__ import annotations

from abc import abstractmethod

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

__all__ = ["EMAggregator"]


class EMAggregator(BaseAggregator):
    """Base of the EM aggregators: ``max_iter``, ``tol`` and ``smoothing`` and the loop.

    Subclasses implement ``_m_step(annotations, posterior)`` (store parameters on
    ``self``), ``_answer_log_likelihood(annotations)`` returning (n_items, K) log
    P(answers of item i | true class k), and ``_finalize(annotations, posterior)``
    (set ``skill_``, ``confusion_`` ...). The loop starts from the soft majority vote.
    """

    #: dtype of the posterior inside the loop (Dawid-Skene runs in float32 for speed)
    _loop_dtype: type = np.float64
    _accepts_item_prior = True
    _item_prior: NDArray[np.float64] | None

    max_iter: int
    tol: float
    smoothing: float

    def _check_params(self) -> None:
        name = type(self).__name__
        check_number(self.max_iter, "max_iter", name, kind=int, low=1)
        check_number(self.tol, "tol", name, low=0, high=1, low_open=True, high_open=True)
        check_number(self.smoothing, "smoothing", name, low=0)

    # ------------------------------------------------------------ subclass API
    def _prepare(self, annotations: Annotations) -> None:
        """Precompute what every iteration needs (index arrays, sparse views)."""

    @abstractmethod
    def _m_step(self, annotations: Annotations, posterior: NDArray[np.floating]) -> None: ...

    @abstractmethod
    def _answer_log_likelihood(self, annotations: Annotations) -> NDArray[np.floating]: ...

    @abstractmethod
    def _finalize(self, annotations: Annotations, posterior: NDArray[np.float64]) -> None: ...

    def _class_prior(self, posterior: NDArray[np.floating]) -> NDArray[np.float64]:
        """The class prior used in the E-step; learned from the posterior by default."""
        return class_prior(posterior, self.smoothing)

    # -------------------------------------------------------------------- loop
    def _fit(self, annotations: Annotations, gold: NDArray[np.int32]) -> None:
        if getattr(self, "device", None) is not None:
            from labelwise.aggregate._torch import fit_em_torch

            fit_em_torch(self, annotations, gold)
            return
        self._prepare(annotations)
        item_prior = getattr(self, "_item_prior", None)
        log_item_prior = None
        start = vote_share(annotations, gold)
        if item_prior is not None:
            log_item_prior = np.log(item_prior).astype(self._loop_dtype)
            # items without answers start (and stay) at the prior
            empty = np.bincount(annotations.item, minlength=annotations.n_items) == 0
            start[empty & (gold < 0)] = item_prior[empty & (gold < 0)]
        post: NDArray[np.floating] = start.astype(self._loop_dtype)
        history: list[float] = []
        self.converged_ = False
        for it in range(1, self.max_iter + 1):
            self._m_step(annotations, post)
            log_unnorm = self._answer_log_likelihood(annotations)
            if log_item_prior is None:
                log_unnorm += np.log(self._class_prior(post)).astype(log_unnorm.dtype)
            else:
                log_unnorm += log_item_prior
            post, lse = normalise_rows(log_unnorm)
            clamp_gold(post, gold)
            history.append(gold_log_likelihood(log_unnorm, lse, gold))
            self.n_iter_ = it
            if has_converged(history, self.tol, annotations.n_annotations):
                self.converged_ = True
                break
        if not self.converged_:
            self._warn_not_converged()
        # parameters consistent with the posterior that is returned
        self._m_step(annotations, post)
        post64 = post.astype(np.float64)
        post64 /= post64.sum(axis=1, keepdims=True)
        self.proba_ = post64
        self.prior_ = self._class_prior(post64)
        self.log_likelihood_ = history
        self._finalize(annotations, post64)
