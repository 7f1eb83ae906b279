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


def test_error_rate_takes_the_points_own_noise_out_of_the_spread():
    # extrapolation errors that are exactly 1 point per log-unit, plus +-0.5 points of
    # noise on the predicted point: the bias is 0.01 per log-unit either way; the spread
    # holds the noise only when the noise is not given
    from labelwise.scaling.stack import error_rate

    x = np.array([0.125, 0.25, 0.5, 1.0])
    errors = np.full((4, 4), np.nan)
    flip = 1.0
    for j in range(3):
        for t in range(j + 1, 4):
            errors[j, t] = 0.01 * np.log(x[t] / x[j]) + 0.005 * flip
            flip = -flip
    bias, spread, tests = error_rate(errors, x)
    assert tests == 6 and bias == pytest.approx(0.01, abs=0.002) and spread > 0.002
    _, clean, _ = error_rate(errors, x, noise=np.full(4, 0.005))
    assert clean < 0.25 * spread


def test_every_family_is_tried_with_every_tail_weight_and_weighed_by_its_backtests():
    # a curve that is flat, then rises again (AG News past 1,000 labels): the members
    # fitted with the heavier tail weight follow the last sizes and weigh more than the
    # same families fitted to the whole curve
    sizes = np.array([40, 63, 100, 160, 250, 400, 630, 1000, 1600, 2500])
    early = 0.86 - 0.9 * sizes**-0.5
    late = 0.02 * np.clip(np.log(sizes / 700), 0, None)
    fit = StackedCurveFit(n_bootstrap=0).fit(sizes, early + late)
    bt = fit.backtest_.set_index("model")
    assert sorted(bt.index) == sorted(
        f"{f}@{tw:g}" for f in ("power_law", "power_law_0", "arctan") for tw in (1.0, 2.0)
    )
    assert fit.backtest_["weight"].sum() == pytest.approx(1.0)
    assert bt.loc[bt["tail_weight"] == 2.0, "weight"].sum() > 0.5
    single = StackedCurveFit(tail_weights=(1.0,), n_bootstrap=0).fit(sizes, early + late)
    assert list(single.backtest_["model"]) == ["power_law", "power_law_0", "arctan"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExtrapolationWarning)
        truth = 0.86 - 0.9 * 10_000**-0.5 + 0.02 * np.log(10_000 / 700)
        assert abs(fit.predict([10_000])[0] - truth) < abs(single.predict([10_000])[0] - truth)


def test_the_quadrature_interval_is_narrower_than_the_sum_and_still_holds_the_truth():
    # six noisy draws of a known power-law curve (3 seeds, like the benchmark's curves),
    # predicted at 4x the data: the truth inside the interval on at least 5 of 6, and the
    # quadrature interval narrower than the third round's added one on every draw
    truth = lambda n: 1 - (1.5 * n**-0.45 + 0.06)  # noqa: E731
    far = np.array([4 * SIZES[-1]])
    inside, narrower = 0, 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExtrapolationWarning)
        for seed in range(6):
            scores = truth(SIZES) + np.random.default_rng(seed).normal(0, 0.006, (3, SIZES.size))
            lo, hi = StackedCurveFit(n_bootstrap=10).fit(SIZES, scores).predict_interval(far)
            s_lo, s_hi = (
                StackedCurveFit(n_bootstrap=10, tail_weights=(1.0,), interval="sum", z=2.0)
                .fit(SIZES, scores)
                .predict_interval(far)
            )
            inside += int(lo[0] <= truth(far)[0] <= hi[0])
            narrower += int(hi[0] - lo[0] < s_hi[0] - s_lo[0])
    assert inside >= 5 and narrower == 6


def test_bad_stack_parameters_are_named():
    from labelwise.errors import ParameterError

    with pytest.raises(ParameterError, match="tail_weights"):
        StackedCurveFit(tail_weights=()).fit(SIZES, 1 - SIZES**-0.5)
    with pytest.raises(ParameterError, match="interval"):
        StackedCurveFit(interval="max").fit(SIZES, 1 - SIZES**-0.5)
