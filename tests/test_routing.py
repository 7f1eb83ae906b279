"""Routing policies and the campaign runner, on small simulated crowds with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelwise.aggregate import MajorityVote
from labelwise.errors import InputError, ParameterError
from labelwise.routing import (
    Budget,
    CampaignState,
    DynamicOverlap,
    FixedOverlap,
    GoldQuestions,
    InformationGain,
    ModelAssisted,
    UncertaintyRouting,
    expected_information_gain,
    gold_skill,
    run_campaign,
)
from labelwise.simulate import (
    AnnotatorPool,
    confusion_from_accuracy,
    make_pool,
    make_toy_testbed,
    spammer_confusion,
)


def _pool(confs, rates=None, costs=None):
    w = len(confs)
    r = np.ones(w) if rates is None else np.asarray(rates, float)
    c = np.ones(w) if costs is None else np.asarray(costs, float)
    return AnnotatorPool(np.stack(confs), np.array(["x"] * w, dtype=object), r / r.sum(), c)


def _truth(n, k, seed=0):
    return np.random.default_rng(seed).integers(0, k, n)


@pytest.fixture(scope="module")
def bed():
    return make_toy_testbed(600, 30, random_state=0)


def test_perfect_annotators_need_one_answer_per_item():
    y = _truth(300, 3)
    pool = _pool([np.eye(3)] * 5)
    res = run_campaign(y, pool, DynamicOverlap(0.99, cap=5), known_skills=True, random_state=0)
    assert res.stop_reason == "finished"
    assert (res.answers_per_item == 1).all()
    assert res.accuracy == 1.0
    # estimating their skill from agreement: the first pass over the items gets a
    # second answer until the overlap shows they are perfect
    y = _truth(2000, 3)
    est = run_campaign(y, pool, DynamicOverlap(0.95, cap=5), refresh_every=20, random_state=0)
    assert est.accuracy == 1.0
    assert est.answers_per_item.mean() < 1.25


def test_spammer_is_stopped_by_the_skill_floor():
    y = _truth(400, 3)
    pool = _pool([np.eye(3)] * 5 + [spammer_confusion(3)], rates=[1, 1, 1, 1, 1, 5])
    policy = GoldQuestions(DynamicOverlap(0.99, cap=5), np.arange(20), y[:20], min_gold=4)
    res = run_campaign(y, pool, policy, random_state=0)
    assert res.blocked.tolist() == [5]
    spam_answers = int((res.annotations.worker == 5).sum())
    assert spam_answers < 40  # blocked after a handful of gold questions, not 5/10 of the work
    assert res.accuracy == 1.0
    # the gold items are not scored and got no regular answers
    assert (res.answers_per_item[:20] == 0).all()
    assert res.trajectory.n_items == 380


def test_gold_skill_is_the_beta_posterior_mean():
    assert np.allclose(gold_skill([0, 3, 10], [0, 4, 10]), [0.5, 4 / 6, 11 / 12])


@given(
    budget=st.integers(0, 700),
    money=st.floats(0, 900),
    batch=st.integers(1, 64),
    seed=st.integers(0, 5),
)
@settings(max_examples=20, deadline=None)
def test_budget_is_never_exceeded(budget, money, batch, seed):
    y = _truth(200, 3, seed)
    pool = _pool([confusion_from_accuracy(a, 3) for a in (0.6, 0.7, 0.8, 0.9)],
                 costs=[0.5, 1.0, 1.5, 2.5])  # fmt: skip
    res = run_campaign(y, pool, FixedOverlap(4), "majority", Budget(budget, money),
                       batch_size=batch, random_state=seed)  # fmt: skip
    traj = res.trajectory
    assert traj.annotations[-1] <= budget
    assert traj.money[-1] <= money + 1e-9
    assert res.annotations.n_annotations == traj.annotations[-1]
    assert np.isclose(pool.costs[res.annotations.worker].sum(), traj.money[-1])
    assert (np.diff(traj.annotations) >= 0).all()


def test_same_seed_same_trajectory(bed):
    def go(seed):
        pol = GoldQuestions(InformationGain(0.99, cap=8), np.arange(10), bed.truth[:10])
        return run_campaign(bed.truth, bed.pool, pol, budget=1500, random_state=seed)

    a, b, c = go(3), go(3), go(4)
    assert np.array_equal(a.trajectory.accuracy, b.trajectory.accuracy)
    assert np.array_equal(a.annotations.label, b.annotations.label)
    assert np.array_equal(a.annotations.item, b.annotations.item)
    assert not np.array_equal(a.annotations.item, c.annotations.item)


def test_fixed_overlap_gives_k_distinct_annotators_per_item():
    y = _truth(150, 4)
    pool = make_pool(8, 4, random_state=0)
    res = run_campaign(y, pool, FixedOverlap(3), "majority", batch_size=16, random_state=0)
    assert res.stop_reason == "finished"
    assert (res.answers_per_item == 3).all()
    pairs = res.annotations.item.astype(np.int64) * 8 + res.annotations.worker
    assert np.unique(pairs).size == pairs.size
    # breadth first: at each record point answers are spread evenly over items
    assert res.trajectory.finished[-1] == 150


def test_adaptive_routing_beats_fixed_overlap(bed):
    fixed = run_campaign(bed.truth, bed.pool, FixedOverlap(12), "majority", random_state=0)
    eig = run_campaign(bed.truth, bed.pool, InformationGain(0.995, cap=12), random_state=0)
    dyn = run_campaign(bed.truth, bed.pool, DynamicOverlap(0.995, cap=12), random_state=0)
    unc = run_campaign(bed.truth, bed.pool, UncertaintyRouting(0.995, cap=12), random_state=0)
    need = fixed.trajectory.per_item_to_reach(0.95)
    assert 4 < need < 12
    for res in (eig, dyn, unc):
        assert res.trajectory.per_item_to_reach(0.95) <= 0.7 * need
        assert res.accuracy >= 0.97


def test_model_assisted_needs_fewer_answers():
    bed = make_toy_testbed(2000, 50, random_state=0)
    base = run_campaign(bed.truth, bed.pool, DynamicOverlap(0.995, cap=12), random_state=0)
    helped = run_campaign(bed.truth, bed.pool, ModelAssisted(DynamicOverlap(0.995, cap=12)),
                          features=bed.X, random_state=0)  # fmt: skip
    assert helped.trajectory.per_item[-1] < base.trajectory.per_item[-1]
    assert helped.accuracy >= 0.97
    with pytest.raises(InputError, match="needs item features"):
        run_campaign(bed.truth, bed.pool, ModelAssisted(DynamicOverlap()), random_state=0)


def test_information_gain_scores():
    post = np.array([[0.5, 0.5], [1.0, 0.0], [0.9, 0.1]])
    confs = np.stack([np.eye(2), spammer_confusion(2), confusion_from_accuracy(0.8, 2)])
    gain = expected_information_gain(post, confs)
    h = -(post * np.log(np.where(post > 0, post, 1))).sum(axis=1)
    assert np.allclose(gain[0], h)  # a perfect annotator reveals the label
    assert np.allclose(gain[1], 0)  # a spammer reveals nothing
    assert ((gain[2] > 0) & (gain[2] < h + 1e-12))[[0, 2]].all()
    assert np.isclose(gain[2, 1], 0)  # nothing left to learn about a certain item


def test_next_task_online_and_cap():
    state = CampaignState(3, 2, 2, max_answers=2, random_state=0)
    policy = FixedOverlap(2)
    policy.bind(state)
    seen = []
    for _ in range(3):
        item = policy.next_task(0, state)
        assert item is not None and item not in seen
        seen.append(item)
        state.record(np.array([item]), np.array([0]), np.array([1]))
    assert policy.next_task(0, state) is None  # annotator 0 answered everything
    with pytest.raises(InputError, match=r"annotator must be an annotator code in 0..1; got 5"):
        policy.next_task(5, state)
    assert policy.next_task(1, state) is not None
    # a state that is asked for nothing more
    items = np.arange(3)
    state.record(items, np.array([1, 1, 1]), np.array([1, 1, 1]))
    assert policy.next_task(1, state) is None
    assert state.annotations().n_annotations == 6


def test_aggregator_instance_and_record_points(bed):
    res = run_campaign(bed.truth, bed.pool, FixedOverlap(3), MajorityVote(), record_every=300,
                       batch_size=20, random_state=0)  # fmt: skip
    frame = res.trajectory.to_frame()
    assert list(frame.columns) == ["annotations", "per_item", "money", "accuracy", "finished"]
    assert frame["annotations"].tolist() == [0, 300, 600, 900, 1200, 1500, 1800]
    assert frame["accuracy"].iloc[-1] > 0.8
    assert np.isnan(res.trajectory.per_item_to_reach(1.01))


def test_error_paths(bed):
    pool = bed.pool
    with pytest.raises(InputError, match="items must be a non-empty 1-D array"):
        run_campaign(np.array([0.5, 1.0]), pool, DynamicOverlap())
    with pytest.raises(InputError, match=r"items\[1\] = 7 is not a class code"):
        run_campaign(np.array([0, 7]), pool, DynamicOverlap())
    with pytest.raises(InputError, match="annotators must be an AnnotatorPool"):
        run_campaign(bed.truth, "crowd", DynamicOverlap())  # type: ignore[arg-type]
    with pytest.raises(InputError, match="policy must be a RoutingPolicy"):
        run_campaign(bed.truth, pool, "fixed")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="aggregator must be"):
        run_campaign(bed.truth, pool, DynamicOverlap(), "median")
    with pytest.raises(ParameterError, match="'annotations' parameter of Budget"):
        run_campaign(bed.truth, pool, DynamicOverlap(), budget=-1)
    with pytest.raises(ParameterError, match="'money' parameter of Budget"):
        Budget(money=-1.0)
    with pytest.raises(ParameterError, match="may ask 40 distinct annotators"):
        run_campaign(bed.truth, pool, FixedOverlap(40))
    with pytest.raises(ParameterError, match="'k' parameter of FixedOverlap"):
        run_campaign(bed.truth, pool, FixedOverlap(0))
    with pytest.raises(ParameterError, match="'target' parameter of DynamicOverlap"):
        run_campaign(bed.truth, pool, DynamicOverlap(target=1.0))
    with pytest.raises(ParameterError, match="'min_answers' parameter of InformationGain"):
        run_campaign(bed.truth, pool, InformationGain(cap=2, min_answers=3))
    with pytest.raises(ParameterError, match="'batch_size' parameter of run_campaign"):
        run_campaign(bed.truth, pool, DynamicOverlap(), batch_size=0)
    with pytest.raises(InputError, match="gold_items must be distinct item codes"):
        run_campaign(bed.truth, pool, GoldQuestions(DynamicOverlap(), [0, 0], [1, 1]))
    with pytest.raises(InputError, match="gold_labels must be class codes"):
        run_campaign(bed.truth, pool, GoldQuestions(DynamicOverlap(), [0, 1], [1, 9]))
    with pytest.raises(InputError, match="equal length"):
        run_campaign(bed.truth, pool, GoldQuestions(DynamicOverlap(), [0, 1], [1]))
    with pytest.raises(ParameterError, match="'skill_floor' parameter of GoldQuestions"):
        run_campaign(bed.truth, pool, GoldQuestions(DynamicOverlap(), [0], [1], skill_floor=1.0))
    with pytest.raises(InputError, match="wraps a RoutingPolicy"):
        run_campaign(bed.truth, pool, ModelAssisted("dynamic"), features=bed.X)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="features must have one row per item"):
        run_campaign(bed.truth, pool, DynamicOverlap(), features=bed.X[:10])
    with pytest.raises(InputError, match="known_confusions must have shape"):
        CampaignState(5, 2, 3, max_answers=2, known_confusions=np.ones((2, 2, 2)))


def test_random_routing_and_registry(bed):
    from labelwise.routing import POLICIES, RandomRouting, make_policy

    res = run_campaign(bed.truth, bed.pool, RandomRouting(0.99, cap=8), random_state=0)
    assert res.stop_reason == "finished"
    assert res.accuracy > 0.95
    assert res.answers_per_item.max() <= 8 and res.answers_per_item.min() >= 1
    for name in POLICIES:
        policy, agg = make_policy(name, cap=5, gold_items=[0, 1], gold_labels=[0, 1])
        assert policy.max_answers == 5
        assert agg == ("majority" if name == "fixed" else "online")
    with pytest.raises(ParameterError, match="Unknown routing policy 'psychic'"):
        make_policy("psychic")
    with pytest.raises(InputError, match="policy 'gold' needs gold_items"):
        make_policy("gold")


def test_a_policy_that_repeats_items_is_refused(bed):
    class Stubborn(FixedOverlap):
        def next_tasks(self, workers, state):
            return np.zeros(len(workers), dtype=np.int64)

    with pytest.raises(InputError, match="gave the same item to two requests"):
        run_campaign(bed.truth, bed.pool, Stubborn(3), batch_size=4, random_state=0)
    pool = AnnotatorPool([np.eye(2).tolist()], ["x"], [1.0], [1.0])  # lists are accepted
    assert pool.confusions.shape == (1, 2, 2)


@pytest.mark.parametrize("name", ["ds", "glad", "mace", "onecoin", "wmv"])
def test_every_aggregator_reads_a_campaign(bed, name):
    from labelwise.aggregate import make_aggregator

    res = run_campaign(bed.truth, bed.pool, FixedOverlap(3), make_aggregator(name),
                       record_every=600, random_state=0)  # fmt: skip
    assert res.trajectory.accuracy[0] < 0.4  # a guess before any answer
    assert res.accuracy > 0.75


def test_a_batch_that_repeats_an_item_counts_every_answer():
    """Recording answers one by one or in one batch that repeats items gives the same state
    (a replayed log or the service may send such a batch)."""
    items = np.array([0, 2, 0, 1, 0, 2])
    workers = np.array([0, 1, 1, 2, 2, 0])
    labels = np.array([1, 0, 1, 1, 0, 0])
    one_by_one = CampaignState(3, 3, 2, max_answers=4, random_state=0)
    for i, w, y in zip(items, workers, labels, strict=True):
        one_by_one.record(np.array([i]), np.array([w]), np.array([y]))
    batched = CampaignState(3, 3, 2, max_answers=4, random_state=0)
    batched.record(items, workers, labels)
    np.testing.assert_array_equal(batched.n_answers, [3, 1, 2])
    np.testing.assert_array_equal(batched.n_answers, one_by_one.n_answers)
    np.testing.assert_array_equal(batched.votes, one_by_one.votes)
    np.testing.assert_array_equal(batched.answered_by, one_by_one.answered_by)
    np.testing.assert_allclose(batched.loglik, one_by_one.loglik)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 3), st.integers(0, 2)),
        min_size=1,
        max_size=25,
        unique_by=lambda t: (t[0], t[1]),
    ),
    st.integers(0, 24),
    st.booleans(),
)
def test_remove_is_the_inverse_of_record(answers, which, refreshed):
    """Removing one answer (an undo) leaves the state that recording every other answer
    builds: counts, answerers, votes, log-likelihoods, posteriors, gold tallies."""
    which %= len(answers)
    gold_items, gold_labels = np.array([5]), np.array([2])

    def build(rows):
        s = CampaignState(6, 4, 3, max_answers=6, random_state=0)
        s.set_gold(gold_items, gold_labels)
        for i, w, y in rows:
            s.record(np.array([i]), np.array([w]), np.array([y]))
        if refreshed:
            s.refresh(n_iter=1)
        return s

    full = build(answers)
    i, w, y = answers[which]
    conf, prior, temper = full.log_conf.copy(), full.class_prior.copy(), full.tempering
    full.remove(i, w, y)
    rest = [a for k, a in enumerate(answers) if k != which]
    ref = build(rest)
    # the skills, class prior and calibration as they were when the answer left
    ref.log_conf, ref.class_prior, ref.tempering = conf, prior, temper
    ref.loglik = np.zeros_like(ref.loglik)
    for a, b, c in rest:
        if a != 5:
            ref.loglik[a] += conf[b, :, c]
    ref._update_rows(None)
    np.testing.assert_array_equal(full.n_answers, ref.n_answers)
    np.testing.assert_array_equal(full.votes, ref.votes)
    np.testing.assert_array_equal(
        np.sort(full.answered_by, axis=1), np.sort(ref.answered_by, axis=1)
    )
    np.testing.assert_array_equal(full.worker_answers, ref.worker_answers)
    np.testing.assert_array_equal(full.gold_answered, ref.gold_answered)
    np.testing.assert_array_equal(full.gold_correct, ref.gold_correct)
    np.testing.assert_allclose(full.loglik, ref.loglik, atol=1e-9)
    np.testing.assert_allclose(full.post, ref.post, atol=1e-9)
    assert sorted(zip(*full.collected(), strict=True)) == sorted(map(tuple, rest))
    with pytest.raises(InputError, match="nothing to remove"):
        full.remove(i, w, y)  # it left already


def test_refresh_on_a_detached_copy_equals_refresh_in_place():
    """The service re-estimates skills on a detached copy outside its lock: installing
    that result gives what an in-place refresh gives, the live state is never touched
    meanwhile, and answers recorded meanwhile are kept and scored with the new skills."""
    rng = np.random.default_rng(4)
    n, w, k = 60, 5, 3
    truth = rng.integers(0, k, n)

    def answers(m):
        items = rng.integers(0, n, m)
        workers = rng.integers(0, w, m)
        right = rng.random(m) < 0.8
        return items, workers, np.where(right, truth[items], rng.integers(0, k, m))

    def build():
        s = CampaignState(n, w, k, max_answers=50, random_state=0)
        s.set_gold(np.array([0, 1]), truth[:2])
        return s

    first, later = answers(200), answers(30)
    live, ref = build(), build()
    for s in (live, ref):
        s.record(*first)
    twin = live.detached()
    before = live.post.copy(), live.log_conf.copy(), live.loglik.copy()
    twin.refresh()
    for now, then in zip((live.post, live.log_conf, live.loglik), before, strict=True):
        np.testing.assert_array_equal(now, then)  # the refresh wrote nothing into live
    live.record(*later)  # answers arriving while the copy was being refreshed
    live.install_refresh(twin)
    ref.refresh()
    ref.record(*later)
    np.testing.assert_allclose(live.log_conf, ref.log_conf)
    np.testing.assert_allclose(live.class_prior, ref.class_prior)
    np.testing.assert_allclose(live.loglik, ref.loglik, atol=1e-9)
    np.testing.assert_allclose(live.post, ref.post, atol=1e-9)
    assert live.n_collected == ref.n_collected == 230
