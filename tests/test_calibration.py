"""Calibration: reliability, ECE, Brier, the tempering, calibrated aggregators and the
calibrated campaign state, on crowds with known truth."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _crowd import make_crowd
from labelwise.aggregate import CalibratedAggregator, DawidSkene, MajorityVote
from labelwise.calibration import (
    Tempering,
    answer_calibration,
    brier_score,
    calibration_report,
    expected_calibration_error,
    fit_tempering,
    gold_calibration,
    reliability_table,
)
from labelwise.datasets import load_crowd
from labelwise.errors import InputError, ParameterError
from labelwise.routing import CampaignState


def _calibrated_sample(n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Posteriors whose claims are true by construction: the truth is drawn from them."""
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(k, 0.3), size=n)
    y = (rng.random(n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    return p, np.minimum(y, k - 1)


def test_known_values() -> None:
    p = np.array([[0.9, 0.1], [0.8, 0.2], [0.6, 0.4], [0.3, 0.7]])
    y = np.array([0, 1, 0, 1])
    # brier: (0.01+0.01) + (0.64+0.64) + (0.16+0.16) + (0.09+0.09) / 4
    assert brier_score(p, y) == pytest.approx((0.02 + 1.28 + 0.32 + 0.18) / 4)
    t = reliability_table(p, y, n_bins=5)  # bins of 0.1 on [0.5, 1]
    f = t.to_frame()
    assert f["n"].sum() == 4
    # one item per bin: |0.9-1| + |0.8-0| + |0.6-1| + |0.7-1| over 4
    assert expected_calibration_error(p, y, n_bins=5) == pytest.approx((0.1 + 0.8 + 0.4 + 0.3) / 4)
    r = calibration_report(p, y, n_bins=5)
    assert r.accuracy == 0.75 and r.confidence == pytest.approx(0.75)
    assert r.gap == pytest.approx(0.0) and r.n == 4
    # -1 rows are left out
    assert calibration_report(np.vstack([p, p[:1]]), np.r_[y, -1], n_bins=5).n == 4


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 1000), k=st.integers(2, 5))
def test_calibrated_by_construction_has_small_ece(seed: int, k: int) -> None:
    p, y = _calibrated_sample(4000, k, seed)
    assert expected_calibration_error(p, y) < 0.04
    # sharpening the same posterior makes it over-confident: ECE grows
    sharp = Tempering(3.0).apply(np.zeros(k), np.log(p))
    assert expected_calibration_error(sharp, y) > expected_calibration_error(p, y)


def test_errors() -> None:
    with pytest.raises(InputError, match="shape"):
        brier_score(np.ones(3), [0, 1, 0])
    with pytest.raises(InputError, match="truth"):
        brier_score(np.full((2, 2), 0.5), [0, 1, 0])
    with pytest.raises(InputError, match=r"truth\[1\] = 5"):
        brier_score(np.full((2, 2), 0.5), [0, 5])
    with pytest.raises(InputError, match="no known class"):
        brier_score(np.full((2, 2), 0.5), [-1, -1])
    with pytest.raises(ParameterError, match="strategy"):
        reliability_table(np.full((2, 2), 0.5), [0, 1], strategy="x")
    with pytest.raises(ParameterError, match="n_bins"):
        reliability_table(np.full((2, 2), 0.5), [0, 1], n_bins=0)
    with pytest.raises(ParameterError, match="method"):
        CalibratedAggregator(method="x").fit(make_crowd(50)[0])
    ann, truth = make_crowd(60)
    gold = np.full(ann.n_items, -1)
    gold[:3] = truth[:3]
    with pytest.raises(InputError, match="min_gold"):
        CalibratedAggregator(method="gold").fit(ann, gold=_series(ann, gold))


def _series(ann, codes):
    import pandas as pd

    known = codes >= 0
    return pd.Series(ann.classes[codes[known]], index=pd.Index(ann.item_ids[known]))


def test_tempering_recovers_a_known_overclaim() -> None:
    """Evidence counted 4x too strongly: gold finds τ near 1/4, and the calibrated
    posterior is honest."""
    rng = np.random.default_rng(0)
    n, k = 3000, 3
    y = rng.integers(0, k, n)
    true_ll = rng.normal(0, 1.5, (n, k))
    true_ll[np.arange(n), y] += 1.5
    p_true = Tempering().apply(np.zeros(k), true_ll)
    y = (rng.random(n)[:, None] > np.cumsum(p_true, axis=1)).sum(axis=1)  # drawn from p_true
    y = np.minimum(y, k - 1)
    t = fit_tempering(np.zeros(k), 4 * true_ll, truth=y, method="gold")
    assert t.source == "gold" and 0.2 < t.temperature < 0.32 and t.floor < 0.02
    fixed = t.apply(np.zeros(k), 4 * true_ll)
    assert expected_calibration_error(fixed, y) < 0.03
    assert expected_calibration_error(Tempering().apply(np.zeros(k), 4 * true_ll), y) > 0.1
    # too little gold: no change
    few = np.full(n, -1)
    few[:5] = y[:5]
    assert fit_tempering(np.zeros(k), true_ll, truth=few, method="gold") == Tempering()


