"""Annotator confusion matrices, annotations from them, and label-noise injection.

An annotator is a confusion matrix ``C`` (K x K, rows the true class): given an
item of true class ``k`` they answer ``l`` with probability ``C[k, l]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise._validation import check_number, check_random_state
from labelwise.annotations import Annotations
from labelwise.errors import InputError

__all__ = [
    "adversary_confusion",
    "confusion_from_accuracy",
    "constant_confusion",
    "inject_noise",
    "simulate_annotations",
    "spammer_confusion",
]


def confusion_from_accuracy(
    accuracy: float, n_classes: int, *, errors: ArrayLike | None = None
) -> NDArray[np.float64]:
    """A confusion matrix with ``accuracy`` on the diagonal.

    Errors are spread over the other classes uniformly, or in proportion to the
    rows of ``errors`` (a K x K matrix of relative confusability, e.g. a
    classifier's confusion matrix), which gives asymmetric mistakes.
    """
    check_number(accuracy, "accuracy", "confusion_from_accuracy", low=0, high=1)
    k = n_classes
    if errors is None:
        off = np.ones((k, k))
    else:
        off = np.array(errors, dtype=float)
        if off.shape != (k, k):
            raise InputError(f"errors must have shape ({k}, {k}); got {off.shape}.")
    np.fill_diagonal(off, 0.0)
    row_sums = off.sum(axis=1, keepdims=True)
    off = np.where(row_sums > 0, off / np.where(row_sums > 0, row_sums, 1), 1.0 / (k - 1))
    np.fill_diagonal(off, 0.0)
    conf = off * (1 - accuracy)
    np.fill_diagonal(conf, accuracy)
    return conf


def spammer_confusion(n_classes: int) -> NDArray[np.float64]:
    """A uniform spammer: every answer is uniformly random, whatever the item."""
    return np.full((n_classes, n_classes), 1.0 / n_classes)


def constant_confusion(n_classes: int, answer: int = 0) -> NDArray[np.float64]:
    """An annotator who always gives the same answer."""
    conf = np.zeros((n_classes, n_classes))
    conf[:, answer] = 1.0
    return conf


def adversary_confusion(n_classes: int, accuracy: float = 0.05) -> NDArray[np.float64]:
    """An adversary: knows the answer and gives a wrong one (a fixed permutation)."""
    k = n_classes
    shift = np.roll(np.eye(k), 1, axis=1)
    conf = (1 - accuracy) * shift + accuracy * np.eye(k)
    return conf


def simulate_annotations(
    truth: ArrayLike,
    confusions: ArrayLike,
    *,
    per_item: int = 3,
    random_state: Any = None,
) -> Annotations:
    """Have ``per_item`` distinct random annotators label every item.

    Parameters
    ----------
    truth : array of int, shape (n_items,)
        True class codes ``0..K-1``.
    confusions : array, shape (n_workers, K, K)
        One confusion matrix per annotator.
    per_item : int
        Distinct annotators per item (at most ``n_workers``).

    Returns
    -------
    Annotations
        With integer ids ``0..n-1`` and classes ``0..K-1``.
    """
    rng = check_random_state(random_state)
    y = np.asarray(truth, dtype=np.int64)
    conf = np.asarray(confusions, dtype=float)
    n_workers, k = conf.shape[0], conf.shape[1]
    check_number(per_item, "per_item", "simulate_annotations", kind=int, low=1, high=n_workers)
    n = y.shape[0]
    # distinct workers per item: argsort of random keys, vectorised over items
    keys = rng.random((n, n_workers))
    workers = (
        np.argpartition(keys, per_item - 1, axis=1)[:, :per_item]
        if per_item < n_workers
        else (np.tile(np.arange(n_workers), (n, 1)))
    )
    item = np.repeat(np.arange(n), per_item)
    worker = workers.reshape(-1)
    probs = conf[worker, y[item]]
    cum = probs.cumsum(axis=1)
    u = rng.random(item.shape[0])[:, None]
    label = np.minimum((u > cum).sum(axis=1), k - 1)
    return Annotations.from_codes(item, worker, label, n_items=n, n_workers=n_workers, n_classes=k)


def inject_noise(
    labels: ArrayLike,
    rate: float | None = None,
    *,
    n_classes: int | None = None,
    noise_matrix: ArrayLike | None = None,
    per_class_rates: ArrayLike | None = None,
    random_state: Any = None,
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Corrupt a label vector; return ``(noisy_labels, flipped_mask)``.

    Exactly one of:

    - ``rate``: that fraction of items (rounded) gets a uniformly random *other* label;
    - ``noise_matrix``: K x K, rows the true class, ``P(noisy l | true k)``
      (class-conditional noise; the diagonal is the keep probability);
    - ``per_class_rates``: per true class, the rate of uniform flips.
    """
    rng = check_random_state(random_state)
    y = np.asarray(labels, dtype=np.int64)
    k = int(n_classes if n_classes is not None else y.max() + 1)
    given = sum(x is not None for x in (rate, noise_matrix, per_class_rates))
    if given != 1:
        raise InputError("inject_noise needs exactly one of rate, noise_matrix, per_class_rates.")
    noisy = y.copy()
    if rate is not None:
        check_number(rate, "rate", "inject_noise", low=0, high=1)
        n_flip = round(rate * y.shape[0])
        idx = rng.choice(y.shape[0], size=n_flip, replace=False)
        shift = rng.integers(1, k, size=n_flip)
        noisy[idx] = (y[idx] + shift) % k
    elif per_class_rates is not None:
        rates = np.asarray(per_class_rates, dtype=float)
        if rates.shape != (k,) or (rates < 0).any() or (rates > 1).any():
            raise InputError(f"per_class_rates must be {k} values in [0, 1]; got {rates}.")
        flip = rng.random(y.shape[0]) < rates[y]
        shift = rng.integers(1, k, size=int(flip.sum()))
        noisy[flip] = (y[flip] + shift) % k
    else:
        m = np.asarray(noise_matrix, dtype=float)
        if m.shape != (k, k) or (m < 0).any() or not np.allclose(m.sum(axis=1), 1):
            raise InputError(f"noise_matrix must be {k}x{k} with rows summing to one.")
        cum = m[y].cumsum(axis=1)
        u = rng.random(y.shape[0])[:, None]
        noisy = np.minimum((u > cum).sum(axis=1), k - 1)
    return noisy, noisy != y


def sample_answers(
    confusions: NDArray[np.floating],
    worker: NDArray[np.integer],
    truth: NDArray[np.integer],
    rng: np.random.Generator,
) -> NDArray[np.int64]:
    """Draw one answer per (worker, true class) pair: ``label ~ confusions[w, truth]``.

    Vectorised inverse-CDF sampling; callers have validated their inputs.
    """
    cum = confusions[worker, truth].cumsum(axis=1)
    u = rng.random(worker.shape[0])[:, None]
    return np.minimum((u > cum).sum(axis=1), confusions.shape[1] - 1).astype(np.int64)
