"""When to stop buying labels: stabilising predictions, or no uncertainty left.

A rule is asked after every round of :meth:`ActiveLearner.run` through
``should_stop(learner)``; ``reset()`` is called at the start of each run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from labelwise._validation import check_features, check_number

if TYPE_CHECKING:
    from labelwise.active.learner import ActiveLearner

__all__ = ["MaxUncertainty", "StabilizingPredictions"]


class StabilizingPredictions:
    """Stop once predictions on a held set stop changing (Bloodgood & Vijay-Shanker 2009).

    Cohen's kappa between the predictions of two successive models on ``X_held``
    (unlabeled items are enough) must reach ``threshold`` for ``window`` rounds in a row.
    """

    name = "stabilizing predictions"

    def __init__(self, X_held: ArrayLike, *, threshold: float = 0.99, window: int = 3):
        self.X_held = X_held
        self.threshold = threshold
        self.window = window

    def reset(self) -> None:
        check_number(self.threshold, "threshold", "StabilizingPredictions", low=-1, high=1)
        check_number(self.window, "window", "StabilizingPredictions", kind=int, low=1)
        self._X = check_features(self.X_held, "X_held")
        self._previous: Any = None
        self._streak = 0
        self.kappas_: list[float] = []

    def should_stop(self, learner: ActiveLearner) -> bool:
        if not hasattr(self, "_X"):
            self.reset()
        if not learner.is_trained_:
            return False
        pred = learner.estimator_.predict(self._X)
        if self._previous is not None:
            kappa = _kappa(self._previous, pred)
            self.kappas_.append(kappa)
            self._streak = self._streak + 1 if kappa >= self.threshold else 0
        self._previous = pred
        return self._streak >= self.window


def _kappa(a: Any, b: Any) -> float:
    classes, codes = np.unique(np.concatenate([a, b]), return_inverse=True)
    ca, cb = codes[: len(a)], codes[len(a) :]
    k = len(classes)
    observed = float((ca == cb).mean())
    expected = float((np.bincount(ca, minlength=k) * np.bincount(cb, minlength=k)).sum()) / (
        len(a) ** 2
    )
    return 1.0 if expected >= 1.0 else (observed - expected) / (1.0 - expected)


class MaxUncertainty:
    """Stop when the most uncertain candidate's least-confidence score is below ``threshold``.

    Zhu et al. (2008): once the model is confident everywhere it may still look,
    more labels teach it little.
    """

    name = "max uncertainty"

    def __init__(self, threshold: float = 0.1):
        self.threshold = threshold

    def reset(self) -> None:
        check_number(self.threshold, "threshold", "MaxUncertainty", low=0, high=1)

    def should_stop(self, learner: ActiveLearner) -> bool:
        value = learner.max_uncertainty()
        return value is not None and value < self.threshold
