"""The label model: labeling functions weighed by estimated accuracy and correlation.

A labeling function is an annotator that never tires: its votes are answers and its
abstains missing answers. The label model is therefore the one-coin Dawid-Skene EM
of :mod:`labelwise.aggregate` (one accuracy per function, learned without any label
from how the functions agree), with two changes that weak supervision needs:

- functions that vote together beyond what their accuracies explain (near copies,
  keywords that always co-occur) would be counted several times; their class-
  conditional correlation is measured on the first fit and each function's votes are
  weighed by ``1 / (1 + sum of its excess correlations)`` in a second fit;
- crowd answers can join the same model: crowd annotators are further annotators
  with their own accuracy, so functions and people correct each other.
"""

from __future__ import annotations

from typing import Any, Literal, Self

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.base import BaseEstimator

from labelwise._validation import check_is_fitted, check_number, check_option
from labelwise.aggregate import MajorityVote
from labelwise.aggregate._base import clamp_gold, normalise_rows
from labelwise.aggregate.dawid_skene import OneCoinDawidSkene
from labelwise.annotations import Annotations
from labelwise.errors import InputError
from labelwise.weak.analysis import encode_gold_for_votes
from labelwise.weak.votes import VoteMatrix

__all__ = [
    "LabelModel",
    "WeightedOneCoin",
    "conditional_correlation",
    "majority_vote",
    "redundancy_weights",
]


class WeightedOneCoin(OneCoinDawidSkene):
    """One-coin Dawid-Skene whose annotators' log-likelihoods are scaled by weights.

    ``weights[w] = 1`` for every annotator is :class:`OneCoinDawidSkene` exactly;
    ``0.5`` counts an annotator's answers half (two exact copies of one function at
    0.5 each act as one). ``class_prior`` fixes the prior instead of learning it.

    ``shrinkage`` adds ``shrinkage * n_w`` pseudo-answers of accuracy ``prior_accuracy``
    to each annotator's ``n_w`` answers: the estimate becomes
    ``(agreement + shrinkage * prior_accuracy) / (1 + shrinkage)``, whatever the volume.
    Functions that vote for one class only are identified only through their
    conflicts, and without it EM can drive a whole class's functions to accuracy 0
    (each lost conflict makes the next one easier to lose); the shrinkage damps that
    feedback. ``shrinkage=0`` with ``smoothing`` is :class:`OneCoinDawidSkene`.
    """

    def __init__(
        self,
        *,
        weights: NDArray[np.float64] | None = None,
        class_prior: NDArray[np.float64] | None = None,
        shrinkage: float = 0.0,
        prior_accuracy: float = 0.7,
        max_iter: int = 100,
        tol: float = 1e-5,
        smoothing: float = 0.5,
    ):
        super().__init__(max_iter=max_iter, tol=tol, smoothing=smoothing)
        self.weights = weights
        self.class_prior = class_prior
        self.shrinkage = shrinkage
        self.prior_accuracy = prior_accuracy

    def _m_step(self, annotations: Annotations, posterior: NDArray[np.floating]) -> None:
        correct = posterior[annotations.item, annotations.label]
        hits = np.bincount(annotations.worker, weights=correct, minlength=annotations.n_workers)
        pseudo = self.shrinkage * self._n_w
        acc = (hits + pseudo * self.prior_accuracy + self.smoothing) / (
            self._n_w + pseudo + 2 * self.smoothing
        )
        self.skill_ = np.clip(acc, 1e-9, 1 - 1e-9)

    def _class_prior(self, posterior: NDArray[np.floating]) -> NDArray[np.float64]:
        if self.class_prior is not None:
            return np.asarray(self.class_prior, dtype=np.float64)
        return super()._class_prior(posterior)

    def _answer_log_likelihood(self, annotations: Annotations) -> NDArray[np.floating]:
        return one_coin_log_likelihood(
            annotations.item,
            annotations.worker,
            annotations.label,
            self.skill_,
            self.weights,
            annotations.n_items,
            annotations.n_classes,
        )


