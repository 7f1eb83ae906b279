"""The gold-fitted top-label map: it keeps labels, is monotone in confidence, and
brings a crowd whose annotators share their errors to an honest confidence on gold it
did not see."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelwise.aggregate import CalibratedAggregator, DawidSkene
from labelwise.annotations import Annotations
from labelwise.calibration import (
    TopLabelMap,
    calibration_report,
    ece_noise_floor,
    expected_calibration_error,
    fit_top_label_map,
    gold_cross_fit,
    rescale_top,
)
from labelwise.errors import ParameterError


def _shared_error_crowd(seed: int, n: int = 1200, k: int = 5) -> tuple[Annotations, np.ndarray]:
    """1 to 4 answers per item (LabelMe has 2.5); on a fifth of the items every
    annotator is drawn to the same wrong class (the item looks like another class), so
    the answers of an item are not independent given its class."""
    rng = np.random.default_rng(seed)
    n_workers = 40
    truth = rng.integers(0, k, n)
    acc = rng.uniform(0.65, 0.95, n_workers)
    looks_like = np.where(rng.random(n) < 0.2, (truth + 1 + rng.integers(0, k - 1, n)) % k, truth)
    per_item = rng.integers(1, 5, n)
    item = np.repeat(np.arange(n), per_item)
    worker = np.concatenate([rng.choice(n_workers, m, replace=False) for m in per_item])
    right = rng.random(item.size) < acc[worker]
    label = np.where(right, looks_like[item], rng.integers(0, k, item.size))
    ann = Annotations.from_codes(item, worker, label, n_items=n, n_workers=n_workers, n_classes=k)
    return ann, truth


def test_gold_map_makes_shared_errors_honest_on_unseen_gold() -> None:
    """Raw Dawid-Skene over-claims on shared errors; the gold map, scored on gold it
    was not fitted on, is within the ECE estimator's own noise and keeps accuracy."""
    ann, truth = _shared_error_crowd(0)
    raw = calibration_report(DawidSkene().fit(ann).proba_, truth)
    assert raw.gap > 0.08 and raw.ece > 0.08
    proba, y = gold_cross_fit(CalibratedAggregator(), ann, truth, n_folds=2, random_state=0)
    after = calibration_report(proba, y)
    _, floor95 = ece_noise_floor(proba)
    assert after.ece < max(floor95, 0.03) and abs(after.gap) < 0.03
    assert after.brier < raw.brier
    # the map sets confidences, not labels: accuracy as Dawid-Skene given the same gold
    same_gold = calibration_report(*gold_cross_fit(DawidSkene(), ann, truth, random_state=0))
    assert after.accuracy >= same_gold.accuracy - 0.005
    # round 1's map (temperature and floor, 2-fold inner cross-fit) is the weaker one
    old = CalibratedAggregator(n_folds=2, top_label=False)
    before = calibration_report(*gold_cross_fit(old, ann, truth, n_folds=2, random_state=0))
    assert after.brier <= before.brier + 1e-3


def test_fitted_map_on_gold_keeps_labels_and_reads_answers() -> None:
    ann, truth = _shared_error_crowd(1)
    gold = np.where(np.arange(ann.n_items) < 600, truth, -1)
    model = CalibratedAggregator().fit(ann, gold=_series(ann, gold))
    assert model.tempering_.source == "gold" and model.top_map_.coef
    assert model.top_map_.coef[0] >= 0.0  # monotone in the posterior's confidence
    base = model.tempering_.apply(*_evidence(model, ann))
    free = gold < 0
    assert np.array_equal(model.proba_[free].argmax(axis=1), base[free].argmax(axis=1))
    assert np.allclose(model.proba_.sum(axis=1), 1.0)
    # without gold the map is the identity
    assert CalibratedAggregator(method="answers").fit(ann).top_map_ == TopLabelMap()
    with pytest.raises(ParameterError, match="n_folds"):
        CalibratedAggregator(n_folds=1).fit(ann)
    with pytest.raises(ParameterError, match="top_label"):
        CalibratedAggregator(top_label="yes").fit(ann)  # type: ignore[arg-type]


