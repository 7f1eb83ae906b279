"""The user's model for learning curves and plans: by name with parameters, or pickled.

A data requirement is a property of one model: the labels LogisticRegression(C=10)
needs on sentence embeddings are not the labels a scaled LogisticRegression(C=1)
needs (its curve on the same data dips before it rises). So the planner takes the
estimator the user will train, and says which one its numbers are for.

- :func:`make_estimator` builds a named model (``logreg``, ``forest``, ``knn``,
  ``linear_svm``) with keyword parameters;
- :func:`parse_params` turns ``KEY=VALUE`` strings from a command line into them;
- :func:`load_estimator` unpickles a user's estimator (with a warning: a pickle runs
  code when it is loaded);
- :func:`describe_estimator` names a model and its non-default parameters;
- :func:`resolve_estimator` accepts an estimator or a factory (a callable returning one).
"""

from __future__ import annotations

import ast
import pickle
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sklearn.base import BaseEstimator, clone

from labelwise.errors import InputError, ParameterError

__all__ = [
    "ESTIMATORS",
    "PickleWarning",
    "describe_estimator",
    "load_estimator",
    "make_estimator",
    "parse_params",
    "resolve_estimator",
]

#: Named models, with what each is.
ESTIMATORS: dict[str, str] = {
    "logreg": "LogisticRegression; scale=true puts a StandardScaler in front",
    "forest": "RandomForestClassifier",
    "knn": "KNeighborsClassifier",
    "linear_svm": "LinearSVC",
}


class PickleWarning(UserWarning):
    """A pickled estimator was loaded: pickles run code, load only files you trust."""


def parse_params(pairs: Sequence[str]) -> dict[str, Any]:
    """``["C=10", "scale=false", "penalty=l1"]`` -> ``{"C": 10, "scale": False, ...}``.

    Values are Python literals where they parse (numbers, ``None``, quoted strings,
    tuples), ``true``/``false`` in any case are booleans, anything else a string.
    """
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise ParameterError(f"--param must be KEY=VALUE (e.g. C=10); got {pair!r}.")
        raw = raw.strip()
        if raw.lower() in ("true", "false"):
            out[key] = raw.lower() == "true"
            continue
        try:
            out[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            out[key] = raw
    return out


def make_estimator(
    name: str, params: dict[str, Any] | None = None, *, random_state: int = 0
) -> Any:
    """A named scikit-learn classifier with ``params`` set (unknown names are errors).

    ``logreg`` defaults to ``max_iter=1000`` and ``scale=True`` (a StandardScaler in
    front); the others take scikit-learn's defaults. ``random_state`` is set where the
    model has one and ``params`` does not.
    """
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    kw = dict(params or {})
    if name not in ESTIMATORS:
        raise ParameterError(
            f"--estimator must be one of {', '.join(ESTIMATORS)}; got {name!r} "
            "(or give a pickled estimator with --estimator-file)."
        )
    classes: dict[str, type] = {
        "logreg": LogisticRegression,
        "forest": RandomForestClassifier,
        "knn": KNeighborsClassifier,
        "linear_svm": LinearSVC,
    }
    scale = bool(kw.pop("scale", name == "logreg"))
    if name == "logreg":
        kw.setdefault("max_iter", 1000)
    cls = classes[name]
    valid = cls().get_params()
    if "random_state" in valid:
        kw.setdefault("random_state", random_state)
    unknown = sorted(set(kw) - set(valid))
    if unknown:
        raise ParameterError(
            f"{cls.__name__} has no parameter {unknown[0]!r}; it takes "
            f"{', '.join(sorted(valid))} and scale."
        )
    try:
        est = cls(**kw)
        est._validate_params()
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"--param for {cls.__name__}: {exc}") from None
    return make_pipeline(StandardScaler(), est) if scale else est


def load_estimator(path: str | Path) -> Any:
    """Unpickle a scikit-learn estimator from ``path`` (it is cloned, never used fitted).

    Warns with :class:`PickleWarning`: loading a pickle runs any code it holds.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"estimator file {str(p)!r} does not exist.")
    warnings.warn(
        f"loading the pickled estimator {str(p)!r}: a pickle can run any code when loaded; "
        "load only files you made or trust.",
        PickleWarning,
        stacklevel=2,
    )
    try:
        with p.open("rb") as fh:
            est = pickle.load(fh)  # the user's own file, warned above
    except Exception as exc:  # any unpickling failure is the file's fault
        raise InputError(f"{str(p)!r} is not a readable pickle: {exc}") from None
    return resolve_estimator(est, owner=str(p))


def resolve_estimator(estimator: Any, *, owner: str = "estimator") -> Any:
    """An unfitted clone of ``estimator``, or of what the factory ``estimator()`` returns."""
    est = estimator
    if isinstance(est, type) or (not hasattr(est, "fit") and callable(est)):
        est = est()
    if not (hasattr(est, "fit") and hasattr(est, "predict")):
        raise InputError(
            f"{owner} must be a scikit-learn classifier (fit and predict) or a function "
            f"returning one; got {type(est).__name__}."
        )
    try:
        return clone(est)
    except TypeError as exc:
        raise InputError(f"{owner} cannot be cloned ({exc}).") from None


def describe_estimator(estimator: Any) -> str:
    """A short name: ``LogisticRegression(C=10)``, ``StandardScaler + LogisticRegression()``.

    Only parameters that differ from the class's defaults are shown (``max_iter`` and
    ``random_state`` are left out: they do not change what the model is).
    """
    steps = getattr(estimator, "steps", None)
    if steps is not None:
        return " + ".join(describe_estimator(s) for _, s in steps)
    if not isinstance(estimator, BaseEstimator):
        return type(estimator).__name__
    try:
        defaults = type(estimator)().get_params(deep=False)
    except TypeError:
        defaults = {}
    shown = []
    for key, value in estimator.get_params(deep=False).items():
        if key in ("max_iter", "random_state", "n_jobs", "verbose") or key not in defaults:
            continue
        if repr(defaults[key]) != repr(value):
            shown.append(f"{key}={value!r}")
    return f"{type(estimator).__name__}({', '.join(shown)})"
