"""Simulated annotator pools for the engine, fitted from a real crowd.

A pool fitted from a crowd with the data set's number of classes copies the real
annotators' confusion matrices (:func:`~labelwise.simulate.pool_from_annotations`);
for a data set with another number of classes each simulated annotator keeps a
real annotator's accuracy (under the crowd's class prior), with errors spread
over the other classes. Either way the pool works in the shares the real crowd did.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from labelwise._validation import check_number, check_random_state
from labelwise.annotations import Annotations
from labelwise.simulate import (
    AnnotatorPool,
    confusion_from_accuracy,
    fitted_confusions,
    pool_from_annotations,
)

__all__ = ["crowd_pool"]


def crowd_pool(
    annotations: Annotations,
    n_classes: int,
    n_workers: int,
    *,
    truth: ArrayLike | None = None,
    cost: float = 1.0,
    random_state: Any = None,
) -> AnnotatorPool:
    """A pool of ``n_workers`` annotators like the real crowd's, for ``n_classes`` classes.

    ``truth`` (class codes of the crowd's items, ``-1`` unknown) anchors the fitted
    skills when given. Returns an :class:`~labelwise.simulate.AnnotatorPool` whose
    kinds name the real annotator each one copies.
    """
    check_number(n_classes, "n_classes", "crowd_pool", kind=int, low=2)
    check_number(n_workers, "n_workers", "crowd_pool", kind=int, low=1)
    if annotations.n_classes == n_classes:
        return pool_from_annotations(
            annotations, n_workers, truth=truth, cost=cost, random_state=random_state
        )
    rng = check_random_state(random_state)
    conf, n_answers, prior = fitted_confusions(annotations, truth)
    acc = np.einsum("wkk,k->w", conf, prior)
    src = rng.choice(conf.shape[0], size=n_workers, p=n_answers / n_answers.sum())
    mats = np.stack([confusion_from_accuracy(float(a), n_classes) for a in acc[src]])
    kinds = np.asarray([f"accuracy of:{annotations.worker_ids[s]}" for s in src], dtype=object)
    return AnnotatorPool(
        mats, kinds, np.full(n_workers, 1.0 / n_workers), np.full(n_workers, float(cost))
    )
