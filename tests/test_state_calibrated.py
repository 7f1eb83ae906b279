"""The campaign state's calibrated read: on a crowd whose annotators share their errors
the online posterior over-claims, and the read checked against the gold claims less,
keeps every label, and stays the plain posterior without the gold calibration."""

from __future__ import annotations

import numpy as np

from labelwise.calibration import calibration_report
from labelwise.routing import CampaignState, DynamicOverlap, GoldQuestions, run_campaign
from labelwise.simulate import ReplayOracle
from test_calibration_map import _shared_error_crowd  # 1-4 answers per item, shared errors


def test_calibrated_read_claims_less_than_the_online_posterior_and_keeps_labels() -> None:
    raw, cal = [], []
    for seed in range(3):
        ann, truth = _shared_error_crowd(seed)
        gold = np.random.default_rng(seed).choice(ann.n_items, ann.n_items // 5, replace=False)
        scored = np.ones(ann.n_items, dtype=bool)
        scored[gold] = False
        runs = {}
        for aggregator in ("online", "online_calibrated"):
            policy = GoldQuestions(
                DynamicOverlap(target=0.95, cap=4), gold, truth[gold], skill_floor=0.0
            )
            runs[aggregator] = run_campaign(
                truth, ReplayOracle(ann, random_state=seed), policy, aggregator=aggregator,
                calibrate="gold", random_state=seed,
            )  # fmt: skip
        before, after = runs["online"], runs["online_calibrated"]
        # the read does not route: the same campaign, the same labels, other confidences
        assert np.array_equal(before.answers_per_item, after.answers_per_item)
        assert np.array_equal(before.labels, after.labels)
        assert not np.allclose(before.proba[scored], after.proba[scored])
        assert np.allclose(after.proba.sum(axis=1), 1.0)
        raw.append(calibration_report(before.proba[scored], truth[scored]))
        cal.append(calibration_report(after.proba[scored], truth[scored]))
    raw_ece, cal_ece = np.mean([r.ece for r in raw]), np.mean([r.ece for r in cal])
    raw_gap, cal_gap = np.mean([r.gap for r in raw]), np.mean([r.gap for r in cal])
    # shared errors: the online posterior claims about 5 points more than it gets right
    assert raw_ece > 0.07 and raw_gap > 0.03
    assert cal_ece < 0.8 * raw_ece and abs(cal_gap) < 0.5 * raw_gap


def _state(calibrate: str, seed: int = 0) -> tuple[CampaignState, np.ndarray]:
    ann, truth = _shared_error_crowd(seed, n=600)
    i, w, y = ann.item, ann.worker, ann.label
    state = CampaignState(
        ann.n_items, ann.n_workers, ann.n_classes, max_answers=8, calibrate=calibrate,
        random_state=seed,
    )  # fmt: skip
    gold = np.arange(0, ann.n_items, 4)
    state.set_gold(gold, truth[gold])
    state.record(i.astype(np.int64), w.astype(np.int64), y.astype(np.int64))
    state.refresh()
    return state, truth


def test_calibrated_read_needs_the_gold_calibration() -> None:
    for calibrate in ("answers", "none"):
        state, _ = _state(calibrate)
        read = state.posterior(calibrated=True)
        assert np.array_equal(read, state.post) and read is not state.post
    state, truth = _state("gold")
    assert state.top_map.coef  # fitted on the gold prefixes at the refresh
    read = state.posterior(calibrated=True)
    gold = state.gold >= 0
    assert np.array_equal(read[gold], np.eye(state.n_classes)[truth[gold]])
    assert np.array_equal(read.argmax(axis=1), state.post.argmax(axis=1))
    # reading twice refits nothing
    assert np.array_equal(read, state.posterior(calibrated=True))


def test_refresh_on_a_detached_copy_carries_the_calibrated_read() -> None:
    state, _ = _state("gold", seed=1)
    state._tempered_at = 0  # force the calibration refit on the next refresh
    twin = state.detached()
    twin.refresh()
    state.install_refresh(twin)
    state_in_place, _ = _state("gold", seed=1)
    state_in_place._tempered_at = 0
    state_in_place.refresh()
    assert state.top_map == state_in_place.top_map
    assert np.allclose(state.posterior(calibrated=True), state_in_place.posterior(calibrated=True))
