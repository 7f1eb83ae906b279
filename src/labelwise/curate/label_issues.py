"""Label issues: which given labels are probably wrong, found by confident learning.

The model's *out-of-fold* predicted probabilities (each item scored by a model that
never saw it) are compared with the given labels (Northcutt, Jiang and Chuang,
"Confident learning", JAIR 2021):

1. per-class thresholds ``t[j]`` = the mean predicted probability of class ``j``
   over the items *given* label ``j`` (the model's self-confidence on that class);
2. the *confident joint* ``C[i, j]``: items given label ``i`` whose probability of
   ``j`` reaches ``t[j]`` (the highest such ``j`` when several do), calibrated so
   that row ``i`` sums to the number of items given ``i``;
3. the estimated joint of (given, true) labels and the noise matrix
   ``P(given i | true j)`` follow from it, and its off-diagonal mass is the
   estimated number of label errors.

Which items are flagged (``filter_by``):

- ``"class"``: per given class ``i``, the ``n_i - C[i, i]`` items with the lowest
  self-confidence ``p[i]``;
- ``"noise_rate"``: per off-diagonal cell ``(i, j)``, the ``C[i, j]`` items given
  ``i`` with the largest margin ``p[j] - p[i]``;
- ``"both"``: items flagged by both;
- ``"confident"``: the items counted off the diagonal of the confident joint;
- ``"argmax"``: the model's top class differs from the given label;
- ``"posterior"``: Bayes' decision under the estimated noise: the model's
  probabilities are de-noised (:func:`clean_posterior`) and an item is flagged when
  its given label is more likely wrong than right (:func:`label_posterior` < 0.5);
- ``"auto"`` (default): ``"posterior"``, plus the items every confident-learning
  view agrees on; see :func:`find_label_issues`.

No rule is told the true number of flipped labels: every count comes from the
confident joint, which only sees the given labels and the probabilities.

Example
-------
>>> import numpy as np
>>> from labelwise.curate import find_label_issues
>>> labels = np.array([0, 0, 0, 1, 1, 1])
>>> proba = np.array([[.9, .1], [.8, .2], [.1, .9], [.2, .8], [.1, .9], [.3, .7]])
>>> find_label_issues(labels, proba).is_issue.tolist()
[False, False, True, False, False, False]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise._progress import ProgressCallback, report
from labelwise._validation import (
    check_features,
    check_number,
    check_option,
    check_proba,
    check_same_length,
)
from labelwise.curate.error_count import ErrorCount, error_count_range
from labelwise.errors import InputError

__all__ = [
    "FILTERS",
    "LabelIssues",
    "check_labels",
    "class_thresholds",
    "clean_posterior",
    "confident_joint",
    "estimate_joint",
    "find_label_issues",
    "label_posterior",
    "label_quality",
    "noise_matrix",
    "out_of_fold_proba",
]

FILTERS = ("auto", "posterior", "class", "noise_rate", "both", "confident", "argmax")
Filter = Literal["auto", "posterior", "class", "noise_rate", "both", "confident", "argmax"]


def check_labels(labels: ArrayLike, n_classes: int, name: str = "labels") -> NDArray[np.int64]:
    """Return ``labels`` as int codes in ``0..n_classes-1``, naming the first bad row."""
    raw = np.asarray(labels)
    if raw.ndim != 1:
        raise InputError(f"{name} must be 1-D; got shape {raw.shape}.")
    if raw.dtype.kind == "f":
        bad_nan = ~np.isfinite(raw)
        if bad_nan.any():
            row = int(np.flatnonzero(bad_nan)[0])
            raise InputError(f"{name} row {row} is {raw[row]}: every item needs a label.")
        if (raw != np.round(raw)).any():
            row = int(np.flatnonzero(raw != np.round(raw))[0])
            raise InputError(f"{name} row {row} is {raw[row]}, not a class code.")
    if raw.dtype.kind not in "iuf":
        raise InputError(
            f"{name} must be integer class codes 0..{n_classes - 1}; got dtype {raw.dtype}."
        )
    y = raw.astype(np.int64)
    bad = (y < 0) | (y >= n_classes)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{name} row {row} is {y[row]}, outside the {n_classes} classes (0..{n_classes - 1})."
        )
    return y


def _check(labels: ArrayLike, proba: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    p = check_proba(proba, "proba")
    y = np.asarray(labels)
    check_same_length(labels=y, proba=p)
    return check_labels(y, p.shape[1]), p


def out_of_fold_proba(
    X: ArrayLike,
    labels: ArrayLike,
    *,
    estimator: Any = None,
    n_splits: int = 5,
    random_state: int | None = 0,
    progress: ProgressCallback | None = None,
) -> NDArray[np.float64]:
    """Out-of-fold predicted probabilities: each row scored by a model that never saw it.

    Parameters
    ----------
    X : array (n, d)
        Features. NaN or infinite values are an error naming the row.
    labels : array (n,)
        Given class codes ``0..K-1``.
    estimator : scikit-learn classifier with ``predict_proba``, optional
        Cloned for every fold. Default: ``StandardScaler`` + ``LogisticRegression``.
    n_splits : int
        Stratified folds (at most the smallest class count; at least 2).
    random_state : int or None
        Seed of the fold shuffle.
    progress : callable, optional
        Called as ``progress("out-of-fold model", folds_done, n_folds)`` after each fold.

    Returns
    -------
    ndarray (n, K)
        Rows sum to one; column ``k`` is class ``k`` even if a fold missed it.
    """
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold

    Xa = check_features(X, "X")
    y = np.asarray(labels)
    check_same_length(X=Xa, labels=y)
    k = int(y.max()) + 1 if y.size and y.dtype.kind in "iu" else 0
    y = check_labels(y, max(k, 2))
    check_number(n_splits, "n_splits", "out_of_fold_proba", kind=int, low=2)
    counts = np.bincount(y, minlength=k)
    splits = int(min(n_splits, counts[counts > 0].min()))
    if splits < 2:
        raise InputError(
            "labels: every class needs at least 2 items for out-of-fold probabilities."
        )
    if estimator is None:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        estimator = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    out = np.zeros((y.shape[0], k))
    folds = StratifiedKFold(splits, shuffle=True, random_state=random_state)
    report(progress, "out-of-fold model", 0, splits)
    for fold, (train, test) in enumerate(folds.split(Xa, y), start=1):
        model = clone(estimator).fit(Xa[train], y[train])
        cols = np.asarray(model.classes_, dtype=np.int64)
        out[np.ix_(test, cols)] = model.predict_proba(Xa[test])
        report(progress, "out-of-fold model", fold, splits)
    out /= out.sum(axis=1, keepdims=True)
    return out


def class_thresholds(labels: ArrayLike, proba: ArrayLike) -> NDArray[np.float64]:
    """Per-class thresholds ``t[j]``: mean ``proba[:, j]`` over the items given label ``j``.

    A class with no item keeps threshold 1 (nothing can reach it by chance).
    """
    y, p = _check(labels, proba)
    return _thresholds(y, p)


def _thresholds(y: NDArray[np.int64], p: NDArray[np.float64]) -> NDArray[np.float64]:
    k = p.shape[1]
    counts = np.bincount(y, minlength=k).astype(float)
    sums = np.zeros(k)
    np.add.at(sums, y, p[np.arange(y.shape[0]), y])
    return np.where(counts > 0, sums / np.maximum(counts, 1), 1.0)


def _confident_assignment(
    y: NDArray[np.int64], p: NDArray[np.float64], t: NDArray[np.float64]
) -> NDArray[np.int64]:
    """Each item's confident class (the most probable class at or above its threshold),
    ``-1`` when no class reaches its threshold."""
    above = p >= t[None, :] - 1e-12
    masked = np.where(above, p, -1.0)
    j = masked.argmax(axis=1)
    return np.where(above.any(axis=1), j, -1)


def confident_joint(
    labels: ArrayLike, proba: ArrayLike, *, calibrate: bool = True
) -> NDArray[np.float64]:
    """The confident joint ``C[i, j]``: items given ``i`` confidently in class ``j``.

    With ``calibrate`` (default) each row is rescaled to the number of items given
    label ``i``, so the matrix sums to ``n`` and estimates counts of (given, true)
    pairs. Shape (K, K).
    """
    y, p = _check(labels, proba)
    return _joint_counts(y, p, calibrate=calibrate)


def _joint_counts(
    y: NDArray[np.int64], p: NDArray[np.float64], *, calibrate: bool = True
) -> NDArray[np.float64]:
    k = p.shape[1]
    j = _confident_assignment(y, p, _thresholds(y, p))
    ok = j >= 0
    raw = np.bincount(y[ok] * k + j[ok], minlength=k * k).reshape(k, k).astype(float)
    if not calibrate:
        return raw
    given = np.bincount(y, minlength=k).astype(float)
    row = raw.sum(axis=1)
    # a class whose items all fall below every threshold counts as correct
    empty = row == 0
    raw[empty, :] = 0.0
    raw[empty, np.flatnonzero(empty)] = 1.0
    row = raw.sum(axis=1)
    return raw / row[:, None] * given[:, None]


def estimate_joint(labels: ArrayLike, proba: ArrayLike) -> NDArray[np.float64]:
    """The estimated joint distribution ``P(given i, true j)``, (K, K), summing to one."""
    cj = confident_joint(labels, proba)
    return cj / cj.sum()


def noise_matrix(labels: ArrayLike, proba: ArrayLike) -> NDArray[np.float64]:
    """The estimated noise matrix ``P(given i | true j)``, (K, K); columns sum to one.

    A true class no item is confidently in gets the identity column.
    """
    return _noise_from_joint(estimate_joint(labels, proba))


def label_quality(
    labels: ArrayLike,
    proba: ArrayLike,
    *,
    method: Literal["self_confidence", "normalized_margin"] = "self_confidence",
) -> NDArray[np.float64]:
    """A score in [0, 1] per item; low means the given label is probably wrong.

    ``"self_confidence"``: ``p[given]``. ``"normalized_margin"``:
    ``(p[given] - max_{j != given} p[j] + 1) / 2``, which also looks at how strongly
    another class is preferred.
    """
    check_option(method, "method", "label_quality", ("self_confidence", "normalized_margin"))
    y, p = _check(labels, proba)
    return _quality(y, p, method)


def _quality(y: NDArray[np.int64], p: NDArray[np.float64], method: str) -> NDArray[np.float64]:
    rows = np.arange(y.shape[0])
    self_conf = p[rows, y]
    if method == "self_confidence":
        return self_conf
    other = p.copy()
    other[rows, y] = -np.inf
    return (self_conf - other.max(axis=1) + 1.0) / 2.0


@dataclass(frozen=True)
class LabelIssues:
    """What :func:`find_label_issues` found.

    Attributes
    ----------
    is_issue : ndarray of bool (n,)
        Flagged items.
    ranking : ndarray of int
        The flagged items' indices, most likely wrong first (lowest ``quality``).
    quality : ndarray (n,)
        Label quality of every item (see :func:`label_quality`); low = suspicious.
    self_confidence, normalized_margin : ndarray (n,)
        The two scores behind ``quality``.
    suggested : ndarray of int (n,)
        The most probable class other than the given one for flagged items
        (the model's top class otherwise).
    joint : ndarray (K, K)
        The calibrated confident joint (given rows, true columns), in item counts.
    noise : ndarray (K, K)
        Estimated ``P(given i | true j)``.
    thresholds : ndarray (K,)
        Per-class thresholds.
    n_estimated : int
        Estimated number of label errors (off-diagonal mass of ``joint``).
    filter_by : str
        The rule that produced ``is_issue``.
    count : ErrorCount or None
        The number of label errors as a range (:func:`error_count_range`): one
        number is not to be believed on real noise with a weak model.
    """

    is_issue: NDArray[np.bool_]
    ranking: NDArray[np.int64]
    quality: NDArray[np.float64]
    self_confidence: NDArray[np.float64]
    normalized_margin: NDArray[np.float64]
    suggested: NDArray[np.int64]
    joint: NDArray[np.float64]
    noise: NDArray[np.float64]
    thresholds: NDArray[np.float64]
    n_estimated: int
    filter_by: str
    count: ErrorCount | None = None

    @property
    def n_issues(self) -> int:
        """Number of flagged items."""
        return int(self.is_issue.sum())


def _round_counts(c: NDArray[np.float64]) -> NDArray[np.int64]:
    return np.rint(c).astype(np.int64)


def _prune_by_class(
    y: NDArray[np.int64], p: NDArray[np.float64], joint: NDArray[np.float64]
) -> NDArray[np.bool_]:
    """Per given class i, the n_i - C[i, i] items with the lowest p[i]."""
    n = y.shape[0]
    k = p.shape[1]
    n_remove = _round_counts(joint.sum(axis=1) - np.diag(joint))
    sc = p[np.arange(n), y]
    order = np.lexsort((sc, y))  # by class, then self-confidence ascending
    starts = np.searchsorted(y[order], np.arange(k))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - starts[y[order]]
    return rank < n_remove[y]


def _prune_by_noise_rate(
    y: NDArray[np.int64], p: NDArray[np.float64], joint: NDArray[np.float64]
) -> NDArray[np.bool_]:
    """Per off-diagonal (i, j), the C[i, j] items given i with the largest p[j] - p[i]."""
    n, k = p.shape
    counts = _round_counts(joint)
    np.fill_diagonal(counts, 0)
    flag = np.zeros(n, dtype=bool)
    rows = np.arange(n)
    for i in range(k):  # loop over classes (K), not items
        members = rows[y == i]
        if members.size == 0:
            continue
        margins = p[members] - p[members, i][:, None]
        for j in np.flatnonzero(counts[i]):
            m = int(min(counts[i, j], members.size))
            top = np.argpartition(-margins[:, j], m - 1)[:m]
            flag[members[top]] = True
    return flag


def label_posterior(
    y: NDArray[np.int64], p: NDArray[np.float64], noise: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Noise-aware probability that each given label is correct.

    With ``T = noise`` (``P(given i | true j)``) and the model's ``p`` read as
    ``P(true j | x)``, Bayes' rule gives
    ``P(true = g | given = g, x) = T[g, g] p[g] / sum_j T[g, j] p[j]``. An item
    given a class that the estimated noise often produces from its likely true
    class scores low even when ``p[g]`` is not tiny, which is what class-
    conditional noise looks like.
    """
    rows = np.arange(y.shape[0])
    num = noise[y, y] * p[rows, y]
    den = (noise[y, :] * p).sum(axis=1)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def clean_posterior(p: NDArray[np.float64], noise: NDArray[np.float64]) -> NDArray[np.float64]:
    """Undo the label noise the model learned: solve ``noise @ q = p`` for each row.

    A model fitted on noisy labels predicts the *given* label's distribution,
    ``p = T q`` with ``q`` the true-class distribution; the solution is clipped at
    a small positive value and renormalised (a least-squares solve when ``T`` is
    singular).
    """
    q = (np.linalg.pinv(noise) @ p.T).T
    q = np.clip(q, 1e-6, None)
    out: NDArray[np.float64] = q / q.sum(axis=1, keepdims=True)
    return out


def _posterior_rule(
    y: NDArray[np.int64], p: NDArray[np.float64], joint: NDArray[np.float64]
) -> NDArray[np.bool_]:
    noise = _noise_from_joint(joint)
    flags: NDArray[np.bool_] = label_posterior(y, clean_posterior(p, noise), noise) < 0.5
    return flags


def _auto(
    y: NDArray[np.int64], p: NDArray[np.float64], joint: NDArray[np.float64]
) -> NDArray[np.bool_]:
    """Default rule; see :func:`find_label_issues`."""
    n_est = round(joint.sum() - np.trace(joint))
    post = label_posterior(y, p, _noise_from_joint(joint))
    lowest = np.zeros(y.shape[0], dtype=bool)
    lowest[np.argsort(post, kind="stable")[:n_est]] = True
    agreed = (
        lowest
        & _prune_by_class(y, p, joint)
        & _prune_by_noise_rate(y, p, joint)
        & (p.argmax(axis=1) != y)
    )
    return _posterior_rule(y, p, joint) | agreed


def _noise_from_joint(joint: NDArray[np.float64]) -> NDArray[np.float64]:
    col = joint.sum(axis=0)
    out = np.where(col > 0, joint / np.where(col > 0, col, 1.0), 0.0)
    out[:, col == 0] = np.eye(joint.shape[0])[:, col == 0]
    return out


def find_label_issues(
    labels: ArrayLike,
    proba: ArrayLike,
    *,
    filter_by: Filter = "auto",
    rank_by: Literal["self_confidence", "normalized_margin"] = "self_confidence",
) -> LabelIssues:
    """Flag the items whose given label is probably wrong, and rank them.

    Parameters
    ----------
    labels : array (n,)
        Given class codes ``0..K-1``.
    proba : array (n, K)
        Out-of-fold predicted probabilities (:func:`out_of_fold_proba`); rows must
        sum to one.
    filter_by : {"auto", "posterior", "class", "noise_rate", "both", "confident", "argmax"}
        Which items to flag (module docstring). ``"auto"``, the default, flags an
        item when

        - its given label is more likely wrong than right under the estimated
          noise (``"posterior"``: the model's probabilities de-noised with the
          estimated noise matrix, then Bayes' rule, threshold 0.5), or
        - every confident-learning view agrees: it is among the ``n_estimated``
          items least likely correct (:func:`label_posterior`), both prunings
          (``"class"`` and ``"noise_rate"``) flag it, and the model's top class is
          not the given label.

        No step sees the true number of errors: counts come from the confident
        joint, the threshold is the Bayes decision boundary. The first part
        handles class-conditional noise and weak models (it flags fewer items when
        the model is unsure); the second recovers clear errors that de-noising
        leaves just above 0.5 when the noise is uniform.
    rank_by : {"self_confidence", "normalized_margin"}
        Score that orders ``ranking`` and fills ``quality``.

    Returns
    -------
    LabelIssues
        Flags, ranking, scores, suggested labels and the noise estimates.

    Raises
    ------
    InputError
        Lengths differ, a label is outside ``0..K-1``, or a row of ``proba`` is
        not a probability distribution.
    """
    check_option(filter_by, "filter_by", "find_label_issues", FILTERS)
    check_option(rank_by, "rank_by", "find_label_issues", ("self_confidence", "normalized_margin"))
    y, p = _check(labels, proba)
    n = y.shape[0]
    joint = _joint_counts(y, p)
    rules = {
        "class": _prune_by_class,
        "noise_rate": _prune_by_noise_rate,
        "both": lambda y, p, j: _prune_by_class(y, p, j) & _prune_by_noise_rate(y, p, j),
        "auto": _auto,
        "posterior": _posterior_rule,
    }
    if filter_by == "argmax":
        flag = p.argmax(axis=1) != y
    elif filter_by == "confident":
        cj = _confident_assignment(y, p, _thresholds(y, p))
        flag = (cj >= 0) & (cj != y)
    else:
        flag = rules[filter_by](y, p, joint)
    sc = _quality(y, p, "self_confidence")
    nm = _quality(y, p, "normalized_margin")
    quality = sc if rank_by == "self_confidence" else nm
    others = p.copy()
    others[np.arange(n), y] = -np.inf
    suggested = np.where(flag, others.argmax(axis=1), p.argmax(axis=1)).astype(np.int64)
    idx = np.flatnonzero(flag)
    ranking = idx[np.argsort(quality[idx], kind="stable")].astype(np.int64)
    noise = _noise_from_joint(joint)
    return LabelIssues(
        is_issue=flag,
        ranking=ranking,
        quality=quality,
        self_confidence=sc,
        normalized_margin=nm,
        suggested=suggested,
        joint=joint,
        noise=noise,
        thresholds=_thresholds(y, p),
        n_estimated=round(joint.sum() - np.trace(joint)),
        filter_by=filter_by,
        count=error_count_range(y, p),
    )
