"""A learning-curve fit that weighs the curve families by how well each extrapolated
the earlier part of the same curve.

:class:`CurveFit` keeps one family, chosen on a single held-out split (fit on two
thirds of the sizes, score the rest). On short curves two or three held-out points
decide little, and a saturating family that bends too early under-predicts every
time (AG News). :class:`StackedCurveFit` instead *backtests* every family at every
cut of the curve: fitted on the sizes up to ``n_j``, it predicts every larger measured
size ``n_t``; the error against the measured score, as a function of the distance
``d = log(n_t / n_j)``, is fitted by a line through the origin, ``e = r d``. Per family
that gives

- ``bias`` (``r``): how many points per log-unit of extrapolation the family
  under-predicts (positive) or over-predicts; the prediction is corrected by it;
- ``spread``: the root-mean-square of the residual ``e - r d`` per log-unit.

The families' corrected predictions are averaged with weights ``1 / (r^2 + spread^2)``
(how well each extrapolated, all told). The interval is the prediction +- ``z`` times
the weighted spread times the distance, widened by the families' disagreement and by
a bootstrap over the seeds: honest where the backtests were, and wider the further
the prediction reaches.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from labelwise._validation import check_number, check_random_state
from labelwise.errors import ParameterError
from labelwise.scaling.curves import LearningCurve
from labelwise.scaling.fit import CurveFit, _fit_family, curve_dips, isotonic
from labelwise.scaling.models import FAMILIES, CurveFamily, _power, _power_starts

__all__ = ["STACK_FAMILIES", "StackedCurveFit", "backtest_family"]

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


def backtest_family(
    name: str, x: Array, v: Array, tail_weight: float = 0.5
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

    Returns
    -------
    tuple
        ``bias``: points under-predicted per log-unit of extrapolation (least squares
        through the origin of error on distance); ``spread``: RMS of what the bias does
        not explain, per log-unit; ``tests``: predictions made (0: too few points, and
        bias = spread = NaN).
    """
    fam = STACK_FAMILIES[name]
    need = len(fam.params) + 1
    errs, dists = [], []
    for j in range(need - 1, x.shape[0] - 1):
        theta, _ = _fit_family(fam, x[: j + 1] / x[j], v[: j + 1], tail_weight=tail_weight)
        with np.errstate(all="ignore"):
            pred = np.clip(fam.fn(x[j + 1 :] / x[j], theta), 0.0, 1.0)
        errs.append(v[j + 1 :] - pred)
        dists.append(np.log(x[j + 1 :] / x[j]))
    if not errs:
        return math.nan, math.nan, 0
    e, d = np.concatenate(errs), np.concatenate(dists)
    ok = np.isfinite(e)
    e, d = e[ok], d[ok]
    if e.size == 0:
        return math.nan, math.nan, 0
    bias = float((e * d).sum() / (d * d).sum())
    spread = float(np.sqrt(((e - bias * d) ** 2).sum() / (d * d).sum()))
    return bias, spread, int(e.size)