def _series(ann, codes):
    import pandas as pd

    known = codes >= 0
    return pd.Series(ann.classes[codes[known]], index=pd.Index(ann.item_ids[known]))


def _evidence(model, ann):
    log_prior, loglik, _, _ = model._evidence(ann, model.estimator_)
    return log_prior, loglik


def test_map_recovers_an_agreement_dependent_accuracy() -> None:
    """Confidence 0.9 claimed everywhere, but the top label is right 0.98 of the time
    when all answers agree and 0.6 when they split: only the answers tell them apart."""
    rng = np.random.default_rng(2)
    n, k = 4000, 3
    agree = rng.random(n) < 0.5
    counts = np.zeros((n, k))
    counts[:, 0] = 3
    counts[~agree, 1] = 2
    proba = np.tile([0.9, 0.06, 0.04], (n, 1))
    right = rng.random(n) < np.where(agree, 0.98, 0.6)
    truth = np.where(right, 0, 1)
    fit, test = np.arange(n) < n // 2, np.arange(n) >= n // 2
    m = fit_top_label_map(proba[fit], counts[fit], truth[fit])
    out = m.apply(proba[test], counts[test])
    ok, split = right[test], ~agree[test]
    # each group's claimed confidence is now its accuracy (0.98 / 0.6), not 0.9 for both
    for group in (split, ~split):
        assert abs(out[group, 0].mean() - ok[group].mean()) < 0.03
    assert expected_calibration_error(out, truth[test]) < 0.03
    assert np.all(out.argmax(axis=1) == 0)
    # all right on gold: nothing to learn, the identity
    assert fit_top_label_map(proba[:50], counts[:50], np.zeros(50, dtype=int)) == TopLabelMap()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(2, 6))
def test_map_is_monotone_in_confidence_and_keeps_labels(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    n = 300
    logits = rng.normal(0, 2.0, (n, k))
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    counts = rng.integers(0, 4, (n, k)).astype(float)
    truth = np.where(rng.random(n) < 0.7, proba.argmax(axis=1), rng.integers(0, k, n))
    m = fit_top_label_map(proba, counts, truth)
    out = m.apply(proba, counts)
    assert np.allclose(out.sum(axis=1), 1.0) and (out >= 0).all()
    # the order of classes (the label included) is kept in every row
    assert np.array_equal(np.argsort(-out, axis=1, kind="stable")[:, 0], proba.argmax(axis=1))
    # the same answers for every top label (an even split), higher confidence: never a
    # lower calibrated confidence
    same = np.full((n, k), float(rng.integers(1, 4)))
    conf = m.confidence(proba, same)
    order = np.argsort(proba.max(axis=1))
    assert (np.diff(conf[order]) >= -1e-12).all()


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000), k=st.integers(2, 6), target=st.floats(0.0, 1.0, allow_nan=False)
)
def test_rescale_top_sets_the_top_and_keeps_the_order(seed: int, k: int, target: float) -> None:
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(k), size=50)
    out = rescale_top(p, np.full(50, target))
    want = max(target, 1.0 / k)
    assert np.allclose(out.max(axis=1), want, atol=1e-5)
    assert np.array_equal(out.argmax(axis=1), p.argmax(axis=1))
    # pairwise order of the other classes kept too
    assert (np.sign(np.diff(out, axis=1)) * np.sign(np.diff(p, axis=1)) >= 0).all()


def test_ece_noise_floor_shrinks_with_items() -> None:
    """A posterior calibrated by construction shows an ECE of about the floor; the
    floor falls as the number of items grows (about 1/sqrt(n))."""
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.full(4, 0.5), size=8000)
    top = p.argmax(axis=1)
    y = np.where(rng.random(8000) < p.max(axis=1), top, (top + 1) % 4)
    small, small95 = ece_noise_floor(p[:500])
    large, _ = ece_noise_floor(p)
    assert 0.01 < small < small95 and large < small / 2
    assert expected_calibration_error(p[:500], y[:500]) < small95
