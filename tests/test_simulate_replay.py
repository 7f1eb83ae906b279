"""The replay oracle: each recorded answer served at most once, by the annotator who
gave it, and campaigns that replay a real crowd."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _crowd import make_crowd
from labelwise.annotations import Annotations
from labelwise.datasets import load_crowd
from labelwise.errors import InputError, ParameterError
from labelwise.routing import DynamicOverlap, FixedOverlap, GoldQuestions, run_campaign
from labelwise.simulate import ReplayOracle


def _pairs(ann: Annotations) -> set[tuple[int, int, int]]:
    return set(zip(ann.item.tolist(), ann.worker.tolist(), ann.label.tolist(), strict=True))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), per_item=st.integers(1, 5))
def test_every_recorded_answer_served_exactly_once(seed: int, per_item: int) -> None:
    ann, _ = make_crowd(n_items=40, per_item=per_item, seed=seed)
    oracle = ReplayOracle(ann, random_state=seed)
    rng = np.random.default_rng(seed)
    served = []
    while not oracle.exhausted.all():
        open_items = np.flatnonzero(~oracle.exhausted)
        batch = rng.choice(open_items, size=min(7, open_items.size), replace=False)
        w, y, cost = oracle.serve(batch, rng.integers(0, ann.n_workers, batch.size))
        assert (w >= 0).all() and (cost == 1).all()
        served += list(zip(batch.tolist(), w.tolist(), y.tolist(), strict=True))
    assert len(served) == ann.n_annotations == oracle.n_used
    assert set(served) == _pairs(ann)
    assert oracle.remaining.sum() == 0 and oracle.remaining_per_worker.sum() == 0
    w, y, _ = oracle.serve([0, 1])
    assert (w == -1).all() and (y == -1).all()
    assert _pairs(oracle.used_annotations()) == _pairs(ann)


def test_requester_gets_own_answer_and_given_worker_only_theirs() -> None:
    ann = Annotations.from_arrays(["a", "a", "a", "b"], ["u", "v", "w", "u"], ["x", "y", "x", "y"])
    oracle = ReplayOracle(ann, random_state=1)
    v = int(np.flatnonzero(ann.worker_ids == "v")[0])
    u = int(np.flatnonzero(ann.worker_ids == "u")[0])
    assert oracle.has_answer(0, v)
    w, y, _ = oracle.serve([0], [v])
    assert (w[0], ann.classes[y[0]]) == (v, "y")
    assert not oracle.has_answer(0, v)
    assert oracle.next_answer(0, worker=v) is None  # v's answer is used
    assert oracle.next_answer(1, worker=v) is None  # v never answered b
    assert oracle.next_answer(1, worker=u) == (u, int(np.flatnonzero(ann.classes == "y")[0]))
    # a blocked annotator's answers are skipped
    w_idx = int(np.flatnonzero(ann.worker_ids == "w")[0])
    exclude = np.zeros(ann.n_workers, dtype=bool)
    exclude[w_idx] = True
    w, _, _ = oracle.serve([0], exclude=exclude)
    assert w[0] == u
    assert oracle.serve([0], exclude=exclude)[0][0] == -1
    assert oracle.remaining.tolist() == [1, 0]


def test_same_seed_same_order_and_errors() -> None:
    ann, _ = make_crowd(n_items=30, per_item=4, seed=3)
    a, b = ReplayOracle(ann, random_state=5), ReplayOracle(ann, random_state=5)
    items = np.repeat(np.arange(30), 4)
    assert np.array_equal(a.serve(items)[0], b.serve(items)[0])
    with pytest.raises(InputError, match="Annotations"):
        ReplayOracle("not annotations")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="item code"):
        a.next_answer(30)
    with pytest.raises(InputError, match=r"items\[1\]"):
        a.serve([0, -2])
    with pytest.raises(InputError, match="annotator code"):
        a.next_answer(0, worker=99)


def test_fixed_overlap_replay_reproduces_majority_vote_of_all_answers() -> None:
    """Replaying every answer of every item ends where the recorded crowd is."""
    ann, truth = make_crowd(n_items=200, per_item=3, seed=2)
    oracle = ReplayOracle(ann, random_state=0)
    res = run_campaign(truth, oracle, FixedOverlap(3), "majority", random_state=0)
    assert res.stop_reason == "finished"
    assert res.annotations.n_annotations == ann.n_annotations
    assert _pairs(res.annotations) == _pairs(ann)
    assert oracle.n_used == 0  # the campaign replays a copy


def test_replay_on_real_crowd_exhausts_and_scores_only_known_items(shared_data) -> None:
    crowd = load_crowd("web")
    oracle = ReplayOracle(crowd.annotations, random_state=0)
    truth = crowd.truth.astype(np.int64)
    res = run_campaign(truth, oracle, DynamicOverlap(target=0.999, cap=12), random_state=0)
    # every item ran out of recorded answers before reaching 0.999 or the cap
    assert res.stop_reason == "exhausted"
    per_item = crowd.annotations.annotations_per_item()
    assert (res.answers_per_item <= per_item).all()
    assert res.trajectory.n_items == int((truth >= 0).sum())
    got = _pairs(res.annotations)
    assert got <= _pairs(crowd.annotations)


def test_replay_with_gold_and_errors() -> None:
    ann, truth = make_crowd(n_items=150, per_item=5, seed=4)
    oracle = ReplayOracle(ann, random_state=0)
    gold = np.arange(5)
    policy = GoldQuestions(DynamicOverlap(0.95, cap=5), gold, truth[gold], skill_floor=0.5)
    res = run_campaign(truth, oracle, policy, random_state=1)
    assert res.annotations.n_annotations <= ann.n_annotations
    assert _pairs(res.annotations) <= _pairs(ann)
    with pytest.raises(InputError, match="replayed 150 items"):
        run_campaign(truth[:10], oracle, FixedOverlap(2))
    with pytest.raises(ParameterError, match="known_skills"):
        run_campaign(truth, oracle, FixedOverlap(2), known_skills=True)
