"""Budget planning: simulated redundancy, money per strategy, frontier, unreachable targets."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from labelwise.errors import ParameterError
from labelwise.scaling import (
    CurveFit,
    Strategy,
    dynamic_overlap_quality,
    fixed_overlap_quality,
    pareto_frontier,
    plan_budget,
)

SIZES = np.array([50, 80, 130, 200, 320, 500, 800, 1300, 2000])


@pytest.fixture(scope="module")
def fit():
    # error 0.05 + 2 n^-0.5: 0.93 at n = 10,000, levels off at 0.95
    return CurveFit(model="power_law", n_bootstrap=30).fit(SIZES, 1 - (2 * SIZES**-0.5 + 0.05))


def test_simulated_label_quality():
    once = fixed_overlap_quality(0.8, 4, 1, random_state=0)
    assert once == pytest.approx(0.8, abs=0.03)
    five = fixed_overlap_quality(0.8, 4, 5, random_state=0)
    assert five > once + 0.1
    assert fixed_overlap_quality(0.8, 4, 5, aggregator="ds", random_state=0) > once + 0.1
    acc1, r1 = dynamic_overlap_quality(0.8, 4, lead=1, max_labels=5, random_state=0)
    assert r1 == 1.0 and acc1 == pytest.approx(once, abs=0.03)
    acc2, r2 = dynamic_overlap_quality(0.8, 4, lead=2, max_labels=7, random_state=0)
    assert 2.0 <= r2 < 3.5 and acc2 > 0.9
    with pytest.raises(ParameterError, match="'k' parameter"):
        fixed_overlap_quality(0.8, 4, 0)


def test_given_strategies_are_priced_exactly(fit):
    strategies = [
        Strategy("clean once", 1.0, 1.0),
        Strategy("three times", 3.0, 1.0),
        Strategy("noisy once", 1.0, 0.9),
        Strategy("al", 1.0, 1.0, item_share=0.5),
    ]
    plan = plan_budget(
        fit, target=0.93, cost_per_label=0.1, strategies=strategies, noise_penalty=0.1
    )
    t = plan.strategies.set_index("strategy")
    n = plan.requirement.n
    assert n == pytest.approx(10_000, rel=0.02)
    # whole items; money only for the items beyond the labels the curve was measured on
    have = fit.n_max_
    assert t.loc["clean once", "items needed"] == math.ceil(n)
    assert t.loc["clean once", "money"] == pytest.approx((math.ceil(n) - have) * 0.1)
    assert t.loc["three times", "money"] == pytest.approx(3 * (math.ceil(n) - have) * 0.1)
    assert t.loc["al", "items needed"] == math.ceil(0.5 * n)
    assert t.loc["al", "money"] == pytest.approx((math.ceil(0.5 * n) - have) * 0.1)
    for col in ("items needed", "items low", "items high", "items to label"):
        vals = t[col].dropna()
        assert (vals == np.round(vals)).all(), col
    # 10% wrong labels cost 1 point: the noisy labels must reach 0.94 (n = 40,000)
    assert t.loc["noisy once", "items needed"] == pytest.approx(40_000, rel=0.03)
    assert plan.cheapest == "al"
    assert (t["money low"] <= t["money"]).all() and (t["money"] <= t["money high"]).all()


def test_unreachable_target_names_no_strategy(fit):
    plan = plan_budget(fit, target=0.97, cost_per_label=0.04, annotator_accuracy=0.9, n_classes=3)
    assert plan.cheapest is None
    assert not plan.strategies["reachable"].any()
    assert plan.strategies["money"].isna().all()
    assert not plan.requirement.reachable


def test_default_strategies_and_frontier(fit):
    plan = plan_budget(fit, target=0.92, cost_per_label=0.04, annotator_accuracy=0.8, n_classes=5)
    names = plan.strategies["strategy"].tolist()
    assert names[0] == "label everything once" and names[-1].startswith("active learning")
    assert plan.cheapest == "active learning + dynamic overlap"
    front = plan.frontier
    assert front["money"].is_monotonic_increasing and front["accuracy"].is_monotonic_increasing
    assert set(plan.curves["strategy"]) == set(names)


def test_pareto_frontier_drops_dominated_points():
    curves = pd.DataFrame(
        {"strategy": list("abcd"), "money": [1.0, 2.0, 3.0, 4.0], "accuracy": [0.5, 0.4, 0.7, 0.7]}
    )
    assert pareto_frontier(curves)["strategy"].tolist() == ["a", "c"]


def test_plan_errors(fit):
    with pytest.raises(ParameterError, match="'cost_per_label' parameter of plan_budget"):
        plan_budget(fit, target=0.9, cost_per_label=0)
    with pytest.raises(ParameterError, match="'al_saving' parameter"):
        plan_budget(fit, target=0.9, cost_per_label=1, al_saving=1.5)
    with pytest.raises(ParameterError, match="'target' parameter"):
        plan_budget(fit, target=0, cost_per_label=1)
    assert math.isfinite(plan_budget(fit, target=0.9, cost_per_label=1).strategies["money"][0])


def test_dynamic_overlap_through_routing():
    pytest.importorskip("labelwise.routing")
    from labelwise.scaling import routed_overlap_quality

    acc, answers = routed_overlap_quality(0.85, 4, target=0.95, n_items=300, random_state=0)
    assert acc > 0.9 and 1.0 <= answers < 4.0
    # a stricter target buys accuracy with more answers
    acc99, answers99 = routed_overlap_quality(0.85, 4, target=0.995, n_items=300, random_state=0)
    assert answers99 > answers and acc99 >= acc


def test_budget_curves_never_fall_below_chance(fit):
    # a steep noise penalty and money down to a handful of labels: the fitted power law
    # extrapolated that far down (and penalised) goes negative without the floor
    strategies = [Strategy("noisy", 1.0, 0.5), Strategy("clean", 1.0, 1.0)]
    plan = plan_budget(
        fit, target=0.9, cost_per_label=0.1, strategies=strategies, noise_penalty=2.0,
        n_classes=4,
    )  # fmt: skip
    acc = plan.curves["accuracy"].to_numpy()
    assert acc.min() >= 0.25 and acc.max() <= 1.0
    assert (plan.curves.loc[plan.curves.strategy == "noisy", "accuracy"] == 0.25).any()
