"""The stop rule's claim: checked on gold items' answers, raised or declared
unreachable when the gold items it finishes are not right ``target`` of the time, and
flagged as unchecked without gold."""

from __future__ import annotations

import numpy as np
import pytest

from labelwise.datasets import load_crowd
from labelwise.errors import InputError, ParameterError
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
    # at 0.91 the rule would finish every item at its first answer: 40/60 right; no
    # resample of the gold items passes there either, so the search has no optimism
    assert claim.reachable and claim.threshold == 0.97 and not claim.weak
    assert claim.n_gold == 60 and claim.optimism == 0.0
    assert claim.accuracy == pytest.approx((60 + 0.5) / (60 + 1))
    assert claim.low < claim.accuracy < claim.high
    # 0.995 needs more finished gold items (all right) than 60 to vouch for it
    hard = gold_stop_rule(item, conf, right, 0.995)
    assert not hard.reachable and hard.threshold == np.inf
    assert "unreachable" in hard.warning and "99 finished gold items" in hard.warning
    # round 2's Beta(1, 1) count asks for 98 at 0.99
    old = gold_stop_rule(item, conf, right, 0.99, method="beta")
    assert not old.reachable and "98 finished gold items" in old.warning
    # nothing reaches the target at all
    none = gold_stop_rule(item, conf * 0.5, right, 0.9)
    assert not none.reachable and none.n_gold == 0
    with pytest.raises(ParameterError, match="'method' parameter of gold_stop_rule"):
        gold_stop_rule(item, conf, right, 0.9, method="mean")
    with pytest.raises(ParameterError, match="'n_boot' parameter of gold_stop_rule"):
        gold_stop_rule(item, conf, right, 0.9, n_boot=0)
    with pytest.raises(ParameterError, match="'min_gold' parameter of gold_stop_rule"):
        gold_stop_rule(item, conf, right, 0.9, min_gold=0)


def _shared_error_crowd(
    rng: np.random.Generator, n: int, depth: int = 10
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Binary items answered ``depth`` times: 15% look like the other class to the
    crowd (each answer wrong with probability 0.65), the rest are answered right with
    probability 0.85. The confidence is a naive model's that takes answers as
    independent (80% accurate), so it over-claims on the shared errors, as on real
    crowds. Returns (item, confidence, right) for every prefix."""
    truth = rng.integers(0, 2, n)
    p_right = np.where(rng.random(n) < 0.15, 0.35, 0.85)
    said = np.where(rng.random((n, depth)) < p_right[:, None], truth[:, None], 1 - truth[:, None])
    log_odds = np.cumsum(np.where(said == 1, 1.0, -1.0), axis=1) * np.log(4.0)
    p1 = 1.0 / (1.0 + np.exp(-log_odds))
    right = (p1 != 0.5) & ((p1 > 0.5) == (truth[:, None] == 1))
    return np.repeat(np.arange(n), depth), np.maximum(p1, 1 - p1).ravel(), right.ravel()


def _first_hit_accuracy(conf: np.ndarray, right: np.ndarray, t: float, depth: int = 10) -> float:
    c, r = conf.reshape(-1, depth), right.reshape(-1, depth)
    done = (c >= t).any(axis=1)
    first = (c >= t).argmax(axis=1)
    return float(r[np.arange(first.size), first][done].mean())


@pytest.mark.parametrize("target", [0.9, 0.95])
def test_corrected_claim_holds_on_a_crowd_with_shared_errors(target: float) -> None:
    # 40 gold items vouch for the threshold; 2,000 regular items get what it gives
    gaps, optimism, inside = [], [], 0
    for seed in range(60):
        rng = np.random.default_rng(seed)
        gold = _shared_error_crowd(rng, 40)
        _, conf, right = _shared_error_crowd(rng, 2000)
        claim = gold_stop_rule(*gold, target)
        if not claim.reachable:
            continue
        real = _first_hit_accuracy(conf, right, claim.threshold)
        assert claim.threshold >= target and claim.optimism >= -0.01
        gaps.append(claim.accuracy - real)
        optimism.append(claim.optimism)
        inside += claim.low <= real <= claim.high
    gaps_pts, optimism_pts = 100 * np.asarray(gaps), 100 * np.asarray(optimism)
    # the claim is right on average (a mean over >= 40 campaigns of 40 gold items:
    # standard error about 0.5 points); uncorrected, the same estimate over-claims by
    # the search's optimism (1.7 and 2.8 points here)
    assert len(gaps) >= 40
    assert abs(gaps_pts.mean()) <= 1.5
    assert optimism_pts.mean() >= 1.0
    assert abs(gaps_pts.mean()) < (gaps_pts + optimism_pts).mean()
    # and its 90% interval holds the truth (measured: 91% and 85% of the campaigns)
    assert inside / len(gaps) >= 0.8


def test_tiny_gold_gives_a_weak_claim_not_a_confident_one() -> None:
    # 9 gold items, all right at the first answer (wsd has 9 with 5% gold)
    item = np.arange(9)
    claim = gold_stop_rule(item, np.full(9, 0.99), np.ones(9, dtype=bool), 0.9)
    assert claim.reachable and claim.weak and claim.n_gold == 9
    assert claim.warning.startswith("Weak claim: it rests on 9 finished gold items")
    # the interval is what it vouches for: wide, and its low end is stated
    assert claim.high - claim.low > 0.1 and f"at least {claim.low:.3f}" in claim.warning


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


def test_audit_items_are_routed_as_regular_items_and_state_the_claim() -> None:
    crowd = load_crowd("rte")
    ann, truth = crowd.annotations, crowd.truth.astype(np.int64)
    gold = np.random.default_rng(1).choice(ann.n_items, size=120, replace=False)
    policy = GoldQuestions(
        DynamicOverlap(target=0.9, cap=10), gold, truth[gold], skill_floor=0, audit=0.5
    )
    res = run_campaign(
        truth, ReplayOracle(ann, random_state=0), policy, calibrate="gold", random_state=0
    )
    claim = res.claim
    assert claim.source == "audit" and claim.reachable and claim.threshold >= 0.9
    # the 60 audit items were routed like the others (a gold question's answers are not
    # counted as an item's answers) and the claim is the accuracy of those finished
    conf = res.proba.max(axis=1)
    audit = gold[res.answers_per_item[gold] > 0]
    assert audit.size == 60
    done = audit[conf[audit] >= claim.threshold]
    assert claim.n_gold == done.size
    r = int((res.labels[done] == truth[done]).sum())
    assert claim.accuracy == pytest.approx(r / done.size)
    assert claim.low < claim.accuracy <= claim.high
    with pytest.raises(ParameterError, match="'audit' parameter of GoldQuestions"):
        run_campaign(
            truth, ReplayOracle(ann), GoldQuestions(DynamicOverlap(), gold, truth[gold], audit=1.0)
        )
    with pytest.raises(InputError, match="would hold back all 1 gold items"):
        run_campaign(
            truth,
            ReplayOracle(ann),
            GoldQuestions(DynamicOverlap(), gold[:1], truth[gold[:1]], audit=0.6),
        )
