"""A scikit-learn compatible estimator base that does not import scikit-learn.

``sklearn.base`` pulls in scipy.stats and most of scikit-learn (about 1.2 s), and every
CLI call paid for it because the aggregators derived from ``BaseEstimator``. This base
gives the same contract (``get_params``/``set_params``, ``clone``-able, a readable
``repr``) and turns a fitted attribute read before ``fit`` into
:class:`~labelwise.errors.NotFittedError` instead of a bare ``AttributeError``.
"""

from __future__ import annotations

import inspect
from typing import Any, Self

from labelwise.errors import NotFittedError, ParameterError

__all__ = ["LightEstimator"]


class LightEstimator:
    """``get_params``/``set_params`` from the constructor signature, as scikit-learn does.

    ``sklearn.base.clone`` works on it (it only needs ``get_params``), and reading a
    fitted attribute (a public name ending in ``_``) before ``fit`` raises
    :class:`~labelwise.errors.NotFittedError`, which is also an ``AttributeError`` so
    that ``hasattr(model, "labels_")`` stays ``False``.
    """

    @classmethod
    def _get_param_names(cls) -> list[str]:
        init = cls.__init__
        if init is object.__init__:
            return []
        params = inspect.signature(init).parameters.values()
        return sorted(
            p.name
            for p in params
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        )

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's parameters and their values (nested ones when ``deep``)."""
        out: dict[str, Any] = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{name}__{k}", v) for k, v in value.get_params().items())
            out[name] = value
        return out

    def set_params(self, **params: Any) -> Self:
        """Set constructor parameters (``name`` or ``nested__name``); return ``self``."""
        valid = self._get_param_names()
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in valid:
                raise ParameterError(
                    f"Invalid parameter {name!r} for {type(self).__name__}; "
                    f"valid parameters: {', '.join(valid)}."
                )
            if sub:
                getattr(self, name).set_params(**{sub: value})
            else:
                setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {
            p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()
        }
        changed = [
            f"{k}={v!r}"
            for k, v in self.get_params(deep=False).items()
            if not (k in defaults and _same(defaults[k], v))
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup failed: a fitted attribute before fit
        if name.endswith("_") and not name.startswith("_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet, so it has no "
                f"{name!r}; call 'fit' first."
            )
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a is b or a == b)
    except (TypeError, ValueError):  # arrays and other values without a truth value
        return False
