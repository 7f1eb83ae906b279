"""Learning curves: nested subsets, metrics from confusion matrices, clear size errors."""

from __future__ import annotations

import itertools
from typing import ClassVar

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from labelwise.errors import InputError, ParameterError
from labelwise.scaling import LearningCurve, learning_curve, score_from_confusion


class Recorder(ClassifierMixin, BaseEstimator):
    """Remembers the first feature (the row id) of every training set; predicts class 0."""

    seen: ClassVar[list[np.ndarray]] = []

    def fit(self, X, y):
        Recorder.seen.append(X[:, 0].astype(int).copy())
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.zeros(len(X), dtype=int)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16.0, y[:600]


def test_subsets_are_nested_and_cover_every_class():
    Recorder.seen = []
    y = np.repeat(np.arange(4), 25)
    X = np.column_stack([np.arange(100), np.zeros(100)])
    curve = learning_curve(Recorder(), X, y, [4, 10, 30, 60], seeds=[1, 2], test_size=0.2)
    assert curve.sizes.tolist() == [4, 10, 30, 60] and curve.scores.shape == (2, 4)
    for s in range(2):
        runs = Recorder.seen[4 * s : 4 * s + 4]
        for small, big in itertools.pairwise(runs):
            assert set(small) <= set(big)
        assert set(y[runs[0]]) == {0, 1, 2, 3}  # the 4-item subset holds every class
    assert set(Recorder.seen[0]) != set(Recorder.seen[4])  # a new draw per seed
    # the model always answers class 0: accuracy = the share of class 0 in the test set
    assert np.allclose(curve.scores, 0.25)


def test_curve_improves_with_data_and_is_reproducible(digits):
    X, y = digits
    est = LogisticRegression(max_iter=300, tol=1e-3)
    a = learning_curve(est, X, y, [0.05, 0.2, 1.0], seeds=2, random_state=3)
    b = learning_curve(est, X, y, [0.05, 0.2, 1.0], seeds=2, random_state=3)
    np.testing.assert_array_equal(a.scores, b.scores)
    assert a.sizes.tolist() == [22, 90, 450]  # fractions of the 450-item training pool
    assert a.mean[-1] > a.mean[0] + 0.1
    assert a.confusion.sum(axis=(-2, -1)).tolist() == [[150.0] * 3] * 2
    frame = a.to_frame()
    assert list(frame.columns) == ["n", "accuracy", "std", "min", "max"]


def test_metrics_from_confusion_match_sklearn(digits):
    X, y = digits
    curve = learning_curve(LogisticRegression(max_iter=300, tol=1e-3), X, y, [30, 100], seeds=1)
    conf = curve.confusion[0, 0]
    truth = np.repeat(np.arange(10), conf.sum(axis=1).astype(int))
    pred = np.concatenate([np.repeat(np.arange(10), conf[k].astype(int)) for k in range(10)])
    assert score_from_confusion(conf, "macro_f1") == pytest.approx(
        f1_score(truth, pred, average="macro")
    )
    assert curve.with_metric("accuracy").scores == pytest.approx(curve.scores)
    recall3 = curve.for_class(3)
    assert recall3.metric == "recall[3]"
    assert recall3.scores[0, 0] == pytest.approx(conf[3, 3] / conf[3].sum())
    with pytest.raises(InputError, match="class 42 is not one of"):
        curve.for_class(42)


def test_user_metric_is_called_on_codes(digits):
    X, y = digits
    curve = learning_curve(
        LogisticRegression(max_iter=300, tol=1e-3),
        X,
        y,
        [50, 100],
        seeds=1,
        metric=lambda t, p: float((p == t)[t == 1].mean()),
    )
    assert curve.metric == "custom"
    assert curve.scores[0] == pytest.approx(curve.class_recall[0, :, 1])


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ([10, 5000], r"size 5000 asks for 5000 training items but only 450 are available"),
        ([0, 50], r"size 0 gives 0 training items; sizes must be positive"),
        ([-3], r"sizes must be positive"),
        ([0.0], r"size 0.0 must be positive"),
        ([5], r"fewer than the 10 classes"),
        ([], r"sizes is empty"),
        ([12.5], r"neither a whole count nor a fraction"),
        (["a"], r"sizes must be numbers"),
    ],
)
def test_bad_sizes_give_clear_errors(digits, sizes, message):
    X, y = digits
    with pytest.raises(InputError, match=message):
        learning_curve(LogisticRegression(), X, y, sizes, seeds=1)


