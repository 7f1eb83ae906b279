"""StackedCurveFit: families weighed by backtests on the same curve."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from labelwise.scaling import ExtrapolationWarning, plan_budget
from labelwise.scaling.stack import StackedCurveFit, backtest_family

SIZES = np.array([50, 80, 130, 200, 320, 500, 800, 1300, 2000])


def test_backtest_of_the_true_family_is_unbiased():
    v = 1 - (2 * SIZES**-0.5 + 0.05)
    bias, spread, tests = backtest_family("power_law", SIZES / SIZES[-1], v)
    assert tests > 10 and abs(bias) < 0.002 and spread < 0.002
    # a log-linear curve: the saturating power law under-predicts it, by a clear bias
    log_v = 0.6 + 0.03 * np.log(SIZES)
    bias, _, _ = backtest_family("power_law", SIZES / SIZES[-1], log_v)
    assert bias > 0.002


def test_stack_extrapolates_a_known_curve_with_an_honest_interval():
    gen = np.random.default_rng(0)
    truth = lambda n: 1 - (2 * n**-0.5 + 0.05)  # noqa: E731
    scores = truth(SIZES) + gen.normal(0, 0.002, (5, SIZES.size))
    fit = StackedCurveFit(n_bootstrap=20).fit(SIZES, scores)
    assert fit.model_ == "stack"
    assert fit.backtest_["weight"].sum() == pytest.approx(1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExtrapolationWarning)
        pred = fit.predict([8000, 20000])
        lo, hi = fit.predict_interval([8000, 20000])
    assert np.abs(pred - truth(np.array([8000, 20000]))).max() < 0.005
    assert (lo <= truth(np.array([8000, 20000]))).all()
    assert (truth(np.array([8000, 20000])) <= hi).all()
    assert (hi - lo)[1] > (hi - lo)[0]  # wider further out
    req = fit.n_needed(0.93)
    assert req.verdict == "reachable" and req.n == pytest.approx(10_000, rel=0.3)
    plan = plan_budget(fit, target=0.93, cost_per_label=0.1, n_classes=3)
    assert plan.strategies["items needed"].dropna().apply(float.is_integer).all()
