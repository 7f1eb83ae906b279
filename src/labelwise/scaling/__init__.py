"""How much data, at what cost: learning curves, data requirements and budget planning.

- :func:`learning_curve` trains on nested subsets of growing size, repeated;
- :class:`CurveFit` fits error(n) = A n^-b + C (or arctan, logarithmic, algebraic
  root, chosen by held-out extrapolation), with bootstrap intervals, and inverts it
  into the labels a target needs (:class:`DataRequirement`);
- :func:`noise_volume_study` measures what label noise and missing data each cost,
  per class;
- :func:`plan_budget` turns a fitted curve, a cost per label and annotator quality
  into model accuracy against money for labeling strategies.
"""

from __future__ import annotations

from labelwise.scaling.curves import METRICS, LearningCurve, learning_curve, score_from_confusion
from labelwise.scaling.fit import CurveFit, DataRequirement, ExtrapolationWarning, class_gains
from labelwise.scaling.models import FAMILIES

__all__ = [
    "FAMILIES",
    "METRICS",
    "CurveFit",
    "DataRequirement",
    "ExtrapolationWarning",
    "LearningCurve",
    "class_gains",
    "learning_curve",
    "score_from_confusion",
]
