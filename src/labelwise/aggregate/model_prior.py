"""A model's out-of-fold predictions as the per-item prior of an EM aggregator.

``aggregator.fit(annotations, prior=P)`` takes any (n_items, K) prior. This module
makes one from item features and alternates the two sides:

1. fit the aggregator on the answers alone;
2. :func:`out_of_fold_proba`: train the model on the consensus (soft labels: each
   item once per class, weighted by its posterior) in ``cv`` folds and predict
   each item from the folds that did not see it;
3. refit the aggregator with that prior; repeat from 2 for ``n_rounds``.

The model then corrects answers it finds implausible when the annotators behind
them are unreliable, and the consensus it trains on gets cleaner each round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise._validation import check_features, check_number, check_proba
from labelwise._weights import weight_kwargs
from labelwise.annotations import Annotations
from labelwise.errors import InputError


def clone(estimator: Any) -> Any:
    """scikit-learn's ``clone``, imported on first use so that importing
    :mod:`labelwise.aggregate` does not load scikit-learn (about 1 s)."""
    from sklearn.base import clone as sk_clone

    return sk_clone(estimator)


__all__ = ["ModelPriorFit", "fit_with_model", "out_of_fold_proba"]


def _fit_soft(estimator: Any, X: NDArray[Any], post: NDArray[np.float64]) -> Any:
    """Fit on soft labels: each row once per class with a non-negligible posterior."""
    rows, cls = np.nonzero(post > 1e-3)
    w = post[rows, cls]
    if np.unique(cls).size < 2:
        return None
    if not _takes_weights(estimator):  # hard labels
        hard = post.argmax(axis=1)
        return clone(estimator).fit(X, hard) if np.unique(hard).size >= 2 else None
    return clone(estimator).fit(X[rows], cls, **weight_kwargs(estimator, w))


def _takes_weights(estimator: Any) -> bool:
    from sklearn.utils.validation import has_fit_parameter

    last = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    return bool(has_fit_parameter(last, "sample_weight"))


def out_of_fold_proba(
    estimator: Any,
    X: ArrayLike,
    labels: ArrayLike,
    *,
    cv: int = 5,
    soft: bool = True,
    random_state: int = 0,
) -> NDArray[np.float64]:
    """Each item's class probabilities from a model that never saw its label.

    Parameters
    ----------
    estimator : classifier with ``predict_proba`` (and ``sample_weight`` when ``soft``)
    X : array (n_items, d)
    labels : array (n_items,) of class codes, or (n_items, K) posteriors
        What to train on. A posterior trains on soft labels when ``soft``.
    cv : int
        Folds (stratified on the most probable class); fewer when a class is rare.
    soft : bool
        Train on the posterior (each item once per class, weighted) instead of its argmax.

    Returns
    -------
    ndarray (n_items, K)
        Rows sum to one; a class a fold's model never saw gets probability 0.
    """
    Xa = check_features(X, "X")
    lab = np.asarray(labels)
    if lab.ndim == 1:
        if not np.issubdtype(lab.dtype, np.integer) or lab.min(initial=0) < 0:
            raise InputError("labels must be class codes >= 0 or an (n_items, K) posterior.")
        post = np.eye(int(lab.max()) + 1)[lab]
    else:
        post = check_proba(lab, "labels")
    if post.shape[0] != Xa.shape[0]:
        raise InputError(f"labels has {post.shape[0]} rows; X has {Xa.shape[0]}.")
    check_number(cv, "cv", "out_of_fold_proba", kind=int, low=2)
    n, k = post.shape
    hard = post.argmax(axis=1)
    counts = np.bincount(hard, minlength=k)
    folds = int(min(cv, counts[counts > 0].min()))
    out = np.full((n, k), 1.0 / k)
    if folds < 2:
        return out
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(folds, shuffle=True, random_state=random_state)
    for tr, te in splitter.split(Xa, hard):
        model = (
            _fit_soft(estimator, Xa[tr], post[tr])
            if soft
            else (clone(estimator).fit(Xa[tr], hard[tr]) if np.unique(hard[tr]).size > 1 else None)
        )
        if model is None:
            continue
        cols = np.asarray(model.classes_, dtype=np.int64)
        block = np.zeros((te.size, k))
        block[:, cols] = model.predict_proba(Xa[te])
        out[te] = block
    return out


@dataclass(frozen=True)
class ModelPriorFit:
    """What :func:`fit_with_model` found.

    Attributes
    ----------
    aggregator : fitted aggregator (the last round's)
    prior : ndarray (n_items, K)
        The out-of-fold model probabilities used as its prior.
    history : list of ndarray
        The consensus class codes after each round (round 0: answers alone).
    """

    aggregator: Any
    prior: NDArray[np.float64]
    history: list[NDArray[np.int64]]


def fit_with_model(
    aggregator: Any,
    annotations: Annotations,
    X: ArrayLike,
    estimator: Any,
    *,
    n_rounds: int = 2,
    cv: int = 5,
    soft: bool = True,
    random_state: int = 0,
) -> ModelPriorFit:
    """Alternate an EM aggregator and a model on item features ``n_rounds`` times.

    ``X`` rows are aligned with ``annotations.item_ids``. Returns a
    :class:`ModelPriorFit` whose ``aggregator`` was fitted with the model's
    out-of-fold predictions as its per-item prior.
    """
    check_number(n_rounds, "n_rounds", "fit_with_model", kind=int, low=1)
    Xa = check_features(X, "X")
    if Xa.shape[0] != annotations.n_items:
        raise InputError(
            f"X has {Xa.shape[0]} rows; the annotations have {annotations.n_items} items."
        )
    agg = clone(aggregator).fit(annotations)
    history = [np.asarray(agg.proba_).argmax(axis=1).astype(np.int64)]
    prior = np.asarray(agg.proba_)
    for _ in range(n_rounds):
        post = np.asarray(agg.proba_, dtype=np.float64)
        prior = out_of_fold_proba(estimator, Xa, post, cv=cv, soft=soft,
                                  random_state=random_state)  # fmt: skip
        agg = clone(aggregator).fit(annotations, prior=prior)
        history.append(np.asarray(agg.proba_).argmax(axis=1).astype(np.int64))
    return ModelPriorFit(agg, prior, history)
