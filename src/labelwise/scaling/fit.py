"""Fit a learning curve, extrapolate it, and estimate the labels a target needs.

:class:`CurveFit` fits ``error(n) = A n^-b + C`` (or another family of
:mod:`labelwise.scaling.models`) by bounded non-linear least squares
(``scipy.optimize.least_squares``), bootstraps the repeats for an interval, and
inverts the curve for the labels a target score takes.

Two kinds of uncertainty are in the interval. The bootstrap (resampling the seeds
at every size) gives the sampling noise of the curve. It says nothing about the
family being wrong, which is what makes data estimates miss by multiples (Mahmood
et al., CVPR 2022). So the fit also extrapolates from the first two thirds of
the points to the last third; the largest error seen there is added as a margin
that grows with the logarithm of how far the prediction reaches beyond the data
(zero inside the data, the held-out error at the held-out distance).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import least_squares
from scipy.stats import norm
from sklearn.base import BaseEstimator

from labelwise._validation import (
    check_is_fitted,
    check_number,
    check_option,
    check_random_state,
)
from labelwise.errors import InputError
from labelwise.scaling.curves import LearningCurve
from labelwise.scaling.models import FAMILIES, CurveFamily

__all__ = [
    "CurveFit",
    "DataRequirement",
    "ExtrapolationWarning",
    "class_gains",
    "curve_dips",
    "isotonic",
]

Array = NDArray[np.float64]
#: Points of the log-spaced grid (1/1000 to ``horizon`` times the data) the inversion scans:
#: about 1% apart at the default horizon.
_GRID_POINTS = 1500


#: A target that not even the optimistic side of the interval reaches within this many
#: times the data is unreachable (beyond, every family's guess is as good as another).
_OPTIMISTIC_REACH = 100.0


class ExtrapolationWarning(UserWarning):
    """A prediction reaches far beyond the sizes the curve was fitted on."""


@dataclass(frozen=True)
class DataRequirement:
    """How many labels a target score takes, by the fitted curve.

    Attributes
    ----------
    target : float
        The score asked for.
    reachable : bool
        False when the curve levels off below the target (``reason`` says so) or
        needs more than ``horizon`` times the data; ``n`` is then None, not a
        meaningless huge number.
    n : float or None
        Labels needed by the chosen family's point fit.
    low, high : float
        The interval; ``high`` is ``inf`` when the pessimistic curve never gets there.
    model : str
        The family used.
    asymptote : float
        The score the chosen curve levels off at.
    by_model : dict
        The n each plausible family predicts (None where it is unreachable): the range
        to plan with, after Mahmood et al.
    rounds : tuple of int
        Suggested cumulative label counts to collect, re-fitting after each round.
    reason : str
        A sentence for people.
    verdict : {"reached", "reachable", "uncertain", "unreachable"}
        ``reached``: the measured curve already scores the target beyond its noise
        (:meth:`CurveFit.measured_noise`). ``reachable``: the point fit gets there (``n``),
        or the measured mean scores it but within its noise. ``uncertain``: the point fit
        levels off short of the target but the interval's optimistic side reaches it (from
        ``low`` labels), so nothing shows it to be out of reach. ``unreachable``: not even
        the interval's optimistic side reaches it within the horizon: the data say so.
    """

    target: float
    reachable: bool
    n: float | None
    low: float
    high: float
    model: str
    asymptote: float
    n_current: int
    by_model: dict[str, float | None] = field(default_factory=dict)
    rounds: tuple[int, ...] = ()
    reason: str = ""
    verdict: str = "reachable"

    @property
    def range(self) -> tuple[float, float] | None:
        """(min, max) of the per-family estimates (max ``inf`` when a plausible family
        never gets there), or None when none does."""
        vals = [math.inf if v is None else v for v in self.by_model.values()]
        return (min(vals), max(vals)) if vals and min(vals) < math.inf else None


def _fit_family(
    fam: CurveFamily,
    x: Array,
    v: Array,
    starts: list[Array] | None = None,
    tail_weight: float = 0.5,
) -> tuple[Array, float]:
    """Weighted least-squares parameters and cost of one family on (x, v); best of the
    starts. The spread of a score over training draws shrinks roughly like 1/sqrt(n), so
    residuals are weighted by sqrt(n): the large sizes, which decide the extrapolation,
    are not drowned by the noisy small ones."""
    lo, hi = np.asarray(fam.lower), np.asarray(fam.upper)
    w = (x / x.max()) ** tail_weight
    best, best_cost = None, np.inf
    for s in starts if starts is not None else fam.starts(x, v):
        s0 = np.clip(s, lo + 1e-9 * (hi - lo), hi - 1e-9 * (hi - lo))
        with np.errstate(all="ignore"):
            res = least_squares(
                lambda t: (fam.fn(x, t) - v) * w, s0, bounds=(lo, hi), method="trf", max_nfev=400
            )
        if np.isfinite(res.cost) and res.cost < best_cost:
            best, best_cost = res.x, float(res.cost)
    if best is None:
        raise InputError(f"the {fam.name} curve could not be fitted to these points.")
    return best, best_cost


class CurveFit(BaseEstimator):  # type: ignore[misc]
    """A fitted learning curve with intervals, extrapolation and data requirements.

    Parameters
    ----------
    model : {"auto", "power_law", "arctan", "logarithmic", "algebraic_root"}
        ``"auto"`` fits each family to the first two thirds of the sizes and scores
        its prediction of the rest (on your own curve); it keeps the power law unless
        another bounded family's held-out error is under half of the power law's (the
        never-saturating logarithmic family only widens the range of estimates).
    n_bootstrap : int
        Bootstrap refits for the interval (0: no interval from sampling noise).
    confidence : float
        Two-sided level of the intervals.
    horizon : float
        A requirement beyond ``horizon`` times the fitted data is reported as
        unreachable: no curve fitted on your data says anything that far out.
    warn_factor : float
        ``predict`` warns (:class:`ExtrapolationWarning`) beyond this multiple of the data.
    random_state : int, Generator or None

    Attributes
    ----------
    model_ : str
        The family used.
    params_ : dict
        Its parameters; for the power law ``A``, ``b``, ``C`` of error(n) = A n^-b + C.
    selection_ : DataFrame
        Per family: held-out RMSE and max error of the extrapolation test (auto only).
    holdout_error_ : float
        The chosen family's largest held-out extrapolation error (NaN if untested).
    n_max_ : int
        The largest fitted size.
    monotone_ : bool
        False when a larger size scored below a smaller one beyond the seed noise.
    dips_ : DataFrame
        Those sizes (:func:`curve_dips`); the fit uses the curve's rising envelope
        (:func:`isotonic`) and widens the interval by the deepest dip, so a dip is never
        read as a ceiling.

    Examples
    --------
    >>> import numpy as np
    >>> n = np.array([100, 200, 400, 800, 1600])
    >>> acc = 1 - (2.0 * n ** -0.5 + 0.05)
    >>> fit = CurveFit(model="power_law", n_bootstrap=0).fit(n, acc)
    >>> round(fit.params_["b"], 2), round(fit.params_["C"], 3)
    (0.5, 0.05)
    """

    def __init__(
        self,
        model: str = "auto",
        *,
        n_bootstrap: int = 200,
        confidence: float = 0.9,
        horizon: float = 1000.0,
        warn_factor: float = 10.0,
        random_state: Any = 0,
    ) -> None:
        self.model = model
        self.n_bootstrap = n_bootstrap
        self.confidence = confidence
        self.horizon = horizon
        self.warn_factor = warn_factor
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting
    def fit(self, sizes: LearningCurve | ArrayLike, scores: ArrayLike | None = None) -> CurveFit:
        """Fit the curve.

        Parameters
        ----------
        sizes : LearningCurve or array of int, shape (n_sizes,)
        scores : array, shape (n_sizes,) or (n_seeds, n_sizes)
            Scores in [0, 1], higher better (omit with a LearningCurve).

        Returns
        -------
        self
        """
        name = type(self).__name__
        check_option(self.model, "model", name, ["auto", *FAMILIES])
        check_number(self.n_bootstrap, "n_bootstrap", name, kind=int, low=0)
        check_number(
            self.confidence, "confidence", name, low=0, high=1, low_open=True, high_open=True
        )
        check_number(self.horizon, "horizon", name, low=1)
        check_number(self.warn_factor, "warn_factor", name, low=1)
        n, s = self._check_points(sizes, scores)
        self._set_test_size(sizes)
        rng = check_random_state(self.random_state)
        self.n_max_ = int(n.max())
        self.sizes_ = n
        self.scores_ = s
        x = n / self.n_max_
        self.dips_ = curve_dips(n, s)
        self.monotone_ = bool(self.dips_.empty)
        self.dip_ = float(self.dips_["drop"].max()) if not self.monotone_ else 0.0
        # a learning curve rises with data in expectation; a dip is noise or the model's
        # own instability, never a ceiling: fit the rising envelope (pool-adjacent-violators)
        v = isotonic(s.mean(axis=0))
        self.selection_ = self._select(x, v)
        self.model_ = self.model if self.model != "auto" else self._choose(self.selection_)
        self.candidates_ = {f: _fit_family(FAMILIES[f], x, v)[0] for f in self._families()}
        theta = self.candidates_[self.model_]
        self.theta_ = theta
        row = self.selection_[self.selection_["model"] == self.model_]
        self.holdout_error_ = float(row["holdout_max_error"].iloc[0]) if len(row) else math.nan
        self.holdout_ratio_ = float(row["holdout_ratio"].iloc[0]) if len(row) else math.nan
        self.bootstrap_theta_ = self._bootstrap(x, s, theta, rng)
        self.params_ = self._named_params(theta)
        return self

    @staticmethod
    def _choose(selection: pd.DataFrame) -> str:
        """The power law unless another family extrapolated the held-out sizes at least
        twice as well: two or three held-out points are weak evidence, and the power
        law is the family that is right most often (Hestness et al. 2017; Mahmood et
        al. 2022 found no family better everywhere). The logarithmic family, which never
        levels off, is only ever part of the range."""
        # the logarithmic curve never levels off, so it cannot tell a target is out of
        # reach: it widens the range of estimates but is never the point estimate
        bounded = selection[selection["model"] != "logarithmic"]
        best = bounded.sort_values("holdout_rmse").iloc[0]
        power = selection[selection["model"] == "power_law"]["holdout_rmse"]
        if power.empty or not np.isfinite(power.iloc[0]):
            return str(best["model"])
        return str(best["model"]) if best["holdout_rmse"] < 0.5 * power.iloc[0] else "power_law"

    def _families(self) -> list[str]:
        return list(FAMILIES) if self.model == "auto" else [self.model]

    def _set_test_size(self, sizes: Any) -> None:
        """``n_test_``: the test items scored at the largest size, over all seeds (0 when
        unknown: scores given as arrays, or a metric other than accuracy)."""
        self.n_test_ = 0
        if isinstance(sizes, LearningCurve) and sizes.metric == "accuracy":
            last = int(np.argmax(sizes.sizes))
            self.n_test_ = int(np.asarray(sizes.confusion)[:, last].sum())

    @staticmethod
    def _check_points(sizes: Any, scores: Any) -> tuple[NDArray[np.int64], Array]:
        if isinstance(sizes, LearningCurve):
            n, s = sizes.sizes.astype(np.float64), np.atleast_2d(sizes.scores)
        else:
            if scores is None:
                raise InputError("scores is required when sizes is not a LearningCurve.")
            n = np.asarray(sizes, dtype=np.float64)
            s = np.atleast_2d(np.asarray(scores, dtype=np.float64))
        if n.ndim != 1 or s.shape[1] != n.shape[0]:
            raise InputError(
                f"sizes has shape {n.shape} but scores has shape {s.shape}; scores must be "
                "(n_sizes,) or (n_seeds, n_sizes)."
            )
        if n.shape[0] < 3:
            raise InputError(f"a curve needs at least 3 sizes to fit; got {n.shape[0]}.")
        if (n <= 0).any() or not np.isfinite(n).all():
            bad = n[~(np.isfinite(n) & (n > 0))][0]
            raise InputError(f"sizes must be positive; got {bad!r}.")
        if not np.isfinite(s).all() or (s < 0).any() or (s > 1).any():
            raise InputError("scores must lie in [0, 1] (higher is better).")
        if np.unique(n).shape[0] != n.shape[0]:
            raise InputError("sizes must be distinct.")
        order = np.argsort(n)
        return n[order].astype(np.int64), s[:, order]

    def _select(self, x: Array, v: Array) -> pd.DataFrame:
        """Fit each family on the first two thirds of the sizes, score on the rest."""
        k = x.shape[0]
        n_test = max(1, k // 3)
        rows = []
        for f in self._families():
            fam = FAMILIES[f]
            n_fit = k - n_test
            if n_fit < len(fam.params) + 1:
                rows.append(
                    {
                        "model": f,
                        "holdout_rmse": math.inf,
                        "holdout_max_error": math.nan,
                        "holdout_ratio": math.nan,
                    }
                )
                continue
            xf, vf = x[:n_fit] / x[n_fit - 1], v[:n_fit]
            theta, _ = _fit_family(fam, xf, vf)
            pred = np.clip(fam.fn(x[n_fit:] / x[n_fit - 1], theta), 0, 1)
            err = np.abs(pred - v[n_fit:])
            rows.append(
                {
                    "model": f,
                    "holdout_rmse": float(np.sqrt((err**2).mean())),
                    "holdout_max_error": float(err.max()),
                    "holdout_ratio": float(x[-1] / x[n_fit - 1]),
                }
            )
        return pd.DataFrame(rows)

    def _bootstrap(self, x: Array, s: Array, theta: Array, rng: np.random.Generator) -> Array:
        """Refit on resampled curves: the seeds resampled at every size (or, with one
        seed, the residuals resampled)."""
        fam = FAMILIES[self.model_]
        b = int(self.n_bootstrap)
        if b == 0:
            return theta[None, :]
        out = np.empty((b, theta.shape[0]))
        n_seeds, k = s.shape
        if n_seeds > 1:
            pick = rng.integers(0, n_seeds, size=(b, n_seeds, k))
            curves = np.take_along_axis(s[None, :, :].repeat(b, 0), pick, axis=1).mean(axis=1)
        else:
            resid = s[0] - fam.fn(x, theta)
            curves = fam.fn(x, theta)[None, :] + rng.choice(resid, size=(b, k))
        for i in range(b):
            out[i], _ = _fit_family(fam, x, isotonic(curves[i]), starts=[theta])
        return out

    def _named_params(self, theta: Array) -> dict[str, float]:
        if self.model_ == "power_law":
            a, b, c = (float(t) for t in theta)
            return {"A": a * self.n_max_**b, "b": b, "C": c}
        return dict(zip(FAMILIES[self.model_].params, (float(t) for t in theta), strict=True))

    # -------------------------------------------------------------- prediction
    @property
    def asymptote_(self) -> float:
        """The score the fitted curve levels off at (1.0 for the logarithmic family)."""
        check_is_fitted(self, "theta_")
        return FAMILIES[self.model_].asymptote(self.theta_)

    def _curve(self, theta: Array, n: Array) -> Array:
        with np.errstate(all="ignore"):
            return np.clip(FAMILIES[self.model_].fn(n / self.n_max_, theta), 0.0, 1.0)

    def _margin(self, n: Array) -> Array:
        """The model-error margin at ``n``: zero inside the data, the held-out error at
        the held-out extrapolation distance, growing with log(n / n_max)."""
        # a curve that dipped by d inside the data can be off by d beyond it as well
        dip = np.where(n > self.n_max_, self.dip_, 0.0)
        if not np.isfinite(self.holdout_error_) or not self.holdout_ratio_ > 1:
            return dip
        reach = np.log(np.maximum(n / self.n_max_, 1.0)) / np.log(self.holdout_ratio_)
        return self.holdout_error_ * reach + dip

    def predict(self, n: ArrayLike) -> Array:
        """The fitted score at ``n`` labels (clipped to [0, 1]).

        Warns with :class:`ExtrapolationWarning` beyond ``warn_factor`` times the data.
        """
        check_is_fitted(self, "theta_")
        arr = np.asarray(n, dtype=np.float64)
        if (arr <= 0).any():
            raise InputError("n must be positive.")
        far = float(arr.max(initial=0)) / self.n_max_
        if far > self.warn_factor:
            warnings.warn(
                f"predicting at {far:.0f}x the largest fitted size ({self.n_max_}); the "
                "curve family matters more than the data there (see selection_).",
                ExtrapolationWarning,
                stacklevel=2,
            )
        return self._curve(self.theta_, arr)

    def _bands(self, n: Array) -> tuple[Array, Array]:
        alpha = (1 - self.confidence) / 2
        boots = np.stack([self._curve(t, n) for t in self.bootstrap_theta_])
        lo, hi = np.quantile(boots, [alpha, 1 - alpha], axis=0)
        m = self._margin(n)
        lo, hi = lo - m, hi + m
        # model uncertainty: every family that extrapolated the held-out sizes about as
        # well as the chosen one is inside the interval (Mahmood et al.'s lesson)
        for f in self._plausible_families():
            pred = self._family_values(f, n)
            lo, hi = np.minimum(lo, pred), np.maximum(hi, pred)
        return np.clip(lo, 0, 1), np.clip(hi, 0, 1)

    def _family_values(self, name: str, n: Array) -> Array:
        """One fitted family's score at ``n`` (clipped to [0, 1])."""
        with np.errstate(all="ignore"):
            return np.clip(FAMILIES[name].fn(n / self.n_max_, self.candidates_[name]), 0, 1)

    def predict_interval(self, n: ArrayLike) -> tuple[Array, Array]:
        """(low, high) of the score at ``n``: bootstrap quantiles widened by the
        held-out model-error margin (see the module's docstring)."""
        check_is_fitted(self, "theta_")
        arr = np.atleast_1d(np.asarray(n, dtype=np.float64))
        if (arr <= 0).any():
            raise InputError("n must be positive.")
        return self._bands(arr)

    # ------------------------------------------------------------ requirements
    def _first_reaching(self, grid: Array, values: Array, target: float) -> float:
        hit = np.flatnonzero(values >= target)
        return float(grid[hit[0]]) if hit.size else math.inf

    def n_needed(self, target: float) -> DataRequirement:
        """Labels needed for ``target`` score, with its interval and the per-family range.

        Unreachable targets (above the curve's asymptote, or beyond ``horizon`` times
        the data) come back with ``reachable=False`` and ``n=None``.
        """
        check_is_fitted(self, "theta_")
        check_number(target, "target", "CurveFit.n_needed", low=0, high=1)
        grid = self.n_max_ * np.logspace(-3, np.log10(self.horizon), _GRID_POINTS)
        grid = grid[grid >= 1]
        point = self._curve(self.theta_, grid)
        lo_band, hi_band = self._bands(grid)
        n_point = self._first_reaching(grid, point, target)
        low = self._first_reaching(grid, hi_band, target)
        high = self._first_reaching(grid, lo_band, target)
        by_model: dict[str, float | None] = {}
        plausible = self._plausible_families()
        for f in plausible:
            vals = self._family_values(f, grid)
            hit = self._first_reaching(grid, vals, target)
            by_model[f] = hit if math.isfinite(hit) else None
        asym = self.asymptote_
        means = self.scores_.mean(axis=0)
        current = float(means[-1])
        noise = self.measured_noise()
        if target <= current and not math.isfinite(n_point):
            # measured to be reached even where the fitted curve falls short of it
            n_point = float(self.sizes_[np.flatnonzero(means >= target)[0]])
        shape = "" if self.monotone_ else f" {self.dip_note()}"
        if target <= current - noise:
            verdict = "reached"
            reason = f"already reached: the curve scores {current:.3f} at {self.n_max_} labels."
        elif target <= current:
            # the mean scores the target, but a fresh sample of test items could put it
            # below: a plan with the point estimate and its interval, not "reached"
            verdict = "reachable"
            reason = (
                f"about {math.ceil(n_point):,} labels: the curve scores {current:.3f} at "
                f"{self.n_max_:,} labels, within its noise (+-{noise:.3f}) of {target:.3f}; "
                f"interval {math.ceil(low):,} to "
                f"{'no bound' if math.isinf(high) else f'{math.ceil(high):,}'}.{shape}"
            )
        elif not math.isfinite(n_point) and low <= _OPTIMISTIC_REACH * self.n_max_:
            verdict = "uncertain"
            short = (
                f"levels off at {asym:.4f}, {target - asym:.4f} short of {target:.3f} (the "
                f"measured score at {self.n_max_:,} labels is known to +-{noise:.3f})"
                if asym < target
                else f"needs more than {self.horizon:g}x the data"
            )
            reason = (
                f"not shown to be out of reach: the {self.model_} point fit {short}, "
                "but the interval reaches it from about "
                f"{math.ceil(low):,} labels ({low / self.n_max_:.1f}x the data); collect in rounds "
                f"and re-fit.{shape}"
            )
        elif not math.isfinite(n_point):
            verdict = "unreachable"
            low = math.inf
            reason = (
                f"unreachable: the {self.model_} curve levels off at {asym:.3f} < {target:.3f}, "
                "and the optimistic side of its interval does not reach it within "
                f"{_OPTIMISTIC_REACH:g}x the data."
                if asym < target
                else f"unreachable within {self.horizon:g}x the data "
                f"({self.horizon * self.n_max_:,.0f} labels); the fit says nothing that far out."
            ) + shape
        else:
            verdict = "reachable"
            reason = (
                f"about {math.ceil(n_point):,} labels ({n_point / self.n_max_:.1f}x the data); "
                f"interval {math.ceil(low):,} to "
                f"{'no bound' if math.isinf(high) else f'{math.ceil(high):,}'}."
                f"{shape}"
            )
        reachable = math.isfinite(n_point)
        return DataRequirement(
            target=float(target),
            reachable=reachable,
            n=n_point if reachable else None,
            low=low,
            high=high,
            model=self.model_,
            asymptote=asym,
            n_current=self.n_max_,
            by_model=by_model,
            rounds=(
                self._rounds(n_point, by_model)
                if reachable
                else self._rounds(low, {})
                if verdict == "uncertain"
                else ()
            ),
            reason=reason,
            verdict=verdict,
        )

    def measured_noise(self) -> float:
        """Half-width of the measured score's interval at the largest size.

        ``z`` (two-sided at ``confidence``) standard errors of the seeds' mean there; 0 with
        one seed (no spread to measure). Fitted on a :class:`LearningCurve` of accuracy,
        the standard error is at least the binomial one of the test items scored there
        (``sqrt(p (1 - p) / n_test_)``, all seeds' items together): a few seeds can agree
        by chance, a few hundred test items cannot measure closer than that. Exists so
        that a mean that scores the target only by its test sample's luck is not reported
        as "already reached": from 1,000 AG News labels the planner's curve scored 0.831 to
        0.853 at 749 labels over four draws of the labels, where 7,600 test items say 0.837.
        """
        check_is_fitted(self, "scores_")
        last = self.scores_[:, -1]
        if last.shape[0] < 2:
            return 0.0
        z = float(norm.ppf(0.5 + self.confidence / 2))
        se = float(last.std(ddof=1)) / math.sqrt(last.shape[0])
        n_test = getattr(self, "n_test_", 0)
        if n_test > 0:
            p = float(last.mean())
            se = max(se, math.sqrt(p * (1 - p) / n_test))
        return z * se

    def dip_note(self) -> str:
        """A sentence on where the measured curve fell (empty for a monotone curve)."""
        check_is_fitted(self, "theta_")
        if self.monotone_:
            return ""
        worst = self.dips_.sort_values("drop").iloc[-1]
        return (
            f"The measured curve is not monotone: {len(self.dips_)} size(s) score below a "
            f"smaller one (worst {worst['score']:.3f} at {int(worst['n']):,} labels after "
            f"{worst['before']:.3f}); it is fitted as a rising envelope, and the dip widens "
            "the interval."
        )

    def _plausible_families(self) -> list[str]:
        """Families whose held-out error is within twice the best (all when untested)."""
        sel = self.selection_
        finite = sel[np.isfinite(sel["holdout_rmse"])]
        if finite.empty:
            return [self.model_]
        best = float(finite["holdout_rmse"].min())
        keep = finite[finite["holdout_rmse"] <= 2 * best + 1e-3]["model"].tolist()
        return keep or [self.model_]

    def _rounds(self, n_point: float, by_model: dict[str, float | None]) -> tuple[int, ...]:
        """Cumulative sizes to collect: first to the most optimistic estimate, then at most
        four times the previous round, re-fitting the curve after each."""
        goal = math.ceil(n_point)
        cur = self.n_max_
        if goal <= cur:
            return ()
        optimistic = min([v for v in by_model.values() if v is not None] + [n_point])
        out = []
        nxt = min(max(optimistic, cur * 1.25), cur * 4, goal)
        while True:
            cur = math.ceil(nxt)
            out.append(cur)
            if cur >= goal:
                break
            nxt = min(cur * 4, goal)
        return tuple(out)


