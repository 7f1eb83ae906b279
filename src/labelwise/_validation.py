"""One validation layer for the public boundary.

Public functions call these once; internal ``_compute_*`` functions trust their
inputs. Parameter errors share one message shape, after scikit-learn's:
``The 'tol' parameter of DawidSkene must be a float in (0, 1). Got -1 instead.``
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import InputError, NotFittedError, ParameterError


def check_number(
    value: Any,
    name: str,
    owner: str,
    *,
    kind: type = float,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    """Raise :class:`ParameterError` unless ``value`` is a number of ``kind`` in the range.

    ``kind`` is ``int`` (integers only) or ``float`` (any real number).
    """
    is_int = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    is_real = isinstance(value, numbers.Real) and not isinstance(value, bool)
    ok = is_int if kind is int else is_real
    if ok:
        v = float(value)
        ok = not np.isnan(v)
        if ok and low is not None:
            ok = v > low if low_open else v >= low
        if ok and high is not None:
            ok = v < high if high_open else v <= high
    if not ok:
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        bracket = ("(" if low_open or low is None else "[") + f"{lo}, {hi}"
        bracket += ")" if high_open or high is None else "]"
        kind_name = "an int" if kind is int else "a float"
        raise ParameterError(
            f"The {name!r} parameter of {owner} must be {kind_name} in {bracket}. "
            f"Got {value!r} instead."
        )


def check_option(value: Any, name: str, owner: str, options: Iterable[Any]) -> None:
    """Raise :class:`ParameterError` unless ``value`` is one of ``options``."""
    opts = list(options)
    if value not in opts:
        listed = ", ".join(repr(o) for o in opts)
        raise ParameterError(
            f"The {name!r} parameter of {owner} must be one of {listed}. Got {value!r} instead."
        )


def check_random_state(seed: Any) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` from ``None``, an int or a Generator."""
    if seed is None or isinstance(seed, numbers.Integral | np.random.Generator):
        return np.random.default_rng(seed)
    if isinstance(seed, np.random.RandomState):
        return np.random.default_rng(seed.randint(0, 2**31 - 1))
    raise ParameterError(
        f"The 'random_state' parameter must be None, an int or a numpy Generator. "
        f"Got {seed!r} instead."
    )


def check_proba(
    proba: ArrayLike, name: str = "proba", *, atol: float = 1e-4
) -> NDArray[np.float64]:
    """Return ``proba`` as an ``(n, K)`` float array whose rows are distributions.

    Raises :class:`InputError` naming the first bad row: not 2-D, NaN, negative,
    or a row that does not sum to one within ``atol``.
    """
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise InputError(
            f"{name} must be a 2-D array (n_samples, n_classes >= 2); got shape {p.shape}."
        )
    bad = ~np.isfinite(p).all(axis=1) | (p < 0).any(axis=1) | (np.abs(p.sum(axis=1) - 1) > atol)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{name} row {row} is not a probability distribution "
            f"(values {np.array2string(p[row], precision=3)}, sum {p[row].sum():.4g})."
        )
    return p


def check_features(X: ArrayLike, name: str = "X") -> NDArray[np.floating[Any]]:
    """Return ``X`` as a 2-D float array, naming the first row with a NaN or infinity."""
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise InputError(
            f"{name} must be a 2-D array (n_samples, n_features); got shape {arr.shape}."
        )
    if arr.shape[0] == 0:
        raise InputError(f"{name} is empty (0 rows).")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    finite = np.isfinite(arr).all(axis=1)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        col = int(np.flatnonzero(~np.isfinite(arr[row]))[0])
        raise InputError(
            f"{name} has a non-finite value at row {row}, column {col}: {arr[row, col]}."
        )
    return arr


def check_same_length(**arrays: Any) -> int:
    """Return the common length of the named arrays, or raise naming the mismatch."""
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{k} has {n}" for k, n in lengths.items())
        raise InputError(f"Lengths differ: {listed}.")
    return next(iter(lengths.values()))


def check_is_fitted(estimator: Any, attribute: str) -> None:
    """Raise :class:`NotFittedError` if ``estimator`` lacks ``attribute`` (set by fit)."""
    if not hasattr(estimator, attribute):
        raise NotFittedError(
            f"This {type(estimator).__name__} instance is not fitted yet; call 'fit' first."
        )
