"""labelwise: build labeled datasets at the lowest labeling cost.

The public surface; everything listed in ``__all__`` is stable API.

Names are imported on first use (PEP 562), so ``import labelwise`` and the CLI's
``--help`` do not pay for numpy, pandas or scipy until a command needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from labelwise.errors import (
    AnnotationsError,
    InputError,
    LabelwiseError,
    LabelwiseWarning,
    NotFittedError,
    ParameterError,
)

if TYPE_CHECKING:
    from labelwise.aggregate import (
        GLAD,
        MACE,
        BaseAggregator,
        DawidSkene,
        MajorityVote,
        OneCoinDawidSkene,
        WeightedMajorityVote,
        make_aggregator,
    )
    from labelwise.annotations import Annotations, read_gold

__version__ = "0.1.0"

#: Public name -> the module that defines it, imported when the name is first read.
_LAZY = {
    "GLAD": "labelwise.aggregate",
    "MACE": "labelwise.aggregate",
    "BaseAggregator": "labelwise.aggregate",
    "DawidSkene": "labelwise.aggregate",
    "MajorityVote": "labelwise.aggregate",
    "OneCoinDawidSkene": "labelwise.aggregate",
    "WeightedMajorityVote": "labelwise.aggregate",
    "make_aggregator": "labelwise.aggregate",
    "Annotations": "labelwise.annotations",
    "read_gold": "labelwise.annotations",
}

__all__ = [
    "GLAD",
    "MACE",
    "Annotations",
    "AnnotationsError",
    "BaseAggregator",
    "DawidSkene",
    "InputError",
    "LabelwiseError",
    "LabelwiseWarning",
    "MajorityVote",
    "NotFittedError",
    "OneCoinDawidSkene",
    "ParameterError",
    "WeightedMajorityVote",
    "__version__",
    "make_aggregator",
    "read_gold",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'labelwise' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later reads skip this hook
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