def isotonic(values: ArrayLike) -> Array:
    """The non-decreasing sequence closest to ``values`` in least squares (pool adjacent
    violators, equal weights): a learning curve's rising envelope."""
    blocks: list[list[float]] = []  # [mean, count]
    for val in np.asarray(values, dtype=np.float64):
        blocks.append([float(val), 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, c2 = blocks.pop()
            m1, c1 = blocks.pop()
            blocks.append([(m1 * c1 + m2 * c2) / (c1 + c2), c1 + c2])
    return np.concatenate([np.full(int(c), m) for m, c in blocks])


def curve_dips(sizes: ArrayLike, scores: ArrayLike, *, min_drop: float = 0.002) -> pd.DataFrame:
    """Sizes whose mean score is below a smaller size's by more than the noise.

    Parameters
    ----------
    sizes : array, shape (n_sizes,), increasing
    scores : array, shape (n_seeds, n_sizes)
    min_drop : float
        Drops smaller than this are never reported.

    Returns
    -------
    DataFrame
        One row per dip: ``n``, ``score``, ``before`` (the best earlier mean score),
        ``n_before`` and ``drop``. A drop counts when it exceeds twice the standard error
        of the difference (seed spread / sqrt(seeds); with one seed, 0.01).
    """
    n = np.asarray(sizes)
    s = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    mean = s.mean(axis=0)
    if s.shape[0] > 1:
        se = s.std(axis=0, ddof=1) / np.sqrt(s.shape[0])
    else:
        se = np.full(mean.shape, 0.005)
    rows = []
    for j in range(1, mean.shape[0]):
        i = int(np.argmax(mean[:j]))
        drop = float(mean[i] - mean[j])
        if drop > max(min_drop, 2.0 * math.hypot(se[i], se[j])):
            rows.append(
                {
                    "n": int(n[j]),
                    "score": float(mean[j]),
                    "before": float(mean[i]),
                    "n_before": int(n[i]),
                    "drop": drop,
                }
            )
    return pd.DataFrame(rows, columns=["n", "score", "before", "n_before", "drop"])


def class_gains(curve: LearningCurve, *, factor: float = 2.0) -> pd.DataFrame:
    """Which classes still gain from more data: per-class recall now and at ``factor`` x.

    Fits a power law (no bootstrap) to every class's recall curve. Returns one row
    per class: recall at the largest size, predicted recall at ``factor`` times it,
    the gain, and the recall the curve levels off at; largest gain first.
    """
    check_number(factor, "factor", "class_gains", low=1)
    rows = []
    n_big = float(curve.sizes.max()) * factor
    for k, label in enumerate(curve.classes):
        rec = curve.class_recall[:, :, k]
        fit = CurveFit(model="power_law", n_bootstrap=0).fit(curve.sizes, rec)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExtrapolationWarning)
            later = float(fit.predict([n_big])[0])
        now = float(rec.mean(axis=0)[-1])
        rows.append(
            {
                "class": label,
                "recall now": now,
                f"recall at {factor:g}x": later,
                "gain": later - now,
                "levels off at": fit.asymptote_,
            }
        )
    return pd.DataFrame(rows).sort_values("gain", ascending=False).reset_index(drop=True)