def test_other_input_errors(digits):
    X, y = digits
    est = LogisticRegression()
    with pytest.raises(ParameterError, match="'metric' parameter must be one of"):
        learning_curve(est, X, y, [50], metric="auc")
    with pytest.raises(InputError, match="X_test was given without y_test"):
        learning_curve(est, X, y, [50], X_test=X)
    with pytest.raises(InputError, match="Lengths differ"):
        learning_curve(est, X, y[:10], [50])
    with pytest.raises(ParameterError, match="'seeds' parameter"):
        learning_curve(est, X, y, [50], seeds=0)
    with pytest.raises(InputError, match="single class"):
        learning_curve(est, X, np.zeros(len(y)), [50])
    with pytest.raises(InputError, match="no size is <= max_size=3"):
        LearningCurve(
            sizes=np.array([10]),
            scores=np.ones((1, 1)),
            confusion=np.ones((1, 1, 2, 2)),
            classes=np.array([0, 1]),
            metric="accuracy",
            n_available=10,
        ).truncate(3)


def test_scaling_all_is_in_step():
    import labelwise.scaling as scaling

    public = {n for n in vars(scaling) if not n.startswith("_")}
    assert set(scaling.__all__) <= public
    assert {"learning_curve", "CurveFit", "noise_volume_study", "plan_budget"} <= set(
        scaling.__all__
    )


class KnownCurve(ClassifierMixin, BaseEstimator):
    """A classifier whose test accuracy with n training labels is ``1 - A n^-0.5 - C``.

    Column 0 of X holds the true class, column 1 a uniform draw u: an item is predicted
    right when u < the accuracy for the training size. The same u at every size makes
    the measured curve the empirical CDF of u at that accuracy (monotone, known).
    """

    def __init__(self, A: float = 2.0, C: float = 0.05):
        self.A = A
        self.C = C

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.n_ = len(y)
        return self

    def predict(self, X):
        acc = 1 - self.A * self.n_**-0.5 - self.C
        truth = X[:, 0].astype(np.int64)
        wrong = (truth + 1) % len(self.classes_)
        return np.where(X[:, 1] < acc, truth, wrong)


def known_curve_data(n=4000, k=4, seed=0):
    gen = np.random.default_rng(seed)
    y = gen.integers(0, k, n)
    return np.column_stack([y, gen.random(n)]).astype(float), y


def test_learning_curve_uses_the_estimator_it_is_given():
    X, y = known_curve_data()
    sizes = [100, 200, 400, 800, 1600, 3000]
    for est in (KnownCurve(), KnownCurve):  # an estimator or a factory
        curve = learning_curve(est, X, y, sizes, seeds=2, random_state=0)
        truth = 1 - 2 * np.asarray(sizes) ** -0.5 - 0.05
        assert np.abs(curve.mean - truth).max() < 0.02
        assert curve.model == "KnownCurve()"
    other = learning_curve(KnownCurve(C=0.2), X, y, sizes, seeds=1)
    assert other.model == "KnownCurve(C=0.2)" and (other.mean < curve.mean - 0.1).all()
    with pytest.raises(InputError, match="scikit-learn classifier"):
        learning_curve("logreg", X, y, sizes)


def test_rotated_test_folds_score_every_item_once():
    X, y = known_curve_data(n=400, k=4, seed=1)
    curve = learning_curve(KnownCurve(), X, y, [40, 100, 200], seeds=4, rotate_test=True)
    # four folds of a quarter each: over the four seeds every item is scored once
    assert curve.confusion[:, 0].sum() == 400
    assert curve.n_available == min(400 - c.sum() for c in curve.confusion[:, 0])
    fixed = learning_curve(KnownCurve(), X, y, [40, 100, 200], seeds=4)
    assert fixed.confusion[:, 0].sum() == 4 * fixed.confusion[0, 0].sum()
