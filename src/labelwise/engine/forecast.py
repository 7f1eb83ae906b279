"""Can the rest of the budget reach the target? A learning curve on the engine's rounds.

The engine measures held-out accuracy after every round; those points are one
learning curve of *this* model on *these* labels. :func:`forecast_accuracy` fits
``accuracy(n) = c - a * n ** -b`` (the power law of learning curves) to them, weighting
each point by its measurement noise (the binomial spread of an accuracy on
``n_test`` held-out items, or the fit's own residual spread when that is larger), and
draws the curve again from that noise (a parametric bootstrap) to give the accuracy
expected at the number of items the whole budget buys, with an interval.

The engine stops a run as unable to reach its target only when the *upper* end of
that interval is below the target: an optimistic reading, so a budget that can get
there is not stopped on the strength of a few noisy early rounds. It also refuses to
extrapolate further than ``max_ratio`` times the items measured: from 30 items a
curve says nothing about 1,000.

A power law is concave in log items: it can only flatten. A curve that is still
speeding up (:func:`accelerating_line`) is read by it as a ceiling, so the engine gives
no verdict while the straight-line continuation of an accelerating curve, which such a
curve stays above, reaches the target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["AccuracyForecast", "accelerating_line", "forecast_accuracy"]

Array = NDArray[np.float64]


@dataclass(frozen=True)
class AccuracyForecast:
    """The learning curve's accuracy at ``n`` items.

    Attributes
    ----------
    n : float
        Items the forecast is for.
    accuracy : float
        The fitted curve there.
    low, high : float
        The bootstrap interval (``level`` two-sided).
    ratio : float
        ``n`` over the most items measured (how far it extrapolates).
    level : float
    """

    n: float
    accuracy: float
    low: float
    high: float
    ratio: float
    level: float


#: Exponents ``b`` tried; for each the curve is linear in (c, a), solved exactly.
_EXPONENTS = np.geomspace(0.05, 2.0, 40)


def _fit_many(x: Array, v: Array, w: Array) -> tuple[Array, Array, Array]:
    """Weighted least squares of ``c - a * x ** -b`` (a >= 0, c <= 1) for every column of ``v``
    (k, B) at once: ``(c, a, b)`` each of shape (B,). For a fixed ``b`` the curve is
    linear in ``(c, a)``; the best ``b`` of a grid is kept per column."""
    w2 = w[:, None] ** 2
    best = np.full(v.shape[1], np.inf)
    out = np.zeros((3, v.shape[1]))
    flat_c = (w2 * v).sum(axis=0) / w2.sum()
    flat_cost = (w2 * (v - flat_c) ** 2).sum(axis=0)
    for b in _EXPONENTS:
        z = np.stack([np.ones_like(x), -(x**-b)], axis=1)  # (k, 2)
        zw = z * w[:, None] ** 2
        coef = np.linalg.solve(z.T @ zw, zw.T @ v)  # (2, B)
        over = coef[0] > 1.0  # accuracy cannot level off above 1: fit a with c = 1
        if over.any():
            xb = x**-b
            coef[0, over] = 1.0
            coef[1, over] = (w2 * (1.0 - v[:, over]) * xb[:, None]).sum(axis=0) / (
                (w**2 * xb**2).sum()
            )
        rising = coef[1] >= 0
        cost = np.where(rising, (w2 * (z @ coef - v) ** 2).sum(axis=0), flat_cost)
        c = np.where(rising, coef[0], flat_c)
        a = np.where(rising, coef[1], 0.0)
        take = cost < best
        best[take] = cost[take]
        out[:, take] = np.stack([c, a, np.full_like(c, b)])[:, take]
    return out[0], out[1], out[2]


def _value(x: float | Array, c: Array, a: Array, b: Array) -> Array:
    return c - a * np.power(x, -b)  # type: ignore[no-any-return]


def forecast_accuracy(
    items: ArrayLike,
    accuracy: ArrayLike,
    n: float,
    *,
    n_test: int,
    level: float = 0.9,
    n_bootstrap: int = 200,
    random_state: int = 0,
) -> AccuracyForecast:
    """The accuracy expected at ``n`` items from measured ``(items, accuracy)`` points.

    Parameters
    ----------
    items : array of int
        Items the model was trained on at each measurement (distinct, positive).
    accuracy : array of float
        Held-out accuracy at each.
    n : float
        Items to forecast for (for instance what the whole budget buys).
    n_test : int
        Held-out items behind each accuracy (sets the binomial measurement noise).
    level : float
        Two-sided level of the interval.
    n_bootstrap : int
        Parametric bootstrap refits.
    random_state : int

    Returns
    -------
    AccuracyForecast
        Why: the engine's stop rule needs the interval's upper end at the full budget,
        not a point estimate that a few noisy rounds can drag down.
    """
    nn = np.asarray(items, dtype=np.float64)
    acc = np.asarray(accuracy, dtype=np.float64)
    order = np.argsort(nn)
    nn, acc = nn[order], acc[order]
    scale = nn.max()
    x = nn / scale
    p = np.clip(acc, 0.02, 0.98)
    sd_binom = np.sqrt(p * (1 - p) / max(n_test, 1))
    c, a, b = _fit_many(x, acc[:, None], 1.0 / sd_binom)
    base = _value(x, c, a, b)
    resid = acc - base
    sd_fit = math.sqrt(float((resid**2).sum()) / max(x.size - 3, 1))
    sd = np.maximum(sd_binom, sd_fit)
    xq = float(n) / scale
    rng = np.random.default_rng(random_state)
    v = base[:, None] + rng.normal(0.0, 1.0, (x.size, n_bootstrap)) * sd[:, None]
    draws = np.clip(_value(xq, *_fit_many(x, v, 1.0 / sd)), 0, 1)
    alpha = (1 - level) / 2
    low, high = np.quantile(draws, [alpha, 1 - alpha])
    point = float(np.clip(_value(xq, c, a, b)[0], 0, 1))
    return AccuracyForecast(float(n), point, float(low), float(high), xq, level)


def _log_slope(t: Array, y: Array) -> tuple[float, float]:
    """Least-squares line of ``y`` on ``t``: (slope, value at the last ``t``)."""
    tc = t - t.mean()
    slope = float((tc * (y - y.mean())).sum() / (tc**2).sum())
    return slope, float(y.mean() + slope * tc[-1])


def accelerating_line(items: ArrayLike, accuracy: ArrayLike, n: float) -> float | None:
    """Where a curve that is still speeding up is headed at ``n`` items, if it is.

    The measured points are split in two halves by items; each half gets a
    least-squares line in log items. When the later half gains more per log-item
    than the earlier half, the curve is not (yet) flattening, and a curve that is
    convex in log items stays above its straight-line continuation: the later line's
    value at ``n`` is returned. Otherwise (the curve flattens, as a power law does, or
    fewer than 8 points) None.

    Parameters
    ----------
    items : array of int
        Items at each measurement (distinct, positive).
    accuracy : array of float
        Held-out accuracy at each.
    n : float
        Items to continue the line to.

    Returns
    -------
    float or None
        Why: :func:`forecast_accuracy` fits a power law, which can only flatten; on a
        curve still accelerating (LabelMe replay: 0.535 to 0.650 between 213 and 324
        items) it forecasts a ceiling that the curve then passes. The engine withholds a
        "cannot reach" verdict while this line reaches the target. No significance
        test: with a few hundred held-out items a speed-up is never significant over a
        few rounds (LabelMe: curvature below 1.5 sd), and the burden of proof is on the
        stop, which assumes the flattening.
    """
    nn = np.asarray(items, dtype=np.float64)
    acc = np.asarray(accuracy, dtype=np.float64)
    order = np.argsort(nn)
    t, y = np.log(nn[order]), acc[order]
    if t.size < 8:  # a line through fewer than 4 noisy points per half is noise
        return None
    half = t.size // 2
    early, _ = _log_slope(t[:half], y[:half])
    late, at_last = _log_slope(t[half:], y[half:])
    if late <= early or late <= 0:
        return None
    return at_last + late * (math.log(float(n)) - float(t[-1]))
