"""The 5-class, 2-D toy test bed of the task-assignment literature.

After Liao's toy study of who-labels-what ("What is the next dataset creation
pipeline?"): items are points of 5 Gaussian classes in the plane, annotators are
5 x 5 confusion matrices whose mistakes go mostly to the neighbouring classes, and
a classifier on the 2-D features can supply a prior per item. Small enough that
every routing policy runs in seconds, hard enough that one answer per item is not
enough.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelwise._validation import check_number, check_random_state
from labelwise.errors import InputError
from labelwise.simulate._basic import confusion_from_accuracy, spammer_confusion
from labelwise.simulate.pool import AnnotatorPool

__all__ = ["TestBed", "make_toy_testbed", "testbed_from_crowd"]


@dataclass(frozen=True)
class TestBed:
    """Items with their truth and features, and the pool that labels them."""

    __test__ = False  # not a pytest test class

    name: str
    truth: NDArray[np.int64]
    pool: AnnotatorPool
    X: NDArray[np.float64] | None = None

    @property
    def n_items(self) -> int:
        return int(self.truth.shape[0])


def make_toy_testbed(
    n_items: int = 2000,
    n_workers: int = 50,
    *,
    n_classes: int = 5,
    spread: float = 0.9,
    accuracy: tuple[float, float] = (0.55, 0.9),
    spammer_share: float = 0.1,
    random_state: Any = None,
) -> TestBed:
    """The toy test bed: ``n_classes`` Gaussian blobs on a circle, a mixed pool.

    Parameters
    ----------
    n_items : int
        Points, classes drawn uniformly.
    n_workers : int
        Annotators. A share ``spammer_share`` are uniform spammers; the rest have
        accuracy uniform in ``accuracy`` and confuse each class with its two
        neighbours on the circle far more than with the others, unevenly (a random
        lean to one side per annotator and class), so the matrices are asymmetric.
    spread : float
        Standard deviation of each blob (the centres are on the unit circle, so
        0.9 makes neighbouring classes overlap: a classifier gets about 0.7).

    Returns
    -------
    TestBed
        ``X`` (n_items, 2), ``truth`` (n_items,), ``pool`` (n_workers annotators,
        rates log-normal, cost 1 per answer).
    """
    check_number(n_items, "n_items", "make_toy_testbed", kind=int, low=1)
    check_number(n_workers, "n_workers", "make_toy_testbed", kind=int, low=1)
    check_number(n_classes, "n_classes", "make_toy_testbed", kind=int, low=3)
    check_number(spread, "spread", "make_toy_testbed", low=0, low_open=True)
    check_number(spammer_share, "spammer_share", "make_toy_testbed", low=0, high=1)
    rng = check_random_state(random_state)
    k = n_classes
    angle = 2 * np.pi * np.arange(k) / k
    centres = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    y = rng.integers(0, k, size=n_items)
    X = centres[y] + rng.normal(0.0, spread / 2, size=(n_items, 2))
    ring = np.abs(np.arange(k)[:, None] - np.arange(k)[None, :])
    ring = np.minimum(ring, k - ring)
    n_spam = round(spammer_share * n_workers)
    confs = []
    kinds = []
    for w in range(n_workers):
        if w < n_spam:
            confs.append(spammer_confusion(k))
            kinds.append("spammer")
            continue
        lean = rng.uniform(0.0, 1.0, size=(k, 1))
        err = np.where(ring == 1, 1.0, 0.08)
        right = (np.arange(k)[None, :] - np.arange(k)[:, None]) % k == 1
        err = err * np.where(right, 2 * lean, np.where(ring == 1, 2 * (1 - lean), 1.0))
        confs.append(confusion_from_accuracy(float(rng.uniform(*accuracy)), k, errors=err))
        kinds.append("skilled")
    order = rng.permutation(n_workers)
    rates = np.exp(rng.normal(0.0, 0.5, n_workers))
    pool = AnnotatorPool(
        confusions=np.stack(confs)[order],
        kinds=np.asarray(kinds, dtype=object)[order],
        rates=rates / rates.sum(),
        costs=np.ones(n_workers),
    )
    return TestBed(name="toy5", truth=y.astype(np.int64), pool=pool, X=X)


def testbed_from_crowd(
    crowd: Any,
    *,
    n_items: int | None = None,
    n_workers: int = 100,
    jitter: float = 200.0,
    random_state: Any = None,
) -> TestBed:
    """A test bed whose annotators are fitted to a real crowd data set.

    Parameters
    ----------
    crowd : CrowdDataset
        From :func:`labelwise.datasets.load_crowd` or ``load_digits_crowd``.
    n_items : int, optional
        None keeps the data set's own items that have a known truth (and their
        features, when the data set has them); a number draws that many true classes
        from the crowd's estimated class prior (no features).
    n_workers : int
        Size of the simulated pool (see :func:`~labelwise.simulate.pool_from_annotations`).

    Returns
    -------
    TestBed
        Named after the data set.
    """
    from labelwise.simulate.pool import fitted_confusions, pool_from_annotations

    rng = check_random_state(random_state)
    ann = crowd.annotations
    truth = np.asarray(crowd.truth, dtype=np.int64)
    known = truth >= 0
    pool = pool_from_annotations(ann, n_workers, truth=truth, jitter=jitter, random_state=rng)
    if n_items is None:
        if not known.any():
            raise InputError(f"crowd data set {crowd.name!r} has no known truth; pass n_items.")
        X = None if crowd.X is None else np.asarray(crowd.X, dtype=np.float64)[known]
        return TestBed(name=crowd.name, truth=truth[known], pool=pool, X=X)
    check_number(n_items, "n_items", "testbed_from_crowd", kind=int, low=1)
    if known.any():
        prior = np.bincount(truth[known], minlength=ann.n_classes).astype(float)
    else:
        prior = fitted_confusions(ann)[2]
    y = rng.choice(ann.n_classes, size=n_items, p=prior / prior.sum())
    return TestBed(name=crowd.name, truth=y.astype(np.int64), pool=pool)
