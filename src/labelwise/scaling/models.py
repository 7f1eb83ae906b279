"""The curve families a learning curve is fitted with.

Every family maps ``x = n / n_ref`` (labels relative to the largest fitted size,
which keeps the least-squares problem well conditioned) to a score in [0, 1]:

- ``power_law``: score = 1 - (a x^-b + c), the classic error(n) = A n^-b + C with
  A = a n_ref^b (Hestness et al. 2017); C is the irreducible error.
- ``arctan``: score = (2/pi) arctan(t1 (pi/2) x + t2) + t3, saturating at 1 + t3;
- ``logarithmic``: score = t1 log(x + t2) + t3, which never saturates;
- ``algebraic_root``: score = t3 + (u - t3) z / (1 + z^p)^(1/p) with z = t1 x,
  saturating at u.

The last three are the regressors Mahmood et al. ("How much more data do I need?",
CVPR 2022) compared with the power law: each mis-estimates the data needed on some
tasks, which is why labelwise chooses among them by held-out extrapolation and
reports the spread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["FAMILIES", "CurveFamily"]

Array = NDArray[np.float64]


@dataclass(frozen=True)
class CurveFamily:
    """One parametric curve: the function, its bounds, starting points and asymptote."""

    name: str
    params: tuple[str, ...]
    fn: Callable[[Array, Array], Array]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    starts: Callable[[Array, Array], list[Array]]
    asymptote: Callable[[Array], float]


def _power(x: Array, t: Array) -> Array:
    return 1.0 - (t[0] * x ** (-t[1]) + t[2])


def _power_starts(x: Array, v: Array) -> list[Array]:
    err = 1.0 - v
    c0 = max(0.0, float(err.min()) * 0.5)
    return [np.array([max(float(err[-1]) - c0, 1e-3), b, c0]) for b in (0.2, 0.5, 1.0)] + [
        np.array([max(float(err[-1]), 1e-3), 0.3, 0.0])
    ]


def _arctan(x: Array, t: Array) -> Array:
    return (2.0 / np.pi) * np.arctan(t[0] * (np.pi / 2.0) * x + t[1]) + t[2]


def _arctan_starts(x: Array, v: Array) -> list[Array]:
    top = min(float(v.max()) + 0.05, 1.0)
    return [np.array([s, 0.0, top - 1.0]) for s in (1.0, 5.0, 20.0)]


def _log(x: Array, t: Array) -> Array:
    return t[0] * np.log(x + t[1]) + t[2]


def _log_starts(x: Array, v: Array) -> list[Array]:
    slope = max((float(v[-1]) - float(v[0])) / max(np.log(x[-1] / x[0]), 1e-6), 1e-4)
    return [np.array([slope, off, float(v[-1])]) for off in (1e-3, 0.05, 0.5)]


def _root(x: Array, t: Array) -> Array:
    z = t[0] * x
    return t[2] + (t[3] - t[2]) * z / (1.0 + z ** t[1]) ** (1.0 / t[1])


def _root_starts(x: Array, v: Array) -> list[Array]:
    top = min(float(v.max()) + 0.02, 1.0)
    return [np.array([s, p, 0.0, top]) for s in (2.0, 10.0, 50.0) for p in (0.5, 1.0)]


#: The curve families by name, in the order they are tried.
FAMILIES: dict[str, CurveFamily] = {
    "power_law": CurveFamily(
        "power_law",
        ("a", "b", "c"),
        _power,
        (0.0, 1e-3, 0.0),
        (10.0, 3.0, 1.0),
        _power_starts,
        lambda t: 1.0 - float(t[2]),
    ),
    "arctan": CurveFamily(
        "arctan",
        ("t1", "t2", "t3"),
        _arctan,
        (1e-6, -20.0, -1.0),
        (1e4, 20.0, 0.0),
        _arctan_starts,
        lambda t: 1.0 + float(t[2]),
    ),
    "logarithmic": CurveFamily(
        "logarithmic",
        ("t1", "t2", "t3"),
        _log,
        (0.0, 1e-9, -5.0),
        (1.0, 100.0, 5.0),
        _log_starts,
        lambda t: 1.0 if t[0] > 0 else float(t[2]),
    ),
    "algebraic_root": CurveFamily(
        "algebraic_root",
        ("t1", "p", "t3", "u"),
        _root,
        (1e-4, 0.05, -1.0, 0.0),
        (1e4, 20.0, 1.0, 1.0),
        _root_starts,
        lambda t: float(t[3]),
    ),
}
