"""Every aggregator: the estimator contract, known answers, gold clamping and properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from _crowd import make_crowd
from labelwise import (
    GLAD,
    MACE,
    Annotations,
    DawidSkene,
    MajorityVote,
    NotFittedError,
    OneCoinDawidSkene,
    ParameterError,
    WeightedMajorityVote,
    make_aggregator,
)
from labelwise.aggregate import METHODS, ConvergenceWarning, IdentifiabilityWarning
from labelwise.errors import InputError
from labelwise.simulate import confusion_from_accuracy, simulate_annotations, spammer_confusion

ALL = [MajorityVote, WeightedMajorityVote, DawidSkene, OneCoinDawidSkene, GLAD, MACE]


@pytest.mark.parametrize("cls", ALL)
def test_estimator_contract(cls, crowd):
    ann, truth = crowd
    model = cls()
    assert model.fit(ann) is model
    assert model.proba_.shape == (ann.n_items, ann.n_classes)
    np.testing.assert_allclose(model.proba_.sum(axis=1), 1.0)
    assert model.skill_.shape == (ann.n_workers,)
    assert np.all((model.skill_ >= 0) & (model.skill_ <= 1))
    assert model.labels_.shape == (ann.n_items,)
    # clone gives an unfitted twin with the same parameters
    twin = clone(model)
    assert twin.get_params() == model.get_params() and not hasattr(twin, "proba_")
    # a decent crowd (accuracies 0.6-0.9, 3 per item, 4 classes): every method > 0.83
    assert (model.label_codes_ == truth).mean() > 0.83


@pytest.mark.parametrize("cls", ALL)
def test_not_fitted_and_bad_input(cls):
    with pytest.raises(NotFittedError, match="not fitted"):
        cls().to_frame()
    with pytest.raises(InputError, match="expects an Annotations object"):
        cls().fit(pd.DataFrame({"item": [1]}))
    ann, _ = make_crowd(n_items=10)
    with pytest.raises(InputError, match="got no annotations to aggregate"):
        cls().fit(ann.subset(np.zeros(ann.n_annotations, dtype=bool)))


@pytest.mark.parametrize(
    ("cls", "param", "value", "match"),
    [
        (
            DawidSkene,
            "tol",
            -1,
            r"The 'tol' parameter of DawidSkene must be a float in \(0, 1\). Got -1",
        ),
        (DawidSkene, "max_iter", 0, "'max_iter' parameter of DawidSkene must be an int"),
        (DawidSkene, "smoothing", -0.1, "'smoothing' parameter"),
        (OneCoinDawidSkene, "max_iter", 1.5, "'max_iter'"),
        (GLAD, "m_step_iter", 0, "'m_step_iter'"),
        (MACE, "smoothing", "a", "'smoothing'"),
        (MajorityVote, "ties", "first", "'ties' parameter of MajorityVote must be one of"),
        (WeightedMajorityVote, "weights", "x", "'weights'"),
        (WeightedMajorityVote, "n_rounds", 0, "'n_rounds'"),
    ],
)
def test_parameter_errors(cls, param, value, match, crowd):
    ann, _ = crowd
    with pytest.raises(ParameterError, match=match):
        cls(**{param: value}).fit(ann)


def test_make_aggregator_names():
    assert set(METHODS) == {"mv", "wmv", "ds", "onecoin", "glad", "mace", "calibrated"}
    with pytest.raises(
        ParameterError, match="Unknown aggregation method 'bogus'; choose one of mv"
    ):
        make_aggregator("bogus")


def test_majority_vote_ties():
    ann = Annotations.from_arrays(
        ["a", "a", "b", "b", "b"], ["u", "v", "u", "v", "w"], ["x", "y", "x", "x", "y"]
    )
    flagged = MajorityVote(ties="flag").fit(ann)
    assert flagged.labels_.tolist() == [None, "x"]
    assert flagged.tied_.tolist() == [True, False]
    assert flagged.to_frame()["tied"].tolist() == [True, False]
    # seeded random: same seed same choice, and over seeds both classes occur
    picks = {MajorityVote(random_state=s).fit(ann).labels_[0] for s in range(20)}
    assert picks == {"x", "y"}
    assert (
        MajorityVote(random_state=3).fit(ann).labels_[0]
        == MajorityVote(random_state=3).fit(ann).labels_[0]
    )


def test_weighted_vote_downweights_a_bad_annotator():
    # two reliable annotators disagree with a bad one who labels everything
    ann, truth = make_crowd(n_items=400, accuracies=(0.95, 0.9, 0.3), per_item=3, k=3, seed=1)
    wmv = WeightedMajorityVote(weights="log_odds", n_rounds=3).fit(ann)
    assert wmv.weights_[2] < wmv.weights_[0]
    assert (wmv.label_codes_ == truth).mean() >= (
        MajorityVote().fit(ann).label_codes_ == truth
    ).mean()


def test_dawid_skene_recovers_asymmetric_confusion():
    rng = np.random.default_rng(0)
    k = 3
    truth = rng.integers(0, k, 3000)
    biased = np.array([[0.7, 0.3, 0.0], [0.0, 0.9, 0.1], [0.05, 0.05, 0.9]])
    confs = np.stack([biased, confusion_from_accuracy(0.8, k), confusion_from_accuracy(0.85, k)])
    ann = simulate_annotations(truth, confs, per_item=3, random_state=0)
    ds = DawidSkene().fit(ann)
    np.testing.assert_allclose(ds.confusion_[0], biased, atol=0.05)
    assert (ds.label_codes_ == truth).mean() > 0.9
    ll = np.array(ds.log_likelihood_)
    assert ds.converged_ and np.all(np.diff(ll) > -1e-6 * np.abs(ll[:-1]))


def test_gold_is_clamped_and_anchors_an_adversary():
    # one good annotator and one adversary who swaps two classes: without gold the
    # model can't tell them apart on binary data; gold decides
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, 200)
    confs = np.stack([confusion_from_accuracy(0.9, 2), np.array([[0.1, 0.9], [0.9, 0.1]])])
    ann = simulate_annotations(truth, confs, per_item=2, random_state=0)
    gold = {int(i): int(truth[i]) for i in range(40)}
    ds = DawidSkene().fit(ann, gold=gold)
    assert (ds.label_codes_[:40] == truth[:40]).all()
    np.testing.assert_array_equal(ds.proba_[:40].max(axis=1), 1.0)
    assert ds.skill_[0] > 0.8 and ds.skill_[1] < 0.2
    assert (ds.label_codes_ == truth).mean() > 0.85
    for cls in ALL:
        model = cls().fit(ann, gold=gold)
        assert (model.label_codes_[:40] == truth[:40]).all()


def test_single_answers_warn_that_skill_is_not_identifiable():
    ann, _ = make_crowd(n_items=50, per_item=1)
    with pytest.warns(IdentifiabilityWarning, match="no item has two answers"):
        DawidSkene().fit(ann)
    MajorityVote().fit(ann)  # no warning: it does not estimate skill from overlap


def test_convergence_warning_when_max_iter_too_small(crowd):
    ann, _ = crowd
    with pytest.warns(ConvergenceWarning, match="raise max_iter"):
        DawidSkene(max_iter=1).fit(ann)


def test_mace_finds_the_spammer():
    ann, _ = make_crowd(n_items=500, accuracies=(0.9, 0.85, 0.8, 0.25), k=4, per_item=3, seed=2)
    # worker 3 has accuracy 0.25 = chance with 4 classes: a spammer
    mace = MACE().fit(ann)
    assert mace.competence_[3] < 0.2 < mace.competence_[:3].min()


def test_glad_difficulty_is_higher_for_contested_items():
    ann, _truth = make_crowd(
        n_items=300, accuracies=(0.85, 0.8, 0.75, 0.9, 0.7), k=3, per_item=5, seed=3
    )
    glad = GLAD().fit(ann)
    agreement = glad.agreement_
    assert np.corrcoef(agreement, glad.difficulty_)[0, 1] < -0.5


def test_to_frame_columns(crowd):
    ann, _ = crowd
    frame = DawidSkene().fit(ann).to_frame()
    assert list(frame.columns) == ["item", "label", "confidence", "n_annotations", "agreement"]
    assert frame["n_annotations"].sum() == ann.n_annotations


# ---------------------------------------------------------------- properties
@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    method=st.sampled_from(["mv", "ds", "onecoin", "glad", "mace", "wmv"]),
)
def test_renaming_and_reordering_does_not_change_labels(seed, method):
    ann, _ = make_crowd(n_items=60, seed=seed)
    frame = ann.to_frame()
    rng = np.random.default_rng(seed)
    item_names = {i: f"item-{rng.integers(1e9)}-{i}" for i in range(ann.n_items)}
    worker_names = {w: f"annotator {rng.integers(1e9)}:{w}" for w in range(ann.n_workers)}
    renamed = frame.assign(
        item=frame["item"].map(item_names), worker=frame["worker"].map(worker_names)
    )
    renamed = renamed.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    params = {"ties": "flag"} if method in ("mv", "wmv") else {}
    a = make_aggregator(method, **params).fit(
        Annotations.from_frame(frame, classes=list(ann.classes))
    )
    b = make_aggregator(method, **params).fit(
        Annotations.from_frame(renamed, classes=list(ann.classes))
    )
    got = pd.Series(b.labels_, index=b.items_)
    expected = pd.Series(a.labels_, index=[item_names[i] for i in a.items_])
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False)
    np.testing.assert_allclose(
        pd.DataFrame(b.proba_, index=b.items_).sort_index().to_numpy(),
        pd.DataFrame(a.proba_, index=[item_names[i] for i in a.items_]).sort_index().to_numpy(),
        atol=1e-6,
    )


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(2, 6), per_item=st.integers(2, 4))
def test_perfect_annotators_are_recovered_exactly(seed, k, per_item):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, 80)
    truth[:k] = np.arange(k)  # every class occurs
    confs = np.stack([np.eye(k)] * 4)
    ann = simulate_annotations(truth, confs, per_item=per_item, random_state=seed)
    for name in METHODS:
        model = make_aggregator(name).fit(ann)
        np.testing.assert_array_equal(model.label_codes_, truth)
        assert model.skill_.min() > 0.9


@pytest.mark.parametrize("acc", [0.65, 0.75, 0.85])
def test_a_uniform_spammer_moves_dawid_skene_less_than_majority_vote(acc):
    # a property in expectation: on one draw of 600 items Dawid-Skene's own estimation
    # noise can move it a point more than the vote (seed 2894 at 0.65 did), so the
    # moves are averaged over eight draws
    def moves(seed):
        rng = np.random.default_rng(seed)
        k = 4
        truth = rng.integers(0, k, 600)
        good = [confusion_from_accuracy(acc, k)] * 3
        base = simulate_annotations(truth, np.stack(good), per_item=3, random_state=seed)
        spam = rng.integers(0, k, truth.shape[0])
        frame = base.to_frame()
        extra = pd.DataFrame({"item": np.arange(truth.shape[0]), "worker": 99, "label": spam})
        with_spam = Annotations.from_frame(pd.concat([frame, extra], ignore_index=True))
        before = Annotations.from_frame(frame, classes=list(with_spam.classes))

        def acc_of(name, a):
            return (make_aggregator(name).fit(a).label_codes_ == truth).mean()

        return [abs(acc_of(m, with_spam) - acc_of(m, before)) for m in ("mv", "ds")]

    mv_move, ds_move = np.mean([moves(seed) for seed in range(8)], axis=0)
    assert ds_move < mv_move


def test_spammer_confusion_is_flat_after_fit():
    rng = np.random.default_rng(0)
    k = 3
    truth = rng.integers(0, k, 1500)
    confs = np.stack([confusion_from_accuracy(0.85, k)] * 3 + [spammer_confusion(k)])
    ann = simulate_annotations(truth, confs, per_item=4, random_state=0)
    ds = DawidSkene().fit(ann)
    np.testing.assert_allclose(ds.confusion_[3], spammer_confusion(k), atol=0.06)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_refit_on_other_data_gives_a_fresh_fit(name):
    """A fitted aggregator fitted again on other answers forgets the first fit (labels
    chosen by a tie-break in the first fit once survived into the second)."""
    first, _ = make_crowd(n_items=60, seed=1)
    second, _ = make_crowd(n_items=90, seed=2)
    model = make_aggregator(name).fit(first)
    model.fit(second)
    fresh = make_aggregator(name).fit(second)
    np.testing.assert_array_equal(model.label_codes_, fresh.label_codes_)
    assert model.labels_.shape == (90,)
