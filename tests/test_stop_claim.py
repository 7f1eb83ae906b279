"""The stop rule's claim: checked on gold items' answers, raised or declared
unreachable when the gold items it finishes are not right ``target`` of the time, and
flagged as unchecked without gold."""

from __future__ import annotations

import numpy as np

from labelwise.datasets import load_crowd
from labelwise.routing import (
    NO_GOLD_WARNING,
    DynamicOverlap,
    GoldQuestions,
    gold_stop_rule,
    run_campaign,
)
from labelwise.simulate import ReplayOracle


def test_threshold_rises_until_finished_gold_items_are_right_often_enough() -> None:
    # 60 gold items, 3 answers each: confidence 0.91 after one answer, 0.97 after two,
    # 0.995 after three. 20 items are wrong at the first prefix, right later.
    item = np.repeat(np.arange(60), 3)
    conf = np.tile([0.91, 0.97, 0.995], 60)
    right = np.ones(180, dtype=bool)
    right[np.arange(20) * 3] = False
    claim = gold_stop_rule(item, conf, right, 0.9)
    # at 0.91 the rule would finish every item at its first answer: 40/60 right
    assert claim.reachable and claim.threshold == 0.97
    assert claim.n_gold == 60 and claim.accuracy == (60 + 1) / (60 + 2)
    assert claim.low < claim.accuracy < claim.high
    # 0.99 needs more finished gold items (all right) than 60 to vouch for it
    hard = gold_stop_rule(item, conf, right, 0.99)
    assert not hard.reachable and hard.threshold == np.inf
    assert "unreachable" in hard.warning and "98 finished gold items" in hard.warning
    # nothing reaches the target at all
    none = gold_stop_rule(item, conf * 0.5, right, 0.9)
    assert not none.reachable and none.n_gold == 0


def test_min_answers_is_respected() -> None:
    item = np.repeat(np.arange(50), 2)
    conf = np.tile([0.99, 0.99], 50)
    right = np.tile([False, True], 50)
    claim = gold_stop_rule(item, conf, right, 0.9, min_answers=2)
    assert claim.reachable and claim.accuracy > 0.95


def test_replayed_campaign_states_a_gold_checked_claim_and_keeps_it() -> None:
    crowd = load_crowd("temp")
    ann, truth = crowd.annotations, crowd.truth.astype(np.int64)
    gold = np.random.default_rng(0).choice(ann.n_items, size=60, replace=False)
    policy = GoldQuestions(DynamicOverlap(target=0.9, cap=10), gold, truth[gold], skill_floor=0)
    res = run_campaign(
        truth, ReplayOracle(ann, random_state=0), policy, calibrate="gold", random_state=0
    )
    claim = res.claim
    assert claim is not None and claim.source == "gold" and claim.threshold >= 0.9
    scored = np.ones(ann.n_items, dtype=bool)
    scored[gold] = False
    fin = scored & (res.proba.max(axis=1) >= claim.threshold)
    real = float(np.mean(res.labels[fin] == truth[fin]))
    assert fin.sum() > 300
    assert claim.low <= real <= claim.high
    assert real >= 0.9
    # without gold: threshold = target, and a warning that says what is not checked
    plain = run_campaign(
        truth, ReplayOracle(ann, random_state=0), DynamicOverlap(target=0.9, cap=10),
        calibrate="none", random_state=0,
    )  # fmt: skip
    assert plain.claim.source == "unchecked" and plain.claim.threshold == 0.9
    assert plain.claim.warning == NO_GOLD_WARNING


def test_too_few_gold_answers_says_so() -> None:
    crowd = load_crowd("wsd")
    ann, truth = crowd.annotations, crowd.truth.astype(np.int64)
    gold = np.arange(3)
    policy = GoldQuestions(
        DynamicOverlap(target=0.9, cap=10), gold, truth[gold], new_rate=0.02, rate=0.0
    )
    res = run_campaign(
        truth, ReplayOracle(ann, random_state=0), policy, calibrate="gold", random_state=0
    )
    assert res.claim.source == "unchecked" and res.claim.threshold == 0.9
    assert res.claim.warning.startswith("Too few answers to gold questions")
    assert "Without gold, errors the whole crowd shares" in res.claim.warning