class StackedCurveFit(CurveFit):
    """Families weighted and bias-corrected by backtests on the same curve.

    Same use as :class:`CurveFit` (``predict``, ``predict_interval``, ``n_needed``, and
    :func:`~labelwise.scaling.plan_budget` takes it); see the module docstring for the
    method.

    Parameters
    ----------
    families : tuple of str
        Names in :data:`STACK_FAMILIES` to weigh.
    tail_weight : float
        Residuals are weighted by ``(n / n_max) ** tail_weight`` in every fit.
    correct_bias : float in [0, 1]
        Share of each family's backtest bias corrected (1: all, 0: the families are only
        re-weighed).
    z : float
        Spreads (per log-unit of extrapolation) on each side of the prediction.
    n_bootstrap, confidence, horizon, warn_factor, random_state :
        As in :class:`CurveFit`.

    Attributes
    ----------
    backtest_ : DataFrame
        Per family: bias, spread, tests, weight, and its corrected asymptote.
    model_ : str
        ``"stack"``.
    """

    def __init__(
        self,
        *,
        families: tuple[str, ...] = ("power_law", "power_law_0", "arctan"),
        tail_weight: float = 1.0,
        correct_bias: float = 0.0,
        z: float = 2.0,
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
        self.tail_weight = tail_weight
        self.correct_bias = correct_bias
        self.z = z

    def fit(
        self, sizes: LearningCurve | ArrayLike, scores: ArrayLike | None = None
    ) -> StackedCurveFit:
        """Backtest every family on the curve, weigh them, and fit each on all points.

        Returns
        -------
        self
        """
        name = type(self).__name__
        check_number(self.z, "z", name, low=0)
        check_number(self.correct_bias, "correct_bias", name, low=0, high=1)
        check_number(self.tail_weight, "tail_weight", name, low=0)
        unknown = [f for f in self.families if f not in STACK_FAMILIES]
        if unknown or not self.families:
            raise ParameterError(
                f"The 'families' parameter of {name} must name some of "
                f"{', '.join(STACK_FAMILIES)}. Got {self.families!r} instead."
            )
        check_number(self.n_bootstrap, "n_bootstrap", name, kind=int, low=0)
        check_number(
            self.confidence, "confidence", name, low=0, high=1, low_open=True, high_open=True
        )
        check_number(self.horizon, "horizon", name, low=1)
        n, s = self._check_points(sizes, scores)
        rng = check_random_state(self.random_state)
        self.n_max_ = int(n.max())
        self.sizes_, self.scores_ = n, s
        self.dips_ = curve_dips(n, s)
        self.monotone_ = bool(self.dips_.empty)
        self.dip_ = float(self.dips_["drop"].max()) if not self.monotone_ else 0.0
        x = n / self.n_max_
        v = isotonic(s.mean(axis=0))
        rows = []
        for f in self.families:
            bias, spread, tests = backtest_family(f, x, v, self.tail_weight)
            rows.append({"model": f, "bias": bias, "spread": spread, "tests": tests})
        bt = pd.DataFrame(rows)
        usable = bt["tests"] > 0
        if not usable.any():  # too short to backtest: plain power law, no correction
            bt.loc[bt.index[0], ["bias", "spread"]] = 0.0
            usable = bt["model"] == bt["model"].iloc[0]
        bias = pd.Series(np.where(usable, float(self.correct_bias) * bt["bias"].fillna(0.0), 0.0))
        quality = bt["bias"].fillna(0.0) ** 2 + bt["spread"].fillna(0.0) ** 2
        weight = np.where(usable, 1.0 / (quality + 1e-6), 0.0)
        bt["weight"] = weight / weight.sum()
        bt["correction"] = bias
        self.candidates_ = {
            f: _fit_family(STACK_FAMILIES[f], x, v, tail_weight=self.tail_weight)[0]
            for f in self.families
        }
        self.backtest_ = bt
        self.model_ = "stack"
        self.theta_ = np.zeros(1)
        self.spread_ = float((bt["weight"] * bt["spread"].fillna(0.0) ** 2).sum() ** 0.5)
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
        """Per bootstrap draw (seeds resampled at every size), each family's parameters."""
        b, (n_seeds, k) = int(self.n_bootstrap), s.shape
        if b == 0 or n_seeds < 2:
            return []
        pick = rng.integers(0, n_seeds, size=(b, n_seeds, k))
        curves = np.take_along_axis(s[None, :, :].repeat(b, 0), pick, axis=1).mean(axis=1)
        live = self.backtest_[self.backtest_["weight"] > 0]["model"].tolist()
        return [
            {
                f: _fit_family(
                    STACK_FAMILIES[f],
                    x,
                    isotonic(c),
                    starts=[self.candidates_[f]],
                    tail_weight=self.tail_weight,
                )[0]
                for f in live
            }
            for c in curves
        ]

    def _family(self, name: str, n: Array, theta: Array | None = None) -> Array:
        """One family's bias-corrected prediction at ``n``."""
        row = self.backtest_[self.backtest_["model"] == name].iloc[0]
        t = self.candidates_[name] if theta is None else theta
        with np.errstate(all="ignore"):
            raw = STACK_FAMILIES[name].fn(n / self.n_max_, t)
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
        half = self.z * self.spread_ * reach + np.where(n > self.n_max_, self.dip_, 0.0)
        # the families' disagreement (weighted standard deviation)
        fams = [
            (w, self._family(m, n))
            for m, w in zip(self.backtest_["model"], self.backtest_["weight"], strict=True)
            if w > 0
        ]
        disagree = np.sqrt(sum(w * (p - point) ** 2 for w, p in fams))
        # below the smallest measured size the families extrapolate backwards and part
        # ways; nobody plans there, and an interval that wide would say a target is
        # reached with two labels
        inside = n >= self.sizes_[0]
        half = half + np.where(inside, disagree, 0.0)
        lo, hi = point - half, point + half
        if self.bootstrap_:
            alpha = (1 - self.confidence) / 2
            boots = np.stack([self._stack(n, t) for t in self.bootstrap_])
            b_lo, b_hi = np.quantile(boots, [alpha, 1 - alpha], axis=0)
            lo = lo - np.where(inside, (point - b_lo).clip(0), 0.0)
            hi = hi + np.where(inside, (b_hi - point).clip(0), 0.0)
        return np.clip(lo, 0, 1), np.clip(hi, 0, 1)

    def _named_params(self, theta: Array) -> dict[str, float]:
        return dict(self.params_)
