"""Routing policies by short name, as the CLI, the report and the benchmark use them."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from labelwise.errors import InputError, ParameterError
from labelwise.routing.gold import GoldQuestions
from labelwise.routing.model import ModelAssisted
from labelwise.routing.policies import (
    DynamicOverlap,
    FixedOverlap,
    InformationGain,
    RandomRouting,
    RoutingPolicy,
    UncertaintyRouting,
)

__all__ = ["POLICIES", "make_policy"]

#: Short names and what they stand for.
POLICIES: dict[str, str] = {
    "fixed": "fixed overlap k = cap, majority vote (common practice)",
    "dynamic": "dynamic overlap to a posterior target (Lean crowdsourcing)",
    "random": "a random open item, same stopping rule as dynamic (assignment baseline)",
    "uncertainty": "most uncertain open item first",
    "eig": "expected information gain per annotator (BALD-style)",
    "gold": "dynamic overlap with gold questions and a skill floor",
    "model": "dynamic overlap with a classifier's prior per item (needs features)",
    "model-eig": "information gain with a classifier's prior per item (needs features)",
}


def make_policy(
    name: str,
    *,
    target: float = 0.99,
    cap: int = 10,
    gold_items: ArrayLike | None = None,
    gold_labels: ArrayLike | None = None,
    **options: Any,
) -> tuple[RoutingPolicy, str]:
    """Return ``(policy, aggregator)`` for a short name of :data:`POLICIES`.

    ``fixed`` pairs with majority vote (the baseline as practised), every other
    policy with the campaign's online Dawid-Skene posterior. ``gold`` needs
    ``gold_items`` and ``gold_labels``; ``options`` go to :class:`GoldQuestions` or
    :class:`ModelAssisted`.
    """
    if name not in POLICIES:
        raise ParameterError(
            f"Unknown routing policy {name!r}; choose one of {', '.join(POLICIES)}."
        )
    if name == "fixed":
        return FixedOverlap(cap), "majority"
    if name == "dynamic":
        return DynamicOverlap(target, cap=cap), "online"
    if name == "random":
        return RandomRouting(target, cap=cap), "online"
    if name == "uncertainty":
        return UncertaintyRouting(target, cap=cap), "online"
    if name == "eig":
        return InformationGain(target, cap=cap), "online"
    if name == "gold":
        if gold_items is None or gold_labels is None:
            raise InputError("policy 'gold' needs gold_items and gold_labels.")
        items = np.asarray(gold_items)
        return GoldQuestions(
            DynamicOverlap(target, cap=cap), items, gold_labels, **options
        ), "online"
    inner = DynamicOverlap(target, cap=cap) if name == "model" else InformationGain(target, cap=cap)
    return ModelAssisted(inner, **options), "online"
