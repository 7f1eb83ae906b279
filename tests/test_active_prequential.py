"""Choosing a self-training arm by how it predicted the labels bought next."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from labelwise.active import AUTO_THRESHOLDS, ActiveLearner, leader, prequential_update
from labelwise.errors import InputError, ParameterError


def test_update_discounts_the_past_and_counts_the_batch() -> None:
    hits, seen = np.array([4.0, 2.0]), np.array([5.0, 5.0])
    correct = np.array([[1, 0], [1, 1], [0, 1]], dtype=bool)
    h, s = prequential_update(hits, seen, correct, 0.5)
    np.testing.assert_allclose(h, [0.5 * 4 + 2, 0.5 * 2 + 2])
    np.testing.assert_allclose(s, [0.5 * 5 + 3, 0.5 * 5 + 3])
    assert leader(h, s) == 0  # 4/5.5 against 3/5.5


def test_leader_follows_the_recent_record_under_a_discount() -> None:
    # arm 1 was right early, arm 0 lately: with no discount arm 1 leads, with 0.5 arm 0
    early = np.array([[0, 1]] * 10)
    late = np.array([[1, 0]] * 4)
    for discount, want in ((1.0, 1), (0.5, 0)):
        h, s = np.zeros(2), np.zeros(2)
        for batch in (early, early, late, late):
            h, s = prequential_update(h, s, batch, discount)
        assert leader(h, s) == want


@given(st.lists(st.lists(st.booleans(), min_size=3, max_size=3), min_size=1, max_size=20))
def test_accuracy_stays_a_fraction_and_ties_go_to_the_first_arm(rows: list[list[bool]]) -> None:
    correct = np.asarray(rows)
    h, s = prequential_update(np.zeros(3), np.zeros(3), correct, 0.8)
    assert np.all(h >= 0) and np.all(h <= s)
    tie = prequential_update(np.zeros(3), np.zeros(3), np.repeat(correct[:, :1], 3, axis=1), 0.8)
    assert leader(*tie) == 0
    assert leader(np.zeros(3), np.zeros(3)) == 0  # no evidence: the first arm


def test_errors() -> None:
    with pytest.raises(InputError, match=r"correct must have shape \(m, 2\) for 2 arms"):
        prequential_update(np.zeros(2), np.zeros(2), np.zeros((3, 3)), 0.8)
    with pytest.raises(ParameterError, match="'discount' parameter"):
        prequential_update(np.zeros(2), np.zeros(2), np.zeros((3, 2)), 0.0)
    X = load_digits().data
    with pytest.raises(ParameterError, match="'self_training' parameter of ActiveLearner"):
        ActiveLearner(LogisticRegression(), self_training="best").fit(X[:50] / 16)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="'discount' parameter of ActiveLearner"):
        ActiveLearner(LogisticRegression(), discount=1.5).fit(X[:50] / 16)


def test_auto_scores_every_arm_on_each_batch_before_learning_it() -> None:
    X, y = load_digits(return_X_y=True)
    X, y = X[:600] / 16.0, y[:600]
    known = np.full(len(y), -1)
    known[:30] = y[:30]
    al = ActiveLearner(LogisticRegression(max_iter=300), batch_size=20, random_state=0)
    al = al.fit(X, known)
    assert al.self_training_ == AUTO_THRESHOLDS[0] and al.arm_accuracy_ == {}
    ids = al.query()
    before = {t: al._arm_models[t].predict(X[ids]) for t in AUTO_THRESHOLDS}
    al.teach(ids, y[ids])
    for t in AUTO_THRESHOLDS:  # the score is the accuracy on the batch of the model before it
        assert al.arm_accuracy_[t] == pytest.approx((before[t] == y[ids]).mean())
    best = max(AUTO_THRESHOLDS, key=lambda t: al.arm_accuracy_[t])
    assert al.arm_accuracy_[al.self_training_] == al.arm_accuracy_[best]
    assert al.estimator_ is al._arm_models[al.self_training_]
    # every row of the pool (threshold 0) against the confident ones (0.9)
    all_rows = al._arm_models[0.0]
    assert al.n_pseudo_ <= len(y) - 50 and hasattr(all_rows, "classes_")
    al.teach(ids[:5], y[ids[:5]])  # taught again: no new evidence for any arm
    assert al.arm_accuracy_[best] == pytest.approx((before[best] == y[ids]).mean())