def one_coin_log_likelihood(
    item: NDArray[np.int32],
    worker: NDArray[np.int32],
    label: NDArray[np.int32],
    accuracy: NDArray[np.float64],
    weights: NDArray[np.float64] | None,
    n_items: int,
    n_classes: int,
) -> NDArray[np.float64]:
    """(n_items, K) weighted log P(answers of the item | true class) under one-coin."""
    k = n_classes
    acc = np.clip(accuracy, 1e-9, 1 - 1e-9)
    wgt = np.ones(acc.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    log_wrong = np.log((1 - acc) / (k - 1))
    log_ratio = (np.log(acc) - log_wrong) * wgt
    base = np.bincount(item, weights=(log_wrong * wgt)[worker], minlength=n_items)
    cell = item.astype(np.int64) * k + label
    bonus = np.bincount(cell, weights=log_ratio[worker], minlength=n_items * k)
    return base[:, None] + bonus.reshape(n_items, k)  # type: ignore[no-any-return]


def conditional_correlation(
    codes: NDArray[np.int32],
    posterior: NDArray[np.float64],
    n_classes: int,
    *,
    min_support: float = 5.0,
) -> NDArray[np.float64]:
    """Largest class-conditional correlation between the votes of each pair of functions.

    For every true class k (items weighted by their posterior of k) and every pair of
    (function, voted class) indicators, the Pearson correlation; the (m, m) result holds
    for each function pair the largest over classes and voted classes. Conditional
    independence given the true class, which the label model assumes, makes it about 0;
    a near copy makes it about 1. Pairs that co-vote on fewer than ``min_support``
    (posterior-weighted) items count 0.
    """
    n, m = codes.shape
    k = n_classes
    out = np.zeros((m, m))
    if n == 0 or m < 2:
        return out
    rows, cols = np.nonzero(codes >= 0)
    s = sp.csr_matrix(
        (np.ones(rows.shape[0]), (rows, cols.astype(np.int64) * k + codes[rows, cols])),
        shape=(n, m * k),
    )
    st = s.T.tocsr()
    for c in range(k):
        w = posterior[:, c]
        total = float(w.sum())
        if total < min_support:
            continue
        second_mass = np.asarray((st @ s.multiply(w[:, None]).tocsr()).todense())
        second = second_mass / total
        mean = np.asarray(st @ w).ravel() / total
        cov = second - np.outer(mean, mean)
        sd = np.sqrt(np.clip(mean * (1 - mean), 0, None))
        denom = np.outer(sd, sd)
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.where(denom > 0, cov / np.where(denom > 0, denom, 1.0), 0.0)
        corr[second_mass < min_support] = 0.0
        out = np.maximum(out, corr.reshape(m, k, m, k).max(axis=(1, 3)))
    np.fill_diagonal(out, 0.0)
    return out


def redundancy_weights(correlation: NDArray[np.float64], threshold: float) -> NDArray[np.float64]:
    """Per-function weight ``1 / (1 + sum_j excess(rho_ij))``, with the excess
    ``clip((rho - threshold) / (1 - threshold), 0, 1)``: k exact copies get 1/k each."""
    excess = np.clip((correlation - threshold) / (1 - threshold), 0.0, 1.0)
    np.fill_diagonal(excess, 0.0)
    return 1.0 / (1.0 + excess.sum(axis=1))  # type: ignore[no-any-return]


def majority_vote(votes: VoteMatrix, *, random_state: Any = 0) -> NDArray[np.int32]:
    """Majority vote of the functions per item (ties and items without votes broken at
    random with ``random_state``): the baseline a label model must beat."""
    if votes.n_items == 0:
        return np.zeros(0, dtype=np.int32)
    ann = votes.to_annotations()
    if ann.n_annotations == 0:
        rng = np.random.default_rng(random_state)
        return rng.integers(0, len(votes.classes), votes.n_items).astype(np.int32)
    mv = MajorityVote(ties="random", random_state=random_state).fit(ann)
    return mv.label_codes_.astype(np.int32)  # type: ignore[no-any-return]


class LabelModel(BaseEstimator):  # type: ignore[misc]
    """Probabilistic labels from labeling-function votes (and crowd answers).

    Parameters
    ----------
    correlation : {"auto", "ignore"}
        ``"auto"``: fit, measure each function pair's class-conditional correlation
        (:func:`conditional_correlation`), weigh the functions by
        :func:`redundancy_weights` and fit again. ``"ignore"``: one fit, every
        function weight 1 (the plain one-coin model).
    correlation_threshold : float
        Correlation below this is treated as chance. Independent functions show some
        (about 0.25 on synthetic votes: conditioning on a posterior that their own votes
        shaped correlates them), so a low threshold discounts every function a little
        and near copies a lot. The defaults (``shrinkage=2``, threshold 0.05) were
        chosen on the training splits of AG News and TREC (benchmarks/weak_text.py).
    class_prior : {"uniform", "learn"} or array
        Assume the class balance uniform (default, as Snorkel does), learn it with EM,
        or fix it. Learning it lets EM starve a class whose functions lose conflicts.
    shrinkage, prior_accuracy : float
        Each function's accuracy estimate is pulled toward ``prior_accuracy`` with
        ``shrinkage`` pseudo-votes per vote (see :class:`WeightedOneCoin`): functions
        are assumed better than chance, and one class's functions cannot collapse.
    max_iter, tol, smoothing
        EM settings, as in :class:`~labelwise.OneCoinDawidSkene` (``smoothing`` is a
        Beta pseudo-count on every function's accuracy).

    Attributes
    ----------
    proba_ : ndarray (n_items, n_classes)
        Probabilistic labels of the fitted items (the vote matrix's items, then items
        only the crowd answered).
    labels_ : ndarray (n_items,)
        The most probable class names.
    items_, classes_, functions_ : ndarray
    accuracy_ : ndarray (n_functions,)
        Each function's estimated probability that a vote of it is right.
    weight_ : ndarray (n_functions,)
        The weight of its votes (1 unless correlated with others).
    correlation_ : ndarray (n_functions, n_functions)
    crowd_skill_ : Series or None
        Estimated accuracy of each crowd annotator, when ``crowd`` was given.
    prior_ : ndarray (n_classes,)
    covered_ : ndarray of bool (n_items,)
        Items with at least one vote or answer; the others get ``prior_``.

    Examples
    --------
    >>> from labelwise.weak import VoteMatrix, LabelModel
    >>> v = VoteMatrix.from_codes([[0, 0, -1], [1, 1, 0], [-1, 1, 1]], classes=["a", "b"])
    >>> LabelModel().fit(v).labels_.tolist()
    ['a', 'b', 'b']
    """

    def __init__(
        self,
        *,
        correlation: Literal["auto", "ignore"] = "auto",
        correlation_threshold: float = 0.05,
        class_prior: Any = "uniform",
        shrinkage: float = 2.0,
        prior_accuracy: float = 0.7,
        max_iter: int = 200,
        tol: float = 1e-6,
        smoothing: float = 1.0,
    ):
        self.correlation = correlation
        self.correlation_threshold = correlation_threshold
        self.class_prior = class_prior
        self.shrinkage = shrinkage
        self.prior_accuracy = prior_accuracy
        self.max_iter = max_iter
        self.tol = tol
        self.smoothing = smoothing

    # ------------------------------------------------------------------ fit
    def _prior(self, k: int) -> NDArray[np.float64] | None:
        if isinstance(self.class_prior, str):
            check_option(self.class_prior, "class_prior", "LabelModel", ("learn", "uniform"))
            return None if self.class_prior == "learn" else np.full(k, 1.0 / k)
        prior = np.asarray(self.class_prior, dtype=np.float64)
        if prior.shape != (k,) or (prior <= 0).any():
            raise InputError(f"class_prior must be {k} positive numbers; got {prior.tolist()}.")
        return prior / prior.sum()  # type: ignore[no-any-return]

    def fit(self, votes: VoteMatrix, crowd: Annotations | None = None, gold: Any = None) -> Self:
        """Learn each function's accuracy and weight, and every item's class posterior.

        Parameters
        ----------
        votes : VoteMatrix
        crowd : Annotations, optional
            Crowd answers on (some of) the same items, matched by item id; their classes
            must be among the vote matrix's classes.
        gold : array, Series, dict or DataFrame (item, label), optional
            Known classes of some vote-matrix items, clamped during the fit.

        Returns
        -------
        self
        """
        if not isinstance(votes, VoteMatrix):
            raise InputError(
                f"LabelModel.fit expects a VoteMatrix (from apply_functions); got "
                f"{type(votes).__name__}."
            )
        check_option(self.correlation, "correlation", "LabelModel", ("auto", "ignore"))
        check_number(self.shrinkage, "shrinkage", "LabelModel", low=0)
        check_number(
            self.prior_accuracy,
            "prior_accuracy",
            "LabelModel",
            low=0,
            high=1,
            low_open=True,
            high_open=True,
        )
        check_number(
            self.correlation_threshold,
            "correlation_threshold",
            "LabelModel",
            low=0,
            high=1,
            high_open=True,
        )
        k, m = len(votes.classes), votes.n_functions
        prior = self._prior(k)
        ann = _combine(votes, crowd)
        if ann.n_items == 0:
            raise InputError("LabelModel.fit got a vote matrix with no items.")
        gold_codes = np.full(ann.n_items, -1, dtype=np.int32)
        if gold is not None:
            gold_codes[: votes.n_items] = encode_gold_for_votes(votes, gold)
        self.items_ = ann.item_ids
        self.classes_ = votes.classes
        self.functions_ = np.asarray(votes.functions, dtype=object)
        self.covered_ = np.bincount(ann.item, minlength=ann.n_items) > 0
        self.correlation_ = np.zeros((m, m))
        weights = np.ones(ann.n_workers)
        if ann.n_annotations == 0:  # nothing voted: every item keeps the prior
            self.prior_ = prior if prior is not None else np.full(k, 1.0 / k)
            self.proba_ = np.tile(self.prior_, (ann.n_items, 1))
            self.accuracy_ = np.full(m, np.nan)
            self.weight_ = np.ones(m)
            self.crowd_skill_ = None if crowd is None else pd.Series(np.nan, index=crowd.worker_ids)
            self._finish_labels()
            return self
        model = self._one_coin(weights, prior).fit(ann, gold=gold_codes)
        if self.correlation == "auto" and m > 1:
            self.correlation_ = conditional_correlation(
                votes.codes, model.proba_[: votes.n_items], k
            )
            weights[:m] = redundancy_weights(self.correlation_, self.correlation_threshold)
            if (weights[:m] < 1).any():
                model = self._one_coin(weights, prior).fit(ann, gold=gold_codes)
        # one E-step with the final parameters, so that predict_proba on the same votes
        # reproduces proba_ exactly
        post, _ = normalise_rows(model._answer_log_likelihood(ann) + np.log(model.prior_))
        clamp_gold(post, gold_codes)
        self.proba_ = post
        self.prior_ = model.prior_
        self.accuracy_ = model.skill_[:m].copy()
        never = np.bincount(ann.worker, minlength=ann.n_workers)[:m] == 0
        self.accuracy_[never] = np.nan  # a function that never voted has no accuracy
        self.weight_ = weights[:m]
        self.crowd_skill_ = (
            None if crowd is None else pd.Series(model.skill_[m:], index=crowd.worker_ids)
        )
        self.n_iter_ = model.n_iter_
        self._finish_labels()
        return self

    def _one_coin(
        self, weights: NDArray[np.float64], prior: NDArray[np.float64] | None
    ) -> WeightedOneCoin:
        return WeightedOneCoin(
            weights=weights,
            class_prior=prior,
            shrinkage=self.shrinkage,
            prior_accuracy=self.prior_accuracy,
            max_iter=self.max_iter,
            tol=self.tol,
            smoothing=self.smoothing,
        )

    def _finish_labels(self) -> None:
        self.labels_ = self.classes_[self.proba_.argmax(axis=1)]

    def fit_predict_proba(
        self, votes: VoteMatrix, crowd: Annotations | None = None, gold: Any = None
    ) -> NDArray[np.float64]:
        """Fit and return ``proba_``."""
        return self.fit(votes, crowd=crowd, gold=gold).proba_  # type: ignore[no-any-return]

    # -------------------------------------------------------------- predict
    def predict_proba(self, votes: VoteMatrix) -> NDArray[np.float64]:
        """Probabilistic labels of new items from their function votes, with the learned
        accuracies, weights and prior (the functions must be the fitted ones, in order)."""
        check_is_fitted(self, "proba_")
        if tuple(votes.functions) != tuple(self.functions_.tolist()):
            raise InputError(
                "predict_proba: the vote matrix's functions differ from the fitted ones "
                f"({list(votes.functions)} vs {self.functions_.tolist()})."
            )
        k = len(self.classes_)
        rows, cols = np.nonzero(votes.codes >= 0)
        acc = np.where(np.isnan(self.accuracy_), 1.0 / k, self.accuracy_)
        ll = one_coin_log_likelihood(
            rows.astype(np.int32),
            cols.astype(np.int32),
            votes.codes[rows, cols],
            acc,
            self.weight_,
            votes.n_items,
            k,
        )
        ll += np.log(self.prior_)
        proba, _ = normalise_rows(ll)
        return proba

    def predict(self, votes: VoteMatrix) -> NDArray[Any]:
        """The most probable class name of each item of ``votes``."""
        return self.classes_[self.predict_proba(votes).argmax(axis=1)]  # type: ignore[no-any-return]

    # --------------------------------------------------------------- tables
    def to_frame(self) -> pd.DataFrame:
        """One row per item: item, label, confidence, covered, and one ``p_<class>``
        column per class (the probabilistic label). ``label`` is empty (``None``) on
        items no function voted on: their probabilities are the prior, not evidence."""
        check_is_fitted(self, "proba_")
        labels = np.asarray(self.labels_, dtype=object).copy()
        labels[~self.covered_] = None
        frame = pd.DataFrame(
            {
                "item": self.items_,
                "label": labels,
                "confidence": self.proba_.max(axis=1),
                "covered": self.covered_,
            }
        )
        for j, c in enumerate(self.classes_):
            frame[f"p_{c}"] = self.proba_[:, j]
        return frame

    def function_frame(self) -> pd.DataFrame:
        """One row per function: estimated accuracy, weight, and the function it is most
        correlated with (and how much)."""
        check_is_fitted(self, "proba_")
        m = len(self.functions_)
        corr = self.correlation_
        partner = corr.argmax(axis=1) if m > 1 else np.zeros(m, dtype=int)
        return pd.DataFrame(
            {
                "function": self.functions_,
                "estimated_accuracy": self.accuracy_,
                "weight": self.weight_,
                "most_correlated": [self.functions_[p] if m > 1 else "" for p in partner],
                "correlation": corr.max(axis=1) if m > 1 else np.zeros(m),
            }
        )


def _combine(votes: VoteMatrix, crowd: Annotations | None) -> Annotations:
    """Function votes and crowd answers as one :class:`Annotations`: functions are the
    first ``n_functions`` annotators, the vote matrix's items the first items."""
    ann = votes.to_annotations()
    if crowd is None:
        return ann
    if not isinstance(crowd, Annotations):
        raise InputError(f"crowd must be Annotations; got {type(crowd).__name__}.")
    lookup = {c: k for k, c in enumerate(votes.classes.tolist())}
    missing = [c for c in crowd.classes.tolist() if c not in lookup]
    if missing:
        raise InputError(
            f"crowd classes {missing} are not among the vote matrix's classes "
            f"{votes.classes.tolist()}."
        )
    class_map = np.array([lookup[c] for c in crowd.classes.tolist()], dtype=np.int32)
    item_pos = {i: r for r, i in enumerate(votes.item_ids.tolist())}
    extra: list[Any] = []
    crowd_item_code = np.empty(crowd.n_items, dtype=np.int32)
    for r, i in enumerate(crowd.item_ids.tolist()):
        if i not in item_pos:
            item_pos[i] = votes.n_items + len(extra)
            extra.append(i)
        crowd_item_code[r] = item_pos[i]
    m = votes.n_functions
    item_ids = np.concatenate([votes.item_ids.astype(object), np.asarray(extra, dtype=object)])
    return Annotations(
        item=np.concatenate([ann.item, crowd_item_code[crowd.item]]).astype(np.int32),
        worker=np.concatenate([ann.worker, crowd.worker + m]).astype(np.int32),
        label=np.concatenate([ann.label, class_map[crowd.label]]).astype(np.int32),
        item_ids=item_ids,
        worker_ids=np.concatenate([ann.worker_ids, crowd.worker_ids.astype(object)]),
        classes=votes.classes,
    )
