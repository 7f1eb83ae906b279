"""What each annotator's answers are worth: contributions to the consensus.

An annotator's contribution is the difference their answers make: to the consensus
accuracy against gold where the truth is known, to the probability the consensus
puts on the reference label otherwise (the reference being the consensus of the
others, so an annotator cannot vouch for themselves), and to a downstream model's
held-out accuracy. Counting answers is not the measure: a careless annotator's
answers carry little weight in Dawid-Skene's posterior, so many of them add up to
little, and wrong ones count against them.

- :func:`approximate_contributions`: one fit. Each answer's effect is read off the
  fitted model by dividing its likelihood factor out of the item's posterior, with
  every other parameter kept: O(answers x classes) array operations, for thousands of
  annotators.
- :func:`leave_one_out_contributions`: refit the consensus without each annotator
  (exact; one fit per annotator), optionally retraining a downstream model.
- :func:`annotator_contributions`: both, as one table.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.base import clone

from labelwise.aggregate import BaseAggregator, ConvergenceWarning, make_aggregator
from labelwise.aggregate._base import normalise_rows
from labelwise.annotations import Annotations
from labelwise.errors import InputError, ParameterError

__all__ = [
    "annotator_contributions",
    "approximate_contributions",
    "leave_one_out_contributions",
]


def _fitted(annotations: Annotations, method: str | BaseAggregator) -> BaseAggregator:
    model = make_aggregator(method) if isinstance(method, str) else clone(method)
    with warnings.catch_warnings():
        # one fit per annotator: a slow-converging refit is no news to the caller
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(annotations)


def _reference(
    gold: NDArray[np.int32], loo_proba: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Gold where known, else the leave-one-out consensus; and the mask of gold items."""
    known = gold >= 0
    return np.where(known, gold, loo_proba.argmax(axis=1)), known


def approximate_contributions(
    annotations: Annotations, *, method: str | BaseAggregator = "onecoin", gold: Any = None
) -> pd.DataFrame:
    """Each annotator's contribution from one fit, by removing their answers' likelihood
    factors from the posteriors of the items they touched.

    For an answer ``l`` of annotator ``w`` on item ``i``, the posterior without it is
    ``p_-w(k) ∝ p(k) / confusion_w[k, l]`` (the other parameters held fixed). The
    reference ``r_i`` is the gold class where known, else ``argmax p_-w``.

    Parameters
    ----------
    annotations : Annotations
    method : str or aggregator
        A model with ``confusion_`` (``"onecoin"``, ``"ds"`` ...), fitted without gold
        (gold is the yardstick, not an input). One-coin is the default: with tens of
        answers per annotator its one number per annotator is estimated far better
        than Dawid-Skene's K x K (Spearman with true accuracy 0.88-0.92 against
        0.55-0.80 on the simulated crowds of the tests).
    gold : DataFrame (item, label), Series or dict, optional

    Returns
    -------
    DataFrame
        One row per annotator: ``worker``, ``n_answers``, ``contribution`` (sum over
        their answers of ``p(r_i) - p_-w(r_i)``: probability mass moved onto the
        reference, in items), ``contribution_per_answer``, ``accuracy_delta`` (change
        in the number of gold items the consensus gets right; 0 without gold),
        ``information`` (bits their answers carry about the reference under the
        model, the value of each answer were it the item's first: it does not vanish
        on items others already settled) and ``skill`` (the model's estimate).
    """
    model = _fitted(annotations, method)
    conf = getattr(model, "confusion_", None)
    if conf is None:
        raise ParameterError(
            f"approximate contributions need a model with confusion matrices; "
            f"{type(model).__name__} has none (use method='ds' or 'onecoin')."
        )
    g = annotations.encode_gold(gold)
    prior = getattr(model, "prior_", None)
    if prior is None:
        prior = model.proba_.mean(axis=0)
    # the posterior under the fitted parameters (one E-step), so that dividing one
    # answer's factor out of it is exact
    log_conf = np.log(np.clip(conf, 1e-300, None))
    s = annotations.answer_matrix(np.float64)
    log_rows = log_conf.transpose(0, 2, 1).reshape(-1, annotations.n_classes)
    proba, _ = normalise_rows(np.asarray(s @ log_rows) + np.log(np.clip(prior, 1e-300, None)))
    it, w, lab = annotations.item, annotations.worker, annotations.label
    log_post = np.log(np.clip(proba[it], 1e-300, None))
    loo, _ = normalise_rows(log_post - log_conf[w, :, lab])
    full = proba[it]
    ref, known = _reference(g[it], loo)
    rows = np.arange(ref.shape[0])
    moved = full[rows, ref] - loo[rows, ref]
    hard = (full.argmax(axis=1) == ref).astype(float) - (loo.argmax(axis=1) == ref)
    hard = np.where(known, hard, 0.0)
    # first-answer value: bits the answer carries about the reference under the prior
    like = conf[w, :, lab]
    bits = np.log2(np.clip(like[rows, ref], 1e-300, None) / np.clip(like @ prior, 1e-300, None))
    n_w = annotations.n_workers
    n_ans = np.bincount(w, minlength=n_w)
    contrib = np.bincount(w, weights=moved, minlength=n_w)
    return pd.DataFrame(
        {
            "worker": annotations.worker_ids,
            "n_answers": n_ans,
            "contribution": contrib,
            "contribution_per_answer": contrib / np.maximum(n_ans, 1),
            "accuracy_delta": np.bincount(w, weights=hard, minlength=n_w),
            "information": np.bincount(w, weights=bits, minlength=n_w),
            "skill": model.skill_,
        }
    )


