"""The item-profile simulator: fitted on half a real crowd, it keeps the crowd's hard
items and shared errors, which a pool of independent confusion matrices loses."""

from __future__ import annotations

import numpy as np
import pytest

from labelwise.aggregate import MajorityVote
from labelwise.annotations import Annotations
from labelwise.datasets import load_crowd
from labelwise.errors import InputError
from labelwise.routing import FixedOverlap, run_campaign
from labelwise.simulate import ReplayOracle, profiles_from_annotations


def _halves(name: str, seed: int = 0):
    crowd = load_crowd(name)
    ann, truth = crowd.annotations, crowd.truth.astype(np.int64)
    half = np.random.default_rng(seed).random(ann.n_items) < 0.5
    return (
        ann.subset(half[ann.item]),
        np.where(half, truth, -1),
        ann.subset(~half[ann.item]),
        truth,
        half,
    )


def _majority_wrong(ann: Annotations, truth: np.ndarray) -> float:
    pred = MajorityVote().fit(ann).proba_.argmax(axis=1)
    return float(np.mean(pred != truth))


def _crowd_wrong(ann: Annotations, truth: np.ndarray, items: np.ndarray) -> float:
    """Share of ``items`` that at least 70% of their annotators get wrong alike."""
    votes = ann.vote_counts()[items]
    share = votes.max(axis=1) / votes.sum(axis=1)
    return float(np.mean((votes.argmax(axis=1) != truth[items]) & (share >= 0.7)))


def _spread(ann: Annotations, truth: np.ndarray, items: np.ndarray) -> float:
    """Spread of the per-item share of right answers (item difficulty)."""
    votes = ann.vote_counts()[items]
    right = votes[np.arange(items.size), truth[items]] / votes.sum(axis=1)
    return float(right.std())


def test_profiles_keep_the_items_the_whole_crowd_gets_wrong() -> None:
    ann_a, truth_a, ann_b, truth, half = _halves("rte")
    profiles = profiles_from_annotations(ann_a, truth=truth_a)
    b = np.flatnonzero(~half)
    sim = profiles.sample(truth[b], random_state=0)
    every = np.arange(b.size)
    real = _crowd_wrong(ann_b, truth, b)
    simulated = _crowd_wrong(sim, truth[b], every)
    assert real > 0.02
    assert abs(simulated - real) < 0.015
    # and the spread of item difficulty
    assert abs(_spread(sim, truth[b], every) - _spread(ann_b, truth, b)) < 0.02
    # majority-vote errors as a whole, too
    real_mv = float(np.mean((MajorityVote().fit(ann_b).proba_.argmax(1) != truth)[b]))
    assert abs(_majority_wrong(sim, truth[b]) - real_mv) < 0.03
    # answers per item follow the fitted crowd's, annotators are the real ones
    assert sim.annotations_per_item().tolist() == [10] * b.size
    assert set(sim.worker.tolist()) <= set(ann_a.worker.tolist())


def test_depth_beyond_the_recording_and_without_the_recording() -> None:
    ann_a, truth_a, _, truth, half = _halves("wsd")
    profiles = profiles_from_annotations(ann_a, truth=truth_a)
    y = truth[~half]
    deep = profiles.sample(y, depth=25, random_state=1)
    assert (deep.annotations_per_item() == 25).all()
    # an annotator answers an item at most once
    pairs = deep.item.astype(np.int64) * deep.n_workers + deep.worker
    assert np.unique(pairs).size == pairs.size
    drawn = profiles.sample(y, recorded=False, random_state=1)
    assert abs(_majority_wrong(drawn, y) - _majority_wrong(deep, y)) < 0.05
    # served like a real crowd
    res = run_campaign(y, ReplayOracle(deep, random_state=0), FixedOverlap(5), "majority")
    assert res.accuracy > 0.9


def test_a_class_the_fit_never_saw_borrows_a_swapped_profile() -> None:
    crowd = load_crowd("temp")
    ann, truth = crowd.annotations, crowd.truth.astype(np.int64)
    only0 = truth == 0
    profiles = profiles_from_annotations(ann.subset(only0[ann.item]), truth=np.where(only0, 0, -1))
    assert (profiles.item_class == 0).all()
    sim = profiles.sample(np.ones(200, dtype=np.int64), random_state=0)
    # class-0 profiles relabelled 0 <-> 1: as often right as the class-0 items were
    right_0 = float(np.mean(ann.label[only0[ann.item]] == 0))
    assert abs(float(np.mean(sim.label == 1)) - right_0) < 0.03
    assert profiles.difficulty.shape == (profiles.n_profiles,)


def test_bad_input_is_named() -> None:
    ann = Annotations.from_arrays([1, 1, 2], ["a", "b", "a"], ["x", "y", "y"])
    with pytest.raises(InputError, match="truth must have one code per item"):
        profiles_from_annotations(ann, truth=[0])
    with pytest.raises(InputError, match="truth\\[1\\] = 5"):
        profiles_from_annotations(ann, truth=[0, 5])
    profiles = profiles_from_annotations(ann, truth=[0, 1])
    with pytest.raises(InputError, match="item_classes"):
        profiles.sample(np.array([0, 2]))
