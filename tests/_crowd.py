"""Small simulated crowds with known truth, for the tests."""

from __future__ import annotations

import numpy as np

from labelwise.annotations import Annotations
from labelwise.simulate import confusion_from_accuracy, simulate_annotations


def make_crowd(
    n_items: int = 300,
    accuracies: tuple[float, ...] = (0.9, 0.8, 0.7, 0.6, 0.85),
    k: int = 4,
    per_item: int = 3,
    seed: int = 0,
) -> tuple[Annotations, np.ndarray]:
    """A simulated crowd with uniform errors; returns (annotations, truth codes)."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n_items)
    confs = np.stack([confusion_from_accuracy(a, k) for a in accuracies])
    ann = simulate_annotations(truth, confs, per_item=per_item, random_state=seed)
    return ann, truth