def leave_one_out_contributions(
    annotations: Annotations,
    *,
    method: str | BaseAggregator = "onecoin",
    gold: Any = None,
    features: Any = None,
    holdout: Any = None,
    estimator: Any = None,
) -> pd.DataFrame:
    """Each annotator's exact contribution: refit the consensus without their answers.

    Parameters
    ----------
    annotations : Annotations
    method : str or aggregator
        The consensus model (fitted without gold).
    gold : optional
        Known labels (item, label). With gold, ``accuracy_delta`` is the change in the
        number of gold items the consensus gets right, and ``contribution`` the change in
        probability on the gold class summed over gold items; without, the reference of
        every item is the consensus refitted without the annotator.
    features : array (n_items, d), optional
        Item features aligned with ``annotations.item_ids``; with ``holdout`` enables the
        downstream measure.
    holdout : array of bool (n_items,), optional
        Items (with gold) on which the downstream model is scored; it is trained on the
        consensus labels of the other items that have answers.
    estimator : scikit-learn classifier, optional
        The downstream model; ``LogisticRegression(max_iter=1000)`` by default.

    Returns
    -------
    DataFrame
        One row per annotator: ``worker``, ``n_answers``, ``loo_contribution``,
        ``loo_accuracy_delta`` and, with features, ``downstream_delta`` (held-out
        accuracy with all answers minus without theirs).
    """
    g = annotations.encode_gold(gold)
    full = _fitted(annotations, method)
    down = features is not None
    if down:
        x = np.asarray(features)
        if x.shape[0] != annotations.n_items:
            raise InputError(
                f"features have {x.shape[0]} rows for {annotations.n_items} items (one row per "
                "item, in the order of annotations.item_ids)."
            )
        if holdout is None:
            raise InputError("downstream contributions need a holdout mask of gold items.")
        hold = np.asarray(holdout, dtype=bool)
        if hold.shape != (annotations.n_items,) or (g[hold] < 0).any():
            raise InputError("holdout must be a boolean mask over items, all of them with gold.")
        if estimator is None:
            from sklearn.linear_model import LogisticRegression

            estimator = LogisticRegression(max_iter=1000)
        full_down = _downstream(annotations, full, x, hold, g, estimator)
    n_w = annotations.n_workers
    n_ans = annotations.annotations_per_worker()
    soft = np.zeros(n_w)
    hard = np.zeros(n_w)
    dd = np.full(n_w, np.nan)
    for w in range(n_w):
        sub = annotations.subset(annotations.worker != w)
        if sub.n_annotations == 0:
            k = annotations.n_classes
            loo_proba = np.full((annotations.n_items, k), 1.0 / k)
            loo_model = None
        else:
            loo_model = _fitted(sub, method)
            loo_proba = loo_model.proba_
        ref, known = _reference(g, loo_proba)
        rows = np.arange(ref.shape[0])
        sel = known if known.any() else np.ones_like(known)
        soft[w] = float((full.proba_[rows, ref] - loo_proba[rows, ref])[sel].sum())
        if known.any():
            hard[w] = float(
                ((full.proba_.argmax(axis=1) == ref) & known).sum()
                - ((loo_proba.argmax(axis=1) == ref) & known).sum()
            )
        if down and loo_model is not None:
            dd[w] = full_down - _downstream(sub, loo_model, x, hold, g, estimator)
    frame = pd.DataFrame(
        {
            "worker": annotations.worker_ids,
            "n_answers": n_ans,
            "loo_contribution": soft,
            "loo_accuracy_delta": hard,
        }
    )
    if down:
        frame["downstream_delta"] = dd
    return frame


def _downstream(
    annotations: Annotations,
    model: BaseAggregator,
    x: NDArray[Any],
    hold: NDArray[np.bool_],
    gold: NDArray[np.int32],
    estimator: Any,
) -> float:
    """Held-out accuracy of ``estimator`` trained on the consensus of answered items."""
    answered = annotations.annotations_per_item() > 0
    train = answered & ~hold
    y = model.proba_.argmax(axis=1)
    if train.sum() == 0 or np.unique(y[train]).shape[0] < 2:
        return float(np.mean(gold[hold] == np.bincount(y[train]).argmax() if train.any() else 0))
    clf = clone(estimator).fit(x[train], y[train])
    return float((clf.predict(x[hold]) == gold[hold]).mean())


def annotator_contributions(
    annotations: Annotations,
    *,
    method: str | BaseAggregator = "onecoin",
    gold: Any = None,
    exact: bool | str = "auto",
    max_exact_workers: int = 300,
    **downstream: Any,
) -> pd.DataFrame:
    """The approximate contributions, joined with the exact leave-one-out ones when
    ``exact`` (``"auto"``: when there are at most ``max_exact_workers`` annotators).

    ``downstream`` (``features``, ``holdout``, ``estimator``) is passed to
    :func:`leave_one_out_contributions`. Sorted by ``information`` (the ranking that
    follows accuracy on gold best on the real crowds), lowest first.
    """
    if exact not in (True, False, "auto"):
        raise ParameterError(f"exact must be True, False or 'auto'; got {exact!r}.")
    frame = approximate_contributions(annotations, method=method, gold=gold)
    if exact is True or (exact == "auto" and annotations.n_workers <= max_exact_workers):
        loo = leave_one_out_contributions(annotations, method=method, gold=gold, **downstream)
        frame = frame.merge(loo.drop(columns=["n_answers"]), on="worker", how="left")
    return frame.sort_values("information", kind="stable").reset_index(drop=True)
