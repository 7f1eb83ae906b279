"""The engine's budget forecast: a power-law learning curve on its own rounds."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from labelwise.engine import DataEngine, EngineConfig, LabelArrayOracle
from labelwise.engine.forecast import forecast_accuracy

ROUNDS = np.array([20, 25, 30, 36, 43, 51, 60, 70, 82, 95])


def _curve(n):
    return 0.93 - 0.9 * n**-0.5


def _measured(seed, n_test=400, curve=_curve):
    rng = np.random.default_rng(seed)
    return rng.binomial(n_test, curve(ROUNDS)) / n_test


def test_interval_covers_the_true_accuracy_at_twice_the_items():
    hits = 0
    for seed in range(20):
        fc = forecast_accuracy(ROUNDS, _measured(seed), 190, n_test=400, random_state=seed,
                               n_bootstrap=100)  # fmt: skip
        assert fc.low <= fc.accuracy <= fc.high and fc.ratio == pytest.approx(2.0)
        hits += fc.low <= _curve(190) <= fc.high
    assert hits >= 16  # a 90% interval


def test_a_plateau_below_the_target_is_forecast_below_it():
    def flat(n):
        return 0.80 - 0.5 * n**-1.0

    fc = forecast_accuracy(ROUNDS, _measured(0, curve=flat), 190, n_test=400)
    assert fc.high < 0.87
    rising = forecast_accuracy(ROUNDS, _measured(0), 760, n_test=400)
    assert rising.high > _curve(95) + 0.02  # a curve still rising is not read as a ceiling


def test_engine_stops_a_budget_too_small_before_half_of_it_is_spent():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    X, y = X[order] / 16.0, y[order].astype(np.int64)
    cfg = EngineConfig(budget=150.0, target_accuracy=0.97, batch_size=10, growth=0.15,
                       random_state=0)  # fmt: skip
    res = DataEngine(LogisticRegression(max_iter=300), cfg).run(
        X[:1000], LabelArrayOracle(y[:1000]), X_test=X[1000:], y_test=y[1000:]
    )
    assert res.stop_reason == "budget cannot reach target", res.history
    assert res.money <= 75.0
    assert "interval" in res.message and "forecasts" in res.message
    last = res.history.iloc[-1]
    assert last["budget_accuracy_high"] < 0.97 <= 1.0
