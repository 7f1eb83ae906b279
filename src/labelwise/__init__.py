"""labelwise: build labeled datasets at the lowest labeling cost.

The public surface; everything listed in ``__all__`` is stable API.
"""

from __future__ import annotations

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
from labelwise.errors import (
    AnnotationsError,
    InputError,
    LabelwiseError,
    NotFittedError,
    ParameterError,
)

__version__ = "0.1.0"

__all__ = [
    "GLAD",
    "MACE",
    "Annotations",
    "AnnotationsError",
    "BaseAggregator",
    "DawidSkene",
    "InputError",
    "LabelwiseError",
    "MajorityVote",
    "NotFittedError",
    "OneCoinDawidSkene",
    "ParameterError",
    "WeightedMajorityVote",
    "__version__",
    "make_aggregator",
    "read_gold",
]