def test_calibrated_aggregator_on_rte_with_gold(shared_data) -> None:
    """RTE: Dawid-Skene claims 0.99 where 0.93 is right; calibrated on gold it does
    not (scored on gold it never saw)."""
    crowd = load_crowd("rte")
    y = crowd.truth.astype(np.int64)
    raw = calibration_report(DawidSkene().fit(crowd.annotations).proba_, y)
    assert raw.gap > 0.05 and raw.ece > 0.05
    cal = gold_calibration(CalibratedAggregator(), crowd.annotations, y, random_state=0)
    assert cal.ece < 0.035 and abs(cal.gap) < 0.03
    assert cal.accuracy > raw.accuracy - 0.01
    model = CalibratedAggregator(MajorityVote()).fit(crowd.annotations)
    assert model.tempering_.source == "held-out answers"
    assert model.tempering_.temperature <= 1.0
    assert np.allclose(model.proba_.sum(axis=1), 1.0)
    rep = answer_calibration(
        crowd.annotations, np.log(model.prior_), np.log(model.confusion_),
        tempering=model.tempering_,
    )  # fmt: skip
    assert rep.source == "held-out answers" and rep.n == crowd.annotations.n_annotations
    assert 0.7 < rep.accuracy < 1 and rep.ece < 0.15


def test_campaign_state_calibrates_from_gold_answers() -> None:
    """Answers counted as independent but copied in pairs (each answer twice): the
    gold answers reveal it and the tempering discounts the evidence."""
    rng = np.random.default_rng(1)
    n, w, k = 400, 20, 2
    truth = rng.integers(0, k, n)
    state = CampaignState(n, w, k, max_answers=8, calibrate="gold", random_state=0)
    gold = np.arange(60)
    state.set_gold(gold, truth[gold])
    for _ in range(3):
        items = np.arange(n)
        workers = rng.integers(0, w, n)
        answers = np.where(rng.random(n) < 0.75, truth, 1 - truth)
        # the "copy": a second annotator repeats the first one's answer
        state.record(items, workers, answers)
        state.record(items, (workers + 1) % w, answers)
    state.refresh(3)
    assert state.tempering.source == "gold"
    assert state.tempering.temperature < 0.8 or state.tempering.floor > 0.05
    regular = state.gold < 0
    honest = calibration_report(state.post[regular], truth[regular])
    assert abs(honest.gap) < 0.05
    raw = CampaignState(n, w, k, max_answers=8, calibrate="none", random_state=0)
    i, wk, yk = state.collected()
    raw.set_gold(gold, truth[gold])
    raw.record(i, wk, yk)
    raw.refresh(3)
    over = calibration_report(raw.post[regular], truth[regular])
    assert over.gap > honest.gap + 0.03
    with pytest.raises(ParameterError, match="calibrate"):
        CampaignState(n, w, k, max_answers=2, calibrate="x")


def test_consensus_quality_calibrated_on_gold_means_what_it_says(shared_data) -> None:
    from labelwise.curate import consensus_quality

    crowd = load_crowd("labelme")
    ann, y = crowd.annotations, crowd.truth.astype(np.int64)
    rng = np.random.default_rng(0)
    k = ann.n_classes
    # a weak model: right 50% of the time, confident either way
    guess = np.where(rng.random(ann.n_items) < 0.5, y, rng.integers(0, k, ann.n_items))
    proba = np.full((ann.n_items, k), 0.3 / (k - 1))
    proba[np.arange(ann.n_items), guess] = 0.7
    half = rng.random(ann.n_items) < 0.5
    raw = consensus_quality(ann, proba)
    cal = consensus_quality(ann, proba, gold=np.where(half, y, -1))
    right = (cal.consensus == y)[~half].mean()
    assert abs(cal.quality[~half].mean() - right) < 0.03
    assert abs(raw.quality[~half].mean() - right) > abs(cal.quality[~half].mean() - right)
    with pytest.raises(InputError, match="gold"):
        consensus_quality(ann, proba, gold=np.zeros(3, dtype=int))


def test_simulated_shared_errors_lower_accuracy_at_equal_answers() -> None:
    """answer_as: items that look like another class to every annotator stay wrong
    however many answers they get."""
    from labelwise.routing import FixedOverlap, run_campaign
    from labelwise.simulate import make_pool

    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, 300)
    pool = make_pool(30, 3, proportions={"reliable": 1.0}, accuracy=(0.8, 0.9), random_state=0)
    seen = truth.copy()
    seen[:60] = (truth[:60] + 1) % 3  # 20% misleading items
    a = run_campaign(truth, pool, FixedOverlap(7), "majority", random_state=0)
    b = run_campaign(truth, pool, FixedOverlap(7), "majority", answer_as=seen, random_state=0)
    assert a.accuracy > 0.97 and 0.75 < b.accuracy < 0.83
    assert (b.labels[:60] != truth[:60]).mean() > 0.9
    with pytest.raises(InputError, match="answer_as"):
        run_campaign(truth, pool, FixedOverlap(3), answer_as=seen[:5])
