"""A learning-curve fit that weighs the curve families by how well each extrapolated
the earlier part of the same curve.

:class:`CurveFit` keeps one family, chosen on a single held-out split (fit on two
thirds of the sizes, score the rest). On short curves two or three held-out points
decide little, and a saturating family that bends too early under-predicts every
time (AG News). :class:`StackedCurveFit` instead *backtests* every member (a family
fitted with one tail weight) at every cut of the curve: fitted on the sizes up to
``n_j``, it predicts every larger measured size ``n_t``; the error against the measured
score, as a function of the distance ``d = log(n_t / n_j)``, is fitted by a line
through the origin, ``e = r d``. Per member that gives

- ``bias`` (``r``): how many points per log-unit of extrapolation it under-predicts
  (positive) or over-predicts;
- ``spread``: the root-mean-square of the residual ``e - r d`` per log-unit, with the
  measured points' own noise taken out.

The members' predictions are averaged with weights ``1 / (r^2 + spread^2)`` (how well
each extrapolated, all told). The interval is ``z`` standard deviations on each side,
the deviation adding in quadrature the stack's own backtest error per log-unit (bias
included) times the distance, the members' disagreement, and a bootstrap over the
seeds: honest where the backtests were, and wider the further the prediction reaches.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.stats import norm

from labelwise._validation import check_number, check_option, check_random_state
from labelwise.errors import ParameterError
from labelwise.scaling.curves import LearningCurve
from labelwise.scaling.fit import CurveFit, _fit_family, curve_dips, isotonic
from labelwise.scaling.models import FAMILIES, CurveFamily, _power, _power_starts

__all__ = ["STACK_FAMILIES", "StackedCurveFit", "backtest_errors", "backtest_family", "error_rate"]

Array = NDArray[np.float64]

#: The families a stack may weigh: labelwise's four, and the power law without an error
#: floor (error = A n^-b), which never levels off. On sentence embeddings the floored
#: power law bends too early and under-predicts from a short curve; the floorless one
#: over-predicts; the backtests decide how much of each.
STACK_FAMILIES: dict[str, CurveFamily] = {
    **FAMILIES,
    "power_law_0": CurveFamily(
        "power_law_0",
        ("a", "b", "c"),
        _power,
        (0.0, 1e-3, 0.0),
        (10.0, 3.0, 1e-12),
        lambda x, v: [np.array([t[0], t[1], 0.0]) for t in _power_starts(x, v)],
        lambda t: 1.0,
    ),
}


def backtest_errors(name: str, x: Array, v: Array, tail_weight: float = 0.5) -> Array:
    """The errors of one family's extrapolations within a curve.

    Returns
    -------
    array, shape (k, k)
        ``[j, t]``: the measured score at size ``t`` minus the family's prediction of it
        when fitted on the sizes up to ``j`` (``t > j``); NaN where nothing was predicted
        (``t <= j``, or ``j`` too short a prefix for the family's parameters).
    """
    fam = STACK_FAMILIES[name]
    k = x.shape[0]
    out = np.full((k, k), np.nan)
    for j in range(len(fam.params), k - 1):
        theta, _ = _fit_family(fam, x[: j + 1] / x[j], v[: j + 1], tail_weight=tail_weight)
        with np.errstate(all="ignore"):
            pred = np.clip(fam.fn(x[j + 1 :] / x[j], theta), 0.0, 1.0)
        out[j, j + 1 :] = v[j + 1 :] - pred
    return out


def error_rate(errors: Array, x: Array, noise: Array | None = None) -> tuple[float, float, int]:
    """``(bias, spread, tests)`` per log-unit of extrapolation, from :func:`backtest_errors`.

    ``bias``: least squares through the origin of error on distance ``log(x_t / x_j)``;
    ``spread``: RMS of what the bias does not explain, per log-unit. With ``noise`` (the
    standard error of each measured score, shape (k,)), each error's noise variance is
    taken out of the spread (never below 0): an error against a noisy point is part
    extrapolation error, part that point's own noise, which a prediction of the full
    data does not share. ``tests`` is 0 (and bias = spread = NaN) when nothing was
    predicted.
    """
    j, t = np.nonzero(np.isfinite(errors))
    if j.size == 0:
        return math.nan, math.nan, 0
    e = errors[j, t]
    d = np.log(x[t] / x[j])
    nv = np.zeros_like(e) if noise is None else noise[t] ** 2
    bias = float((e * d).sum() / (d * d).sum())
    resid = max(float(((e - bias * d) ** 2 - nv).sum()), 0.0)
    return bias, float(np.sqrt(resid / (d * d).sum())), int(e.size)


def backtest_family(
    name: str, x: Array, v: Array, tail_weight: float = 0.5, noise: Array | None = None
) -> tuple[float, float, int]:
    """``(bias, spread, tests)`` of one family's extrapolations within a curve.

    Parameters
    ----------
    name : str
        A family of :data:`~labelwise.scaling.FAMILIES`.
    x : array, shape (k,)
        Increasing sizes (any scale).
    v : array, shape (k,)
        Scores at those sizes.
    tail_weight : float
        Residuals weighted by ``(x / x_max) ** tail_weight`` in every fit.
    noise : array, shape (k,), optional
        Standard error of each measured score (see :func:`error_rate`).

    Returns
    -------
    tuple
        ``bias``: points under-predicted per log-unit of extrapolation; ``spread``: RMS of
        what the bias does not explain, per log-unit; ``tests``: predictions made (0: too
        few points, and bias = spread = NaN).
    """
    return error_rate(backtest_errors(name, x, v, tail_weight), x, noise)


def _member(family: str, tail_weight: float, several: bool) -> str:
    """A stack member's name: the family, and its fit's tail weight when several are tried."""
    return f"{family}@{tail_weight:g}" if several else family


class StackedCurveFit(CurveFit):
    """Families weighted by backtests on the same curve.

    Same use as :class:`CurveFit` (``predict``, ``predict_interval``, ``n_needed``, and
    :func:`~labelwise.scaling.plan_budget` takes it); see the module docstring for the
    method.

    Parameters
    ----------
    families : tuple of str
        Names in :data:`STACK_FAMILIES` to weigh.
    tail_weights : tuple of float
        Each family is fitted once per tail weight (residuals weighted by
        ``(n / n_max) ** tail_weight``); every (family, tail weight) pair is a member of
        the stack, weighed by its own backtests. A heavier tail weight follows the last
        sizes (a curve that bends up again after a flat stretch, as AG News does past
        1,000 labels); a lighter one the whole curve (less thrown by the noise of the
        last points). The backtests choose between them curve by curve.
    correct_bias : float in [0, 1]
        Share of each member's backtest bias corrected (1: all, 0: the members are only
        re-weighed).
    z : float or None
        Standard deviations on each side of the prediction; None: the normal quantile
        of ``confidence`` (1.645 at 0.9).
    interval : {"quadrature", "sum"}
        How the interval's parts are combined: the backtest spread per log-unit of
        extrapolation (with the measured points' own noise taken out), the members'
        disagreement and the seed bootstrap. ``"quadrature"``: as independent errors,
        ``z`` times the root of the summed squares. ``"sum"``: ``z`` backtest spreads
        (noise left in) + the disagreement + the bootstrap's reach, added (the third
        round's interval, with ``z=2``: wider, 7.5 points on average from 25% of the
        data).
    n_bootstrap, confidence, horizon, warn_factor, random_state :
        As in :class:`CurveFit`.

    Attributes
    ----------
    backtest_ : DataFrame
        Per member: family, tail weight, bias, spread, tests, weight, and its asymptote.
    model_ : str
        ``"stack"``.
    """

    def __init__(
        self,
        *,
        families: tuple[str, ...] = ("power_law", "power_law_0", "arctan"),
        tail_weights: tuple[float, ...] = (1.0, 2.0),
        correct_bias: float = 0.0,
        z: float | None = None,
        interval: str = "quadrature",
        n_bootstrap: int = 50,
        confidence: float = 0.9,
        horizon: float = 1000.0,
        warn_factor: float = 10.0,
        random_state: Any = 0,
    ) -> None:
        super().__init__(
            "auto",
            n_bootstrap=n_bootstrap,
            confidence=confidence,
            horizon=horizon,
            warn_factor=warn_factor,
            random_state=random_state,
        )
        self.families = families
        self.tail_weights = tail_weights
        self.correct_bias = correct_bias
        self.z = z
        self.interval = interval

    def fit(
        self, sizes: LearningCurve | ArrayLike, scores: ArrayLike | None = None
    ) -> StackedCurveFit:
        """Backtest every member on the curve, weigh them, and fit each on all points.

        Returns
        -------
        self
        """
        name = type(self).__name__
        if self.z is not None:
            check_number(self.z, "z", name, low=0)
        check_number(self.correct_bias, "correct_bias", name, low=0, high=1)
        check_option(self.interval, "interval", name, ["quadrature", "sum"])
        unknown = [f for f in self.families if f not in STACK_FAMILIES]
        if unknown or not self.families:
            raise ParameterError(
                f"The 'families' parameter of {name} must name some of "
                f"{', '.join(STACK_FAMILIES)}. Got {self.families!r} instead."
            )
        if not self.tail_weights:
            raise ParameterError(
                f"The 'tail_weights' parameter of {name} must hold at least one number."
            )
        for tw in self.tail_weights:
            check_number(tw, "tail_weights", name, low=0)
        check_number(self.n_bootstrap, "n_bootstrap", name, kind=int, low=0)
        check_number(
            self.confidence, "confidence", name, low=0, high=1, low_open=True, high_open=True
        )
        check_number(self.horizon, "horizon", name, low=1)
        n, s = self._check_points(sizes, scores)
        self._set_test_size(sizes)
        rng = check_random_state(self.random_state)
        self.n_max_ = int(n.max())
        self.sizes_, self.scores_ = n, s
        self.dips_ = curve_dips(n, s)
        self.monotone_ = bool(self.dips_.empty)
        self.dip_ = float(self.dips_["drop"].max()) if not self.monotone_ else 0.0
        x = n / self.n_max_
        v = isotonic(s.mean(axis=0))
        # the noise of each measured mean (seed spread / sqrt(seeds)): taken out of the
        # backtest spreads, since the prediction at the full data does not carry it
        noise = (
            s.std(axis=0, ddof=1) / math.sqrt(s.shape[0])
            if s.shape[0] > 1 and self.interval == "quadrature"
            else None
        )
        several = len(self.tail_weights) > 1
        self.members_ = {
            _member(f, float(tw), several): (f, float(tw))
            for f in self.families
            for tw in self.tail_weights
        }
        rows, errors = [], {}
        for m, (f, tw) in self.members_.items():
            errors[m] = backtest_errors(f, x, v, tw)
            bias, spread, tests = error_rate(errors[m], x, noise)
            rows.append(
                {
                    "model": m,
                    "family": f,
                    "tail_weight": tw,
                    "bias": bias,
                    "spread": spread,
                    "tests": tests,
                }
            )
        bt = pd.DataFrame(rows)
        usable = bt["tests"] > 0
        if not usable.any():  # too short to backtest: the first member, no correction
            bt.loc[bt.index[0], ["bias", "spread"]] = 0.0
            usable = bt["model"] == bt["model"].iloc[0]
        bias = pd.Series(np.where(usable, float(self.correct_bias) * bt["bias"].fillna(0.0), 0.0))
        quality = bt["bias"].fillna(0.0) ** 2 + bt["spread"].fillna(0.0) ** 2
        weight = np.where(usable, 1.0 / (quality + 1e-6), 0.0)
        bt["weight"] = weight / weight.sum()
        bt["correction"] = bias
        self.candidates_ = {
            m: _fit_family(STACK_FAMILIES[f], x, v, tail_weight=tw)[0]
            for m, (f, tw) in self.members_.items()
        }
        self.backtest_ = bt
        self.model_ = "stack"
        self.theta_ = np.zeros(1)
        if self.interval == "sum":
            self.spread_ = float((bt["weight"] * bt["spread"].fillna(0.0) ** 2).sum() ** 0.5)
        else:
            # the stack's own backtests: the weighted members' errors at every cut, bias
            # included (it is not corrected, so the interval must hold it)
            live = [(m, w) for m, w in zip(bt["model"], bt["weight"], strict=True) if w > 0]
            combined = sum(w * errors[m] for m, w in live)
            self.stack_errors_ = np.asarray(combined)
            s_bias, s_spread, s_tests = error_rate(np.asarray(combined), x, noise)
            self.spread_ = math.hypot(s_bias, s_spread) if s_tests else 0.0
        # CurveFit's range-of-estimates machinery reads the held-out errors from here
        self.selection_ = pd.DataFrame(
            {"model": bt["model"], "holdout_rmse": np.where(usable, np.sqrt(quality), np.inf)}
        )
        self.holdout_error_ = math.nan
        self.holdout_ratio_ = math.nan
        self.bootstrap_ = self._stack_bootstrap(x, s, rng)
        self.params_ = {
            f"weight[{m}]": float(w) for m, w in zip(bt["model"], bt["weight"], strict=True)
        }
        bt["asymptote"] = [float(self._family(m, np.array([1e9]))[0]) for m in bt["model"]]
        return self

    def _stack_bootstrap(
        self, x: Array, s: Array, rng: np.random.Generator
    ) -> list[dict[str, Array]]:
        """Per bootstrap draw (seeds resampled at every size), each member's parameters."""
        b, (n_seeds, k) = int(self.n_bootstrap), s.shape
        if b == 0 or n_seeds < 2:
            return []
        pick = rng.integers(0, n_seeds, size=(b, n_seeds, k))
        curves = np.take_along_axis(s[None, :, :].repeat(b, 0), pick, axis=1).mean(axis=1)
        live = self.backtest_[self.backtest_["weight"] > 0]["model"].tolist()
        return [
            {
                m: _fit_family(
                    STACK_FAMILIES[self.members_[m][0]],
                    x,
                    isotonic(c),
                    starts=[self.candidates_[m]],
                    tail_weight=self.members_[m][1],
                )[0]
                for m in live
            }
            for c in curves
        ]

    def _family(self, name: str, n: Array, theta: Array | None = None) -> Array:
        """One member's (bias-corrected) prediction at ``n``."""
        row = self.backtest_[self.backtest_["model"] == name].iloc[0]
        t = self.candidates_[name] if theta is None else theta
        with np.errstate(all="ignore"):
            raw = STACK_FAMILIES[self.members_[name][0]].fn(n / self.n_max_, t)
        reach = np.log(np.maximum(n / self.n_max_, 1.0))
        return np.clip(raw + float(row["correction"]) * reach, 0.0, 1.0)

    def _family_values(self, name: str, n: Array) -> Array:
        return self._family(name, np.asarray(n, dtype=np.float64))

    def _stack(self, n: Array, thetas: dict[str, Array] | None = None) -> Array:
        out = np.zeros_like(n, dtype=np.float64)
        for name, w in zip(self.backtest_["model"], self.backtest_["weight"], strict=True):
            if w > 0:
                out += w * self._family(name, n, None if thetas is None else thetas[name])
        return out

    def _curve(self, theta: Array, n: Array) -> Array:
        return np.clip(self._stack(np.asarray(n, dtype=np.float64)), 0.0, 1.0)

    @property
    def asymptote_(self) -> float:
        """The stacked prediction at ``horizon`` times the data (a family that never
        levels off has no asymptote, so the stack's reach is taken there)."""
        return float(self._stack(np.array([self.horizon * self.n_max_]))[0])

    def _bands(self, n: Array) -> tuple[Array, Array]:
        n = np.asarray(n, dtype=np.float64)
        point = self._stack(n)
        reach = np.log(np.maximum(n / self.n_max_, 1.0))
        dip = np.where(n > self.n_max_, self.dip_, 0.0)
        # the members' disagreement (weighted standard deviation)
        fams = [
            (w, self._family(m, n))
            for m, w in zip(self.backtest_["model"], self.backtest_["weight"], strict=True)
            if w > 0
        ]
        disagree = np.sqrt(sum(w * (p - point) ** 2 for w, p in fams))
        # below the smallest measured size the members extrapolate backwards and part
        # ways; nobody plans there, and an interval that wide would say a target is
        # reached with two labels
        inside = n >= self.sizes_[0]
        # within the measured sizes the data decide, not the members: a member fitted
        # with a heavy tail weight may miss the first sizes by points, and its
        # disagreement there would say a target is reached with a few dozen labels
        disagree = np.where(inside if self.interval == "sum" else n >= self.n_max_, disagree, 0.0)
        boot_lo = boot_hi = np.zeros_like(point)
        if self.bootstrap_:
            alpha = (1 - self.confidence) / 2
            boots = np.stack([self._stack(n, t) for t in self.bootstrap_])
            b_lo, b_hi = np.quantile(boots, [alpha, 1 - alpha], axis=0)
            boot_lo = np.where(inside, (point - b_lo).clip(0), 0.0)
            boot_hi = np.where(inside, (b_hi - point).clip(0), 0.0)
        spread = self.spread_ * reach
        zc = float(norm.ppf(0.5 + self.confidence / 2))
        z = zc if self.z is None else float(self.z)
        if self.interval == "sum":
            lo = point - (z * spread + disagree + boot_lo + dip)
            hi = point + (z * spread + disagree + boot_hi + dip)
        else:
            # independent errors add in quadrature; the bootstrap's quantiles are
            # turned into standard deviations first
            lo = point - z * np.sqrt(spread**2 + disagree**2 + (boot_lo / zc) ** 2) - dip
            hi = point + z * np.sqrt(spread**2 + disagree**2 + (boot_hi / zc) ** 2) + dip
        return np.clip(lo, 0, 1), np.clip(hi, 0, 1)

    def _named_params(self, theta: Array) -> dict[str, float]:
        return dict(self.params_)
