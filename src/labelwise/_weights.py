"""Passing ``sample_weight`` to a scikit-learn estimator or a pipeline's last step."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray


def weight_kwargs(estimator: Any, weights: NDArray[np.float64]) -> dict[str, Any]:
    """The ``fit`` keyword that gives ``estimator`` its ``sample_weight``: a
    :class:`~sklearn.pipeline.Pipeline` routes it to its last step by name."""
    if hasattr(estimator, "steps"):
        return {f"{estimator.steps[-1][0]}__sample_weight": weights}
    return {"sample_weight": weights}
