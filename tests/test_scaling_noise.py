"""Noise versus volume: shapes, the shared baseline, sensitivity tables and errors."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from labelwise.errors import InputError, ParameterError
from labelwise.scaling import noise_volume_study


@pytest.fixture(scope="module")
def study():
    X, y = load_digits(return_X_y=True)
    return noise_volume_study(
        LogisticRegression(max_iter=200, tol=1e-3),
        X[:800] / 16,
        y[:800],
        noise_levels=(0.1, 0.4),
        fractions=(0.5, 0.15),
        repeats=2,
        random_state=1,
    )


def test_levels_get_their_baseline_and_shapes(study):
    assert study.noise_levels.tolist() == [0.0, 0.1, 0.4]
    assert study.fractions.tolist() == [1.0, 0.5, 0.15]
    assert study.noise_confusion.shape == (2, 3, 2, 10, 10)
    assert study.volume_confusion.shape == (3, 2, 10, 10)
    # level 0 of every noise kind is the full-data run
    np.testing.assert_array_equal(study.noise_confusion[0, 0], study.volume_confusion[0])
    np.testing.assert_array_equal(study.noise_confusion[1, 0], study.volume_confusion[0])
    assert study.n_train == 600 and study.seconds > 0


def test_noise_and_less_data_both_cost_accuracy(study):
    summ = study.summary()
    uni = summ[summ["effect"] == "noise (uniform)"].set_index("share wrong or missing")
    vol = summ[summ["effect"] == "missing data"].set_index("share wrong or missing")
    assert uni.loc[0.4, "accuracy"] < uni.loc[0.0, "accuracy"] - 0.02
    assert vol.loc[0.85, "accuracy"] < vol.loc[0.0, "accuracy"] - 0.02
    assert uni.loc[0.0, "drop (points)"] == 0
    impact = study.impact()
    assert impact["effect"].tolist() == [
        "missing data",
        "noise (uniform)",
        "noise (class_conditional)",
    ]
    assert (impact["points lost per 10% share"] > 0).all()


def test_per_class_tables_and_confusions(study):
    per = study.per_class("volume")
    assert per.shape == (10, 4) and list(per.columns)[1:] == ["100% data", "50% data", "15% data"]
    sens = study.sensitivity()
    assert sorted(sens["class"].tolist()) == list(range(10))
    assert sens["noise index (uniform)"].is_monotonic_decreasing
    conf = study.mean_confusion("class_conditional", 2)
    np.testing.assert_allclose(conf.sum(axis=1), 1.0)
    with pytest.raises(ParameterError, match="'effect' parameter"):
        study.per_class("gaussian")


def test_study_errors():
    X, y = load_digits(return_X_y=True)
    est = LogisticRegression()
    with pytest.raises(InputError, match=r"noise_levels must lie in \[0, 1\)"):
        noise_volume_study(est, X, y, noise_levels=(0.5, 1.0))
    with pytest.raises(InputError, match=r"fractions must lie in \(0, 1\]"):
        noise_volume_study(est, X, y, fractions=(0.0,))
    with pytest.raises(ParameterError, match="'noise_kinds' parameter"):
        noise_volume_study(est, X, y, noise_kinds=("gaussian",))
    with pytest.raises(InputError, match="fewer than the 10 classes"):
        noise_volume_study(est, X, y, fractions=(0.001,))
    with pytest.raises(ParameterError, match="'repeats' parameter"):
        noise_volume_study(est, X, y, repeats=0)
