"""One pass over a data set: every detector, one summary, one row per flagged item.

:func:`audit_dataset` is what ``labelwise audit`` and the report call.

Label issues are only as good as the model whose out-of-fold predictions they are
built on: a model that cannot predict the labels disagrees with most of them, and
confident learning then "finds" hundreds of errors that are the model's own (raw
LabelMe pixels: out-of-fold accuracy 0.21, 951 of 1,000 items flagged). So the audit
first checks the model (:func:`check_label_model`) and, when it is no better than a
baseline, reports why and flags no label issue instead of flagging en masse.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from labelwise._progress import ProgressCallback, report
from labelwise._tables import _py, normalise_class_names
from labelwise._validation import check_features, check_same_length
from labelwise.annotations import Annotations
from labelwise.curate._knn import nearest_neighbors
from labelwise.curate.balance import class_balance
from labelwise.curate.crowd import CrowdQuality, consensus_quality
from labelwise.curate.duplicates import (
    DEFAULT_THRESHOLD,
    Duplicates,
    Leakage,
    exact_duplicates,
    find_leakage,
    find_near_duplicates,
)
from labelwise.curate.error_count import error_count_range
from labelwise.curate.label_issues import LabelIssues, find_label_issues, out_of_fold_proba
from labelwise.curate.outliers import Outliers, find_outliers
from labelwise.errors import InputError, WeakModelWarning

__all__ = ["AuditReport", "LabelModelCheck", "audit_dataset", "check_label_model"]

#: Above this estimated share of wrong labels the check is not believed: a model that
#: calls most labels wrong is more likely wrong itself (it learned from those labels).
MAX_ERROR_SHARE = 0.5


@dataclass(frozen=True)
class LabelModelCheck:
    """Whether the model behind the label-issue check can be trusted.

    Attributes
    ----------
    accuracy : float
        Out-of-fold accuracy against the given labels.
    accuracy_low : float
        Its 95% lower bound (Wilson score interval).
    baseline : float
        Accuracy of always answering the most frequent given class.
    error_share : float
        Share of labels the confident joint estimates wrong.
    trusted : bool
        ``accuracy_low > baseline`` and ``error_share < MAX_ERROR_SHARE``.
    reason : str
        One sentence for the user, saying why when not trusted.
    """

    accuracy: float
    accuracy_low: float
    baseline: float
    error_share: float
    trusted: bool
    reason: str


def check_label_model(labels: ArrayLike, proba: ArrayLike, n_estimated: int) -> LabelModelCheck:
    """Test the model behind a label-issue check against the majority-class baseline.

    The model must beat always answering the most frequent class with 95% confidence
    (the Wilson lower bound of its out-of-fold accuracy above the majority share), and
    the check must not call half or more of the labels wrong (``n_estimated``, from the
    confident joint). Either failure means disagreement with the labels is better
    explained by a weak model than by wrong labels.

    Returns
    -------
    LabelModelCheck
    """
    y = np.asarray(labels, dtype=np.int64)
    p = np.asarray(proba, dtype=np.float64)
    n = y.shape[0]
    acc = float(np.mean(p.argmax(axis=1) == y)) if n else 0.0
    base = float(np.bincount(y).max() / n) if n else 1.0
    z = 1.959964
    centre = (acc + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(acc * (1 - acc) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low = float(max(centre - half, 0.0))
    share = n_estimated / n if n else 0.0
    if low <= base:
        reason = (
            f"the model's out-of-fold accuracy {acc:.3f} is no better than always answering "
            f"the most frequent class ({base:.3f}): the label-issue check is not trustworthy "
            "and flags nothing; use better features (e.g. embeddings) or another estimator."
        )
        trusted = False
    elif share >= MAX_ERROR_SHARE:
        reason = (
            f"the check would call {share:.0%} of the labels wrong with a model of out-of-fold "
            f"accuracy {acc:.3f}: it cannot tell wrong labels from its own mistakes, so it is "
            "not trustworthy and flags nothing; use better features or another estimator."
        )
        trusted = False
    else:
        reason = (
            f"model out-of-fold accuracy {acc:.3f} (95% lower bound {low:.3f}) beats the "
            f"most-frequent-class baseline {base:.3f}."
        )
        trusted = True
    return LabelModelCheck(acc, low, base, share, trusted, reason)


@dataclass(frozen=True)
class AuditReport:
    """Everything :func:`audit_dataset` found.

    ``summary`` has one row per issue type (``issue``, ``count``, ``share``);
    ``issues`` one row per flagged item and issue (``row``, ``id``, ``issue``,
    ``score``, ``given``, ``suggested``, ``related``: the duplicate's or train match's
    row), most severe first within each issue.
    """

    summary: pd.DataFrame
    issues: pd.DataFrame
    label_issues: LabelIssues | None
    outliers: Outliers
    exact: Duplicates
    near: Duplicates
    leakage: Leakage | None
    balance: pd.DataFrame | None
    crowd: CrowdQuality | None
    proba: NDArray[np.float64] | None
    model_check: LabelModelCheck | None = None


def audit_dataset(
    X: ArrayLike,
    labels: ArrayLike | None = None,
    *,
    ids: ArrayLike | None = None,
    X_test: ArrayLike | None = None,
    annotations: Annotations | None = None,
    proba: ArrayLike | None = None,
    estimator: Any = None,
    n_splits: int = 5,
    duplicate_threshold: float = DEFAULT_THRESHOLD,
    random_state: int = 0,
    progress: ProgressCallback | None = None,
) -> AuditReport:
    """Run label issues, outliers, duplicates, leakage, balance and crowd quality.

    Parameters
    ----------
    X : array (n, d)
        Features or embeddings.
    labels : array (n,), optional
        Given labels (any hashable names; missing values are an error).
    ids : array (n,), optional
        Item ids for the output (default: row numbers).
    X_test : array (m, d), optional
        A test set checked for leakage from ``X``.
    annotations : Annotations, optional
        Crowd answers whose ``item_ids`` are ``ids``; adds consensus quality.
    proba : array (n, K), optional
        Out-of-fold probabilities (columns in sorted class order); computed with
        ``estimator`` (default: scaled logistic regression) when omitted.
    progress : callable, optional
        ``progress(stage, done, total)`` as the stages run (see :mod:`labelwise._progress`).

    Returns
    -------
    AuditReport
        ``model_check`` says whether the label-issue model beats the majority-class
        baseline; when it does not, no item is flagged as a label issue and a
        :class:`~labelwise.errors.WeakModelWarning` says why.
    """
    Xa = check_features(X, "X")
    n = Xa.shape[0]
    id_arr = np.arange(n) if ids is None else np.asarray(ids)
    check_same_length(X=Xa, ids=id_arr)
    rows: list[pd.DataFrame] = []
    summary: list[tuple[str, int]] = []
    issues_found: LabelIssues | None = None
    balance = None
    given_names: NDArray[Any] = np.full(n, None, dtype=object)
    classes: NDArray[Any] = np.asarray([])
    p: NDArray[np.float64] | None = None
    check: LabelModelCheck | None = None
    if labels is not None:
        lab = pd.Series(np.asarray(labels, dtype=object))
        check_same_length(X=Xa, labels=lab)
        if lab.isna().any():
            row = int(np.flatnonzero(lab.isna().to_numpy())[0])
            raise InputError(
                f"labels row {row} (id {_py(id_arr[row])!r}) is missing; "
                "audit needs every item labeled."
            )
        lab = normalise_class_names(lab, column="labels")
        codes, uniq = pd.factorize(lab, sort=True)
        classes = np.asarray(uniq, dtype=object)
        given_names = lab.to_numpy()
        balance = class_balance(given_names)
        if proba is None:
            p = out_of_fold_proba(
                Xa,
                codes,
                estimator=estimator,
                n_splits=n_splits,
                random_state=random_state,
                progress=progress,
            )
        else:
            p = np.asarray(proba, dtype=np.float64)
        issues_found = find_label_issues(codes, p)
        check = check_label_model(codes, p, issues_found.n_estimated)
        issues_found = dataclasses.replace(
            issues_found, count=error_count_range(codes, p, trusted=check.trusted)
        )
        if not check.trusted:
            warnings.warn(check.reason, WeakModelWarning, stacklevel=2)
        r = issues_found.ranking if check.trusted else np.zeros(0, dtype=np.int64)
        rows.append(
            pd.DataFrame(
                {
                    "row": r,
                    "issue": "label_issue",
                    "score": 1.0 - issues_found.quality[r],
                    "given": given_names[r],
                    "suggested": classes[issues_found.suggested[r]],
                    "related": -1,
                }
            )
        )
        summary.append(("label_issue", issues_found.n_issues if check.trusted else 0))
        summary.append(("rare_class", int(balance["rare"].sum())))
    stages = 3 + (X_test is not None) + (annotations is not None)
    report(progress, "neighbours, outliers, duplicates", 0, stages)
    nb = nearest_neighbors(Xa, 10, metric="cosine")
    report(progress, "neighbours, outliers, duplicates", 1, stages)
    outl = find_outliers(neighbors=nb)
    near = find_near_duplicates(neighbors=nb, threshold=duplicate_threshold)
    report(progress, "neighbours, outliers, duplicates", 2, stages)
    exact = exact_duplicates(Xa)
    report(progress, "neighbours, outliers, duplicates", 3, stages)
    for name, dup in (("exact_duplicate", exact), ("near_duplicate", near)):
        a, b = dup.pairs[:, 0], dup.pairs[:, 1]
        rows.append(
            pd.DataFrame(
                {
                    "row": b,
                    "issue": name,
                    "score": dup.similarity,
                    "given": given_names[b],
                    "suggested": None,
                    "related": a,
                }
            )
        )
        summary.append((name, int(dup.redundant.sum())))
    o = outl.ranking
    rows.append(
        pd.DataFrame(
            {
                "row": o,
                "issue": "outlier",
                "score": outl.score[o],
                "given": given_names[o],
                "suggested": None,
                "related": -1,
            }
        )
    )
    summary.append(("outlier", int(outl.is_outlier.sum())))
    leak = None
    if X_test is not None:
        leak = find_leakage(Xa, X_test, threshold=duplicate_threshold)
        t = np.flatnonzero(leak.is_leaked)
        t = t[np.argsort(-leak.similarity[t], kind="stable")]
        rows.append(
            pd.DataFrame(
                {
                    "row": t,
                    "issue": "test_leakage",
                    "score": leak.similarity[t],
                    "given": None,
                    "suggested": None,
                    "related": leak.train_match[t],
                }
            )
        )
        summary.append(("test_leakage", leak.n_leaked))
        report(progress, "neighbours, outliers, duplicates", 4, stages)
    crowd = None
    if annotations is not None:
        if p is None:
            raise InputError("crowd consensus quality needs labels (or proba) for the model.")
        crowd = _crowd(annotations, id_arr, classes, p)
        low = np.flatnonzero(crowd.quality < 0.5)
        low = low[np.argsort(crowd.quality[low], kind="stable")]
        rows.append(
            pd.DataFrame(
                {
                    "row": low,
                    "issue": "weak_consensus",
                    "score": 1.0 - crowd.quality[low],
                    "given": annotations.classes[crowd.consensus[low]],
                    "suggested": annotations.classes[crowd.suggested[low]],
                    "related": -1,
                }
            )
        )
        summary.append(("weak_consensus", int(low.size)))
    issues = pd.concat(rows, ignore_index=True)
    issues.insert(1, "id", id_arr[issues["row"].to_numpy()] if len(issues) else [])
    test_rows = issues["issue"] == "test_leakage"
    issues.loc[test_rows, "id"] = issues.loc[test_rows, "row"]
    summ = pd.DataFrame(summary, columns=["issue", "count"])
    summ["share"] = summ["count"] / n
    report(progress, "neighbours, outliers, duplicates", stages, stages)
    return AuditReport(
        summ, issues, issues_found, outl, exact, near, leak, balance, crowd, p, check
    )


def _crowd(
    annotations: Annotations, ids: NDArray[Any], classes: NDArray[Any], p: NDArray[np.float64]
) -> CrowdQuality:
    pos = pd.Index(pd.Series(ids).astype(str)).get_indexer(
        pd.Series(annotations.item_ids).astype(str)
    )
    if (pos < 0).any():
        bad = annotations.item_ids[int(np.flatnonzero(pos < 0)[0])]
        raise InputError(f"annotations item {bad!r} is not among the feature ids.")
    col = pd.Index(pd.Series(classes).astype(str)).get_indexer(
        pd.Series(annotations.classes).astype(str)
    )
    if (col < 0).any():
        bad = annotations.classes[int(np.flatnonzero(col < 0)[0])]
        raise InputError(f"annotations class {bad!r} is not among the given labels.")
    sub = p[pos][:, col]
    sub = sub / np.maximum(sub.sum(axis=1, keepdims=True), 1e-12)
    return consensus_quality(annotations, sub)
