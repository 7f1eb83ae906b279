"""Who labels what next: routing policies, the campaign state and the campaign runner.

Every policy answers ``next_task(annotator, state) -> item or None``, the same call
the labeling service makes, so each can be measured offline first with
:func:`run_campaign` against a simulated pool (:mod:`labelwise.simulate`).

Example
-------
>>> from labelwise.routing import DynamicOverlap, run_campaign
>>> from labelwise.simulate import make_toy_testbed
>>> bed = make_toy_testbed(500, 30, random_state=0)
>>> res = run_campaign(bed.truth, bed.pool, DynamicOverlap(target=0.99), random_state=0)
>>> res.stop_reason
'finished'
"""

from __future__ import annotations

from labelwise.routing._state import CampaignState
from labelwise.routing.campaign import Budget, CampaignResult, Trajectory, run_campaign
from labelwise.routing.compare import compare_policies, curve_table, reach_table
from labelwise.routing.gold import GoldQuestions, gold_skill
from labelwise.routing.model import ModelAssisted
from labelwise.routing.policies import (
    DynamicOverlap,
    FixedOverlap,
    InformationGain,
    RandomRouting,
    RoutingPolicy,
    UncertaintyRouting,
    expected_information_gain,
)
from labelwise.routing.registry import POLICIES, make_policy
from labelwise.routing.stop_claim import NO_GOLD_WARNING, StopClaim, audit_claim, gold_stop_rule

__all__ = [
    "NO_GOLD_WARNING",
    "POLICIES",
    "Budget",
    "CampaignResult",
    "CampaignState",
    "DynamicOverlap",
    "FixedOverlap",
    "GoldQuestions",
    "InformationGain",
    "ModelAssisted",
    "RandomRouting",
    "RoutingPolicy",
    "StopClaim",
    "Trajectory",
    "UncertaintyRouting",
    "audit_claim",
    "compare_policies",
    "curve_table",
    "expected_information_gain",
    "gold_skill",
    "gold_stop_rule",
    "make_policy",
    "reach_table",
    "run_campaign",
]
