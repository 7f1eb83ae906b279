"""Consensus labels and annotator skill from noisy crowd annotations.

Every aggregator is an estimator with ``fit(annotations, gold=None, prior=None)`` that sets
``labels_``, ``proba_`` and ``skill_`` (see :mod:`labelwise.aggregate._base`).
``make_aggregator(name)`` builds one from its short name, as the CLI does. The EM
models take ``prior``, a per-item class prior such as a model's out-of-fold
predictions (:mod:`labelwise.aggregate.model_prior`).
"""

from __future__ import annotations

from typing import Any

from labelwise.aggregate._base import BaseAggregator, ConvergenceWarning, IdentifiabilityWarning
from labelwise.aggregate._collapse import CollapseWarning
from labelwise.aggregate.calibrated import CalibratedAggregator
from labelwise.aggregate.dawid_skene import DawidSkene, OneCoinDawidSkene
from labelwise.aggregate.glad import GLAD
from labelwise.aggregate.mace import MACE
from labelwise.aggregate.majority import MajorityVote, WeightedMajorityVote
from labelwise.aggregate.model_prior import ModelPriorFit, fit_with_model, out_of_fold_proba
from labelwise.errors import ParameterError

__all__ = [
    "GLAD",
    "MACE",
    "METHODS",
    "BaseAggregator",
    "CalibratedAggregator",
    "CollapseWarning",
    "ConvergenceWarning",
    "DawidSkene",
    "IdentifiabilityWarning",
    "MajorityVote",
    "ModelPriorFit",
    "OneCoinDawidSkene",
    "WeightedMajorityVote",
    "fit_with_model",
    "make_aggregator",
    "out_of_fold_proba",
]

#: Short names (as used by the CLI's ``--method``) and their estimator classes.
METHODS: dict[str, type[BaseAggregator]] = {
    "mv": MajorityVote,
    "wmv": WeightedMajorityVote,
    "ds": DawidSkene,
    "onecoin": OneCoinDawidSkene,
    "glad": GLAD,
    "mace": MACE,
    "calibrated": CalibratedAggregator,
}


def make_aggregator(name: str, **params: Any) -> BaseAggregator:
    """Return a new aggregator from its short name (``mv``, ``wmv``, ``ds``, ...)."""
    try:
        cls = METHODS[name]
    except KeyError:
        raise ParameterError(
            f"Unknown aggregation method {name!r}; choose one of {', '.join(METHODS)}."
        ) from None
    return cls(**params)
