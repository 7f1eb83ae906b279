"""How much data, at what cost: learning curves, data requirements and budget planning.

- :func:`learning_curve` trains on nested subsets of growing size, repeated;
- :class:`CurveFit` fits error(n) = A n^-b + C (or arctan, logarithmic, algebraic
  root, chosen by held-out extrapolation), with bootstrap intervals, and inverts it
  into the labels a target needs (:class:`DataRequirement`);
- :func:`noise_volume_study` measures what label noise and missing data each cost,
  per class;
- :class:`StackedCurveFit` weighs the families by how well each extrapolated the earlier
  part of the same curve (backtests), the default of ``labelwise plan``;
- the estimator is the user's (:func:`make_estimator`, :func:`load_estimator`, any
  scikit-learn classifier or a factory), named in every result;
- :func:`plan_budget` turns a fitted curve, a cost per label and annotator quality
  into model accuracy against money for labeling strategies.
"""

from __future__ import annotations

from labelwise.scaling.budget import (
    ACTIVE_LEARNING_SAVING,
    BudgetPlan,
    Strategy,
    default_strategies,
    dynamic_overlap_quality,
    fixed_overlap_quality,
    pareto_frontier,
    plan_budget,
    routed_overlap_quality,
)
from labelwise.scaling.curves import METRICS, LearningCurve, learning_curve, score_from_confusion
from labelwise.scaling.estimators import (
    ESTIMATORS,
    PickleWarning,
    describe_estimator,
    load_estimator,
    make_estimator,
)
from labelwise.scaling.fit import (
    CurveFit,
    DataRequirement,
    ExtrapolationWarning,
    class_gains,
    curve_dips,
    isotonic,
)
from labelwise.scaling.models import FAMILIES
from labelwise.scaling.noise import NOISE_KINDS, NoiseVolumeStudy, noise_volume_study
from labelwise.scaling.stack import STACK_FAMILIES, StackedCurveFit

__all__ = [
    "ACTIVE_LEARNING_SAVING",
    "ESTIMATORS",
    "FAMILIES",
    "METRICS",
    "NOISE_KINDS",
    "STACK_FAMILIES",
    "BudgetPlan",
    "CurveFit",
    "DataRequirement",
    "ExtrapolationWarning",
    "LearningCurve",
    "NoiseVolumeStudy",
    "PickleWarning",
    "StackedCurveFit",
    "Strategy",
    "class_gains",
    "curve_dips",
    "default_strategies",
    "describe_estimator",
    "dynamic_overlap_quality",
    "fixed_overlap_quality",
    "isotonic",
    "learning_curve",
    "load_estimator",
    "make_estimator",
    "noise_volume_study",
    "pareto_frontier",
    "plan_budget",
    "routed_overlap_quality",
    "score_from_confusion",
]
