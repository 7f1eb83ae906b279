"""Model-assisted routing: a classifier trained on the current consensus gives each
item a prior, so that items the model finds easy need fewer human answers.

At every re-estimation of the annotators, a classifier is fitted on the answered
items whose posterior is confident, and predicts every item. Predictions are
cross-fitted over two folds of the items: an item's prior always comes from the
model trained on the other fold, never from one that saw that item's label. The
prior is mixed with the uniform distribution (``floor``) so that a confident model
mistake can still be overturned by the annotators. The annotators' skills are always
estimated from their answers alone (see :meth:`CampaignState.answer_posterior`), so
the model cannot talk the campaign into trusting the wrong people.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelwise._validation import check_number
from labelwise.errors import InputError
from labelwise.routing._state import CampaignState
from labelwise.routing.policies import RoutingPolicy

__all__ = ["ModelAssisted"]


def _default_estimator() -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))


class ModelAssisted(RoutingPolicy):
    """Wrap a policy; a classifier on the item features supplies per-item priors.

    Parameters
    ----------
    policy : RoutingPolicy
        Chooses the items and decides when they are finished (typically
        :class:`~labelwise.routing.DynamicOverlap` or
        :class:`~labelwise.routing.InformationGain`), now with the model's prior in
        every posterior.
    estimator : scikit-learn classifier, optional
        With ``predict_proba``; a standardised logistic regression by default.
    confident : float in (0, 1)
        Training items are answered items whose posterior reaches this.
    min_train : int
        Train only once this many items qualify.
    floor : float in (0, 1)
        Weight of the uniform distribution mixed into the model's probabilities.
    regrow : float
        Refit only when the training set has grown by this factor since the last fit
        (the classifier changes little between re-estimations, and refits cost most).
    """

    def __init__(
        self,
        policy: RoutingPolicy,
        estimator: Any = None,
        *,
        confident: float = 0.9,
        min_train: int = 30,
        floor: float = 0.05,
        regrow: float = 1.5,
    ):
        self.policy = policy
        self.estimator = estimator
        self.confident = confident
        self.min_train = min_train
        self.floor = floor
        self.regrow = regrow

    def _check_params(self) -> None:
        name = "ModelAssisted"
        if not isinstance(self.policy, RoutingPolicy):
            raise InputError(
                f"ModelAssisted wraps a RoutingPolicy; got {type(self.policy).__name__}."
            )
        check_number(
            self.confident, "confident", name, low=0, high=1, low_open=True, high_open=True
        )
        check_number(self.min_train, "min_train", name, kind=int, low=2)
        check_number(self.floor, "floor", name, low=0, high=1, low_open=True, high_open=True)
        check_number(self.regrow, "regrow", name, low=1)

    @property
    def max_answers(self) -> int:  # type: ignore[override]
        return self.policy.max_answers

    def bind(self, state: CampaignState) -> None:
        self._check_params()
        if state.features is None:
            raise InputError("ModelAssisted needs item features; pass features= to the campaign.")
        state.scratch["model_fold"] = state.rng.integers(0, 2, size=state.n_items)
        state.scratch["model_trained_on"] = 0
        self.policy.bind(state)

    def is_open(self, state: CampaignState) -> NDArray[np.bool_]:
        return self.policy.is_open(state)

    def priority(self, state: CampaignState) -> NDArray[np.float64]:
        return self.policy.priority(state)

    def worker_scores(
        self, workers: NDArray[np.int64], candidates: NDArray[np.int64], state: CampaignState
    ) -> NDArray[np.float64] | None:
        return self.policy.worker_scores(workers, candidates, state)

    def next_tasks(self, workers: NDArray[np.int64], state: CampaignState) -> NDArray[np.int64]:
        return self.policy.next_tasks(workers, state)

    def on_refresh(self, state: CampaignState) -> None:
        self.policy.on_refresh(state)
        proba = self.predict_prior(state)
        if proba is not None:
            state.set_item_log_prior(np.log(proba))

    def predict_prior(self, state: CampaignState) -> NDArray[np.float64] | None:
        """Cross-fitted, floored class probabilities for every item, or None when too
        few items are confident yet (or too few more than at the last fit)."""
        from sklearn.base import clone

        if state.features is None:
            raise InputError("ModelAssisted needs item features; pass features= to the campaign.")
        p = state.post
        labels = np.where(state.gold >= 0, state.gold, p.argmax(axis=1))
        train = ((state.n_answers > 0) & (state.confidence >= self.confident)) | (state.gold >= 0)
        n_train = int(train.sum())
        if n_train < self.regrow * state.scratch["model_trained_on"]:
            return None
        fold = state.scratch["model_fold"]
        k = state.n_classes
        out = np.empty((state.n_items, k))
        for f in (0, 1):
            fit_on = train & (fold != f)
            if fit_on.sum() < self.min_train or np.unique(labels[fit_on]).size < 2:
                return None
            est = clone(self.estimator if self.estimator is not None else _default_estimator())
            est.fit(state.features[fit_on], labels[fit_on])
            pred = np.zeros((int((fold == f).sum()), k))
            pred[:, np.asarray(est.classes_, dtype=np.int64)] = est.predict_proba(
                state.features[fold == f]
            )
            out[fold == f] = pred
        state.scratch["model_trained_on"] = n_train
        return (1 - self.floor) * out + self.floor / k  # type: ignore[no-any-return]
