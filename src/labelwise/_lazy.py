"""Modules imported on first use, so that a small CLI call does not pay for them.

pandas (with pyarrow) and scipy take about 0.9 s of CPU to import, more than the whole
of ``labelwise aggregate`` on a small file needs. Modules that use them only in some
functions bind a stand-in at import time::

    if TYPE_CHECKING:
        import pandas as pd
    else:
        pd = lazy_module("pandas")

and the real import happens at the first attribute access (``pd.DataFrame``). Type
checkers see the real module; at run time nothing changes but the moment of import.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

__all__ = ["lazy_module"]


class _LazyModule:
    """Stand-in for a module: imports it when an attribute is first read."""

    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attr)

    def __repr__(self) -> str:
        state = "loaded" if self._module is not None else "not loaded yet"
        return f"<lazy module {self._name!r} ({state})>"


def lazy_module(name: str) -> Any:
    """Return a stand-in for module ``name`` that imports it on first attribute access.

    Returns ``Any`` so that call sites type-check against the real module they declare
    under ``TYPE_CHECKING``.
    """
    return _LazyModule(name)
