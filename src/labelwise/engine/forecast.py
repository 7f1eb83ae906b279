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
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["AccuracyForecast", "forecast_accuracy"]

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
