"""Learning curves: a model's score against the number of training labels.

Subsets are *nested* (the 200 items are the first 200 of the 400) and drawn again
for every seed, so the curve's shape is the effect of more data, not of a new
sample at every size. Every evaluation keeps its confusion matrix, so any
confusion-based metric (accuracy, per-class recall, macro F1) is available
afterwards without refitting; a user function is scored on the predictions.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from sklearn.base import clone

from labelwise._progress import ProgressCallback, report
from labelwise._validation import (
    check_features,
    check_number,
    check_random_state,
    check_same_length,
)
from labelwise.errors import InputError, ParameterError
from labelwise.scaling.estimators import describe_estimator, resolve_estimator

__all__ = ["METRICS", "LearningCurve", "learning_curve", "score_from_confusion"]

Metric = str | Callable[[NDArray[np.int64], NDArray[np.int64]], float]

#: The named metrics; each is computed from a confusion matrix (rows true class).
METRICS = ("accuracy", "balanced_accuracy", "macro_f1")


def score_from_confusion(confusion: NDArray[np.float64], metric: str) -> NDArray[np.float64]:
    """A named metric from confusion matrices of shape ``(..., K, K)`` (rows true class).

    Returns an array of shape ``(...)``. Classes absent from the test set are left
    out of the balanced accuracy and the macro F1 (they have no recall).
    """
    c = np.asarray(confusion, dtype=np.float64)
    diag = np.diagonal(c, axis1=-2, axis2=-1)
    total = c.sum(axis=(-2, -1))
    if metric == "accuracy":
        return diag.sum(axis=-1) / np.maximum(total, 1)
    support = c.sum(axis=-1)
    present = support > 0
    recall = np.where(present, diag / np.maximum(support, 1), 0.0)
    if metric == "balanced_accuracy":
        return recall.sum(axis=-1) / np.maximum(present.sum(axis=-1), 1)
    if metric == "macro_f1":
        predicted = c.sum(axis=-2)
        denom = support + predicted
        f1 = np.where(denom > 0, 2 * diag / np.maximum(denom, 1), 0.0)
        return (f1 * present).sum(axis=-1) / np.maximum(present.sum(axis=-1), 1)
    raise ParameterError(
        f"The 'metric' parameter must be one of {', '.join(map(repr, METRICS))} or a callable "
        f"(y_true, y_pred) -> float. Got {metric!r} instead."
    )


@dataclass(frozen=True)
class LearningCurve:
    """Scores of one estimator trained on nested subsets of growing size.

    Attributes
    ----------
    sizes : ndarray of int, shape (n_sizes,)
        Training labels at each point, increasing.
    scores : ndarray, shape (n_seeds, n_sizes)
        The metric for every seed (a new nested sequence of subsets) and size.
    confusion : ndarray, shape (n_seeds, n_sizes, K, K)
        Test confusion counts (rows the true class) behind every score.
    classes : ndarray, shape (K,)
        The class labels, in the order of the confusion's rows.
    metric : str
        The metric's name (``"custom"`` for a user function).
    n_available : int
        Training items the subsets were drawn from (the data you already have).
    model : str
        The estimator the curve is for (``describe_estimator``), "" when unknown.
    """

    sizes: NDArray[np.int64]
    scores: NDArray[np.float64]
    confusion: NDArray[np.float64]
    classes: NDArray[Any]
    metric: str
    n_available: int
    model: str = ""

    @property
    def mean(self) -> NDArray[np.float64]:
        """Mean score over seeds at each size, shape (n_sizes,)."""
        return self.scores.mean(axis=0)

    @property
    def std(self) -> NDArray[np.float64]:
        """Standard deviation over seeds at each size (0 with one seed)."""
        return self.scores.std(axis=0)

    @property
    def class_recall(self) -> NDArray[np.float64]:
        """Per-class recall, shape (n_seeds, n_sizes, K)."""
        diag = np.diagonal(self.confusion, axis1=-2, axis2=-1)
        return diag / np.maximum(self.confusion.sum(axis=-1), 1)

    def for_class(self, label: Any) -> LearningCurve:
        """The curve of one class's recall (which classes still gain from more data)."""
        hits = np.flatnonzero(self.classes == label)
        if hits.size == 0:
            raise InputError(f"class {label!r} is not one of {list(self.classes)}.")
        k = int(hits[0])
        return LearningCurve(
            sizes=self.sizes,
            scores=self.class_recall[:, :, k],
            confusion=self.confusion,
            classes=self.classes,
            metric=f"recall[{label}]",
            n_available=self.n_available,
            model=self.model,
        )

    def with_metric(self, metric: str) -> LearningCurve:
        """The same evaluations scored with another named metric (no refitting)."""
        return LearningCurve(
            sizes=self.sizes,
            scores=score_from_confusion(self.confusion, metric),
            confusion=self.confusion,
            classes=self.classes,
            metric=metric,
            n_available=self.n_available,
            model=self.model,
        )

    def truncate(self, max_size: int) -> LearningCurve:
        """The points with at most ``max_size`` labels (to test extrapolation)."""
        keep = self.sizes <= max_size
        if keep.sum() < 1:
            raise InputError(f"no size is <= max_size={max_size}; sizes are {list(self.sizes)}.")
        return LearningCurve(
            sizes=self.sizes[keep],
            scores=self.scores[:, keep],
            confusion=self.confusion[:, keep],
            classes=self.classes,
            metric=self.metric,
            n_available=self.n_available,
            model=self.model,
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per size: n, mean, std, min and max over seeds."""
        return pd.DataFrame(
            {
                "n": self.sizes,
                self.metric: self.mean,
                "std": self.std,
                "min": self.scores.min(axis=0),
                "max": self.scores.max(axis=0),
            }
        )


def _resolve_sizes(sizes: Any, n_pool: int, n_classes: int) -> NDArray[np.int64]:
    """Turn counts or fractions of the pool into sorted unique counts, with clear errors."""
    arr = np.atleast_1d(np.asarray(sizes, dtype=object))
    if arr.size == 0:
        raise InputError("sizes is empty; give training-set sizes (counts or fractions).")
    out = []
    for v in arr:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not np.isfinite(float(v)):
            raise InputError(f"sizes must be numbers; got {v!r}.")
        if isinstance(v, numbers.Integral) or float(v) > 1:
            if float(v) != int(v):
                raise InputError(f"size {v!r} is neither a whole count nor a fraction in (0, 1].")
            n = int(v)
        else:
            if float(v) <= 0:
                raise InputError(f"size {v!r} must be positive (a count or a fraction in (0, 1]).")
            n = round(float(v) * n_pool)
        if n <= 0:
            raise InputError(f"size {v!r} gives {n} training items; sizes must be positive.")
        if n > n_pool:
            raise InputError(
                f"size {v!r} asks for {n} training items but only {n_pool} are available."
            )
        if n < n_classes:
            raise InputError(
                f"size {v!r} gives {n} training items, fewer than the {n_classes} classes; "
                "every subset must hold one item of each class."
            )
        out.append(n)
    return np.unique(np.asarray(out, dtype=np.int64))


def _class_covering_order(y: NDArray[np.int64], rng: np.random.Generator) -> NDArray[np.int64]:
    """A random order of the pool whose first K items hold one item of each class, so
    that every nested subset of at least K items can train a K-class model."""
    perm = rng.permutation(y.shape[0])
    _, first = np.unique(y[perm], return_index=True)
    head = perm[np.sort(first)]
    rest = np.delete(perm, np.sort(first))
    return np.concatenate([rng.permutation(head), rest])


def _confusion(y_true: NDArray[np.int64], y_pred: NDArray[np.int64], k: int) -> NDArray[np.float64]:
    return np.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k).astype(np.float64)


def learning_curve(
    estimator: Any,
    X: ArrayLike,
    y: ArrayLike,
    sizes: Sequence[float] | ArrayLike,
    *,
    seeds: int | Sequence[int] = 5,
    metric: Metric = "accuracy",
    X_test: ArrayLike | None = None,
    y_test: ArrayLike | None = None,
    test_size: float = 0.25,
    rotate_test: bool = False,
    random_state: Any = 0,
    progress: ProgressCallback | None = None,
) -> LearningCurve:
    """Train ``estimator`` on nested random subsets of growing size and score each.

    Parameters
    ----------
    estimator : scikit-learn classifier, or a function returning one
        The model the curve is for (the one you will train): cloned for every fit;
        ``predict`` gives the labels scored. Its name is kept in ``LearningCurve.model``.
    X : array, shape (n, d)
    y : array, shape (n,)
        Labels (any hashable values); mapped to codes ``0..K-1`` internally.
    sizes : sequence of int or float
        Training-set sizes: counts (ints) or fractions of the training pool in (0, 1].
        Each must be at least the number of classes and at most the pool size.
    seeds : int or sequence of int
        How many repeats (or their seeds). Each repeat draws a new nested sequence.
    metric : {"accuracy", "balanced_accuracy", "macro_f1"} or callable
        A callable ``f(y_true_codes, y_pred_codes) -> float`` is scored on predictions;
        per-class recall is always available through :meth:`LearningCurve.for_class`.
    X_test, y_test : arrays, optional
        The test set. Without them a stratified ``test_size`` share of ``X`` is held out.
    rotate_test : bool
        Without a test set: give every seed another held-out fold (``round(1 /
        test_size)`` stratified folds, seed ``i`` scored on fold ``i``). A few hundred
        held-out labels shift the whole curve by a point or two; rotating the fold puts
        that noise between the seeds, where the fit's bootstrap sees it, instead of
        into every point alike. Sizes are counted against the smallest training part.
    random_state : int, Generator or None
        Seeds the held-out split and, with an int ``seeds``, the repeats.
    progress : callable, optional
        Called as ``progress("learning curve", fits_done, fits_total)`` after each fit.

    Returns
    -------
    LearningCurve
        Scores (n_seeds, n_sizes) and the confusion matrix behind each.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = load_digits(return_X_y=True)
    >>> curve = learning_curve(LogisticRegression(max_iter=300), X / 16, y, [50, 100, 200],
    ...                        seeds=2)
    >>> curve.scores.shape
    (2, 3)
    """
    base = resolve_estimator(estimator, owner="learning_curve's estimator")
    Xa = check_features(X)
    ya = np.asarray(y)
    check_same_length(X=Xa, y=ya)
    rng = check_random_state(random_state)
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        check_number(seeds, "seeds", "learning_curve", kind=int, low=1)
        seed_list = [int(s) for s in rng.integers(0, 2**31 - 1, size=int(seeds))]
    else:
        seed_list = [int(s) for s in seeds]  # type: ignore[union-attr]
        if not seed_list:
            raise InputError("seeds is empty; give a count or a list of seeds.")
    if rotate_test and X_test is None:
        check_number(test_size, "test_size", "learning_curve", low=0, high=0.5, low_open=True)
        classes, codes = np.unique(ya, return_inverse=True)
        folds = _stratified_folds(codes, max(2, round(1 / test_size)), rng)
        splits = [
            (Xa[folds != f], codes[folds != f], Xa[folds == f], codes[folds == f])
            for f in (np.arange(len(seed_list)) % (folds.max() + 1))
        ]
    else:
        classes, Xtr, ytr, Xte, yte = train_test_codes(
            Xa, ya, X_test, y_test, test_size=test_size, rng=rng, owner="learning_curve"
        )
        splits = [(Xtr, ytr, Xte, yte)] * len(seed_list)
    k = classes.shape[0]
    if k < 2:
        raise InputError(f"y holds a single class ({classes[0]!r}); a curve needs two or more.")
    pool = min(sp[1].shape[0] for sp in splits)
    n_sizes = _resolve_sizes(sizes, pool, min(int(np.unique(sp[1]).shape[0]) for sp in splits))
    if isinstance(metric, str):
        score_from_confusion(np.zeros((k, k)), metric)  # validates the name
    elif not callable(metric):
        raise ParameterError(f"metric must be a name or a callable; got {metric!r}.")
    scores = np.empty((len(seed_list), n_sizes.shape[0]))
    conf = np.empty((len(seed_list), n_sizes.shape[0], k, k))
    n_fits = len(seed_list) * n_sizes.shape[0]
    report(progress, "learning curve", 0, n_fits)
    for i, seed in enumerate(seed_list):
        Xtr, ytr, Xte, yte = splits[i]
        order = _class_covering_order(ytr, np.random.default_rng(seed))
        for j, n in enumerate(n_sizes):
            idx = order[:n]
            model = clone(base)
            if "random_state" in model.get_params():
                model.set_params(random_state=seed)
            model.fit(Xtr[idx], ytr[idx])
            pred = np.asarray(model.predict(Xte)).astype(np.int64)
            conf[i, j] = _confusion(yte, pred, k)
            scores[i, j] = (
                float(metric(yte, pred))
                if callable(metric)
                else float(score_from_confusion(conf[i, j], metric))
            )
            report(progress, "learning curve", i * n_sizes.shape[0] + j + 1, n_fits)
    return LearningCurve(
        sizes=n_sizes,
        scores=scores,
        confusion=conf,
        classes=classes,
        metric=metric if isinstance(metric, str) else "custom",
        n_available=int(pool),
        model=describe_estimator(base),
    )


def train_test_codes(
    Xa: NDArray[np.floating],
    ya: NDArray[Any],
    X_test: ArrayLike | None,
    y_test: ArrayLike | None,
    *,
    test_size: float,
    rng: np.random.Generator,
    owner: str,
) -> tuple[
    NDArray[Any], NDArray[np.floating], NDArray[np.int64], NDArray[np.floating], NDArray[np.int64]
]:
    """``(classes, X_train, y_train, X_test, y_test)`` with labels as class codes.

    Without ``X_test``, a stratified ``test_size`` share of ``Xa`` is held out;
    with it, the given test set is checked (labels present, lengths, feature count)
    and both label vectors share one class coding. Learning curves and the
    noise-vs-volume study split the same way through this one function.
    """
    if X_test is None:
        check_number(test_size, "test_size", owner, low=0, high=1, low_open=True, high_open=True)
        classes, codes = np.unique(ya, return_inverse=True)
        mask = _stratified_test_mask(codes, test_size, rng)
        return classes, Xa[~mask], codes[~mask], Xa[mask], codes[mask]
    if y_test is None:
        raise InputError("X_test was given without y_test.")
    Xte = check_features(X_test, "X_test")
    yte_raw = np.asarray(y_test)
    check_same_length(X_test=Xte, y_test=yte_raw)
    if Xte.shape[1] != Xa.shape[1]:
        raise InputError(f"X_test has {Xte.shape[1]} features but X has {Xa.shape[1]}.")
    classes, codes_all = np.unique(np.concatenate([ya, yte_raw]), return_inverse=True)
    return classes, Xa, codes_all[: ya.shape[0]], Xte, codes_all[ya.shape[0] :]


def _stratified_test_mask(
    codes: NDArray[np.int64], test_size: float, rng: np.random.Generator
) -> NDArray[np.bool_]:
    """Hold out ``test_size`` of every class (at least one item of a class with two or more)."""
    mask = np.zeros(codes.shape[0], dtype=bool)
    keys = rng.random(codes.shape[0])
    order = np.lexsort((keys, codes))
    counts = np.bincount(codes)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    take = np.where(counts >= 2, np.maximum(1, np.round(counts * test_size)), 0).astype(int)
    rank = np.arange(codes.shape[0]) - np.repeat(starts, counts)
    mask[order[rank < np.repeat(take, counts)]] = True
    return mask


def _stratified_folds(codes: NDArray[np.int64], n_folds: int, rng: np.random.Generator) -> Any:
    """A fold number for every item, each class spread evenly over the folds."""
    keys = rng.random(codes.shape[0])
    order = np.lexsort((keys, codes))
    counts = np.bincount(codes)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(codes.shape[0]) - np.repeat(starts, counts)
    offset = np.repeat(rng.integers(0, n_folds, counts.shape[0]), counts)
    folds = np.empty(codes.shape[0], dtype=np.int64)
    folds[order] = (rank + offset) % n_folds
    return folds
