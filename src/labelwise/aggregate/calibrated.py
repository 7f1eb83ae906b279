"""Calibrated posteriors for any aggregator: the answers' evidence tempered until the
claimed confidence is the accuracy delivered.

The item posterior of every aggregator is rebuilt as
``p(k) ∝ prior_k · exp(τ · loglik_k)``, mixed with a floor ``ε`` (see
:class:`labelwise.calibration.Tempering`), where ``loglik`` is the log-likelihood of
the item's answers under per-annotator confusion matrices read off the model's
posterior (each annotator's soft counts, shrunk towards the crowd's pooled matrix:
a Dirichlet prior, so that an annotator seen on a handful of items is not taken for
a perfect one). One rule for every model, so their calibrated posteriors compare.
``τ`` and ``ε`` are fitted on gold when the fit is given enough of it (cross-fitted:
the gold items' own answers, not their clamped labels), else ``τ`` on held-out
answers. On gold, a logistic map of "top label right" (:class:`TopLabelMap`: the
tempered confidence, the share of answers agreeing, the number of answers and their
entropy) then sets each item's top-label confidence, leaving its label unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from labelwise._lazy import lazy_module
from labelwise._validation import check_number
from labelwise.aggregate._base import BaseAggregator, clamp_gold, expected_accuracy
from labelwise.annotations import Annotations
from labelwise.calibration import (
    Tempering,
    TopLabelMap,
    answer_log_likelihood,
    fit_tempering,
    fit_top_label_map,
)
from labelwise.errors import InputError, ParameterError

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = ["CalibratedAggregator", "confusion_from_posterior"]


def _as_series(annotations: Annotations, codes: NDArray[np.int32]) -> pd.Series | None:
    """Gold codes (``-1`` unknown) as the ``item -> label`` Series ``fit(gold=)`` reads."""
    known = codes >= 0
    if not known.any():
        return None
    return pd.Series(annotations.classes[codes[known]], index=pd.Index(annotations.item_ids[known]))


def confusion_from_posterior(
    annotations: Annotations, posterior: NDArray[np.float64], *, shrinkage: float = 2.0
) -> NDArray[np.float64]:
    """Per-annotator confusion matrices (W, K, K) from soft counts under ``posterior``,
    each row shrunk towards the crowd's pooled row with ``shrinkage`` pseudo-answers."""
    k, w = annotations.n_classes, annotations.n_workers
    idx = annotations.worker.astype(np.int64) * k + annotations.label
    counts = np.stack(
        [
            np.bincount(idx, weights=posterior[annotations.item, c], minlength=w * k)
            for c in range(k)
        ],
        axis=1,
    ).reshape(w, k, k)  # (worker, given, true)
    counts = counts.transpose(0, 2, 1)
    pooled = counts.sum(axis=0) + 0.5
    pooled /= pooled.sum(axis=1, keepdims=True)
    conf = counts + shrinkage * pooled[None]
    return conf / conf.sum(axis=2, keepdims=True)  # type: ignore[no-any-return]


class CalibratedAggregator(BaseAggregator):
    """Wrap an aggregator so that its ``proba_`` means what it says.

    Parameters
    ----------
    estimator : aggregator, optional
        The model whose posterior is calibrated (default :class:`DawidSkene`).
    method : {"auto", "gold", "answers"}
        ``"gold"``: fit τ and ε on the gold passed to ``fit`` (needs ``min_gold``
        gold items); ``"answers"``: fit τ by predicting held-out answers; ``"auto"``:
        gold when there is enough, else answers.
    min_gold : int
        Gold items needed to calibrate on gold.
    shrinkage : float
        Pseudo-answers of the crowd's pooled confusion row added to each annotator's
        row (a Dirichlet prior): an annotator seen a few times is not trusted as a
        perfect one.
    n_folds : int
        Folds of the gold for the calibration's cross-fit: each gold item is read
        off a fit that clamps the other folds' gold. More folds keep that fit close
        to the final one, which clamps all of it (with 2, the map was fitted on a
        model anchored by half the gold and applied to one anchored by all of it,
        and came out under-confident).
    top_label : bool
        On gold, also fit the :class:`~labelwise.calibration.TopLabelMap` on the
        tempered posterior.

    Attributes
    ----------
    estimator_ : the fitted wrapped aggregator
    tempering_ : Tempering
        The fitted τ (``temperature``), ε (``floor``) and what they were fitted on.
    top_map_ : TopLabelMap
        The fitted top-label map (the identity without gold or with
        ``top_label=False``).
    proba_, label_codes_, labels_, skill_, confusion_, prior_
        As for every aggregator; labels are the calibrated posterior's top class.

    Examples
    --------
    >>> from labelwise.datasets import load_crowd
    >>> crowd = load_crowd("rte")  # doctest: +SKIP
    >>> model = CalibratedAggregator().fit(crowd.annotations)  # doctest: +SKIP
    >>> model.tempering_.temperature < 1  # doctest: +SKIP
    True
    """

    def __init__(
        self,
        estimator: Any = None,
        *,
        method: str = "auto",
        min_gold: int = 20,
        shrinkage: float = 5.0,
        n_folds: int = 5,
        top_label: bool = True,
    ):
        self.estimator = estimator
        self.method = method
        self.min_gold = min_gold
        self.shrinkage = shrinkage
        self.n_folds = n_folds
        self.top_label = top_label

    def _check_params(self) -> None:
        if self.method not in ("auto", "gold", "answers"):
            raise ParameterError(
                "The 'method' parameter of CalibratedAggregator must be 'auto', 'gold' or "
                f"'answers'. Got {self.method!r} instead."
            )
        check_number(self.min_gold, "min_gold", "CalibratedAggregator", kind=int, low=1)
        check_number(self.shrinkage, "shrinkage", "CalibratedAggregator", low=0)
        check_number(self.n_folds, "n_folds", "CalibratedAggregator", kind=int, low=2)
        if not isinstance(self.top_label, bool):
            raise ParameterError(
                "The 'top_label' parameter of CalibratedAggregator must be a bool. "
                f"Got {self.top_label!r} instead."
            )
        if self.estimator is not None and not isinstance(self.estimator, BaseAggregator):
            raise ParameterError(
                "The 'estimator' parameter of CalibratedAggregator must be a labelwise "
                f"aggregator. Got {type(self.estimator).__name__} instead."
            )

    def _fit(self, annotations: Annotations, gold: NDArray[np.int32]) -> None:
        from sklearn.base import clone  # here, so that importing labelwise.aggregate stays light

        from labelwise.aggregate.dawid_skene import DawidSkene

        if hasattr(self, "label_codes_"):  # a refit: labels come from this fit's posterior
            del self.label_codes_
        base = clone(self.estimator) if self.estimator is not None else DawidSkene()
        known = gold >= 0
        use_gold = self.method == "gold" or (
            self.method == "auto" and int(known.sum()) >= self.min_gold
        )
        if self.method == "gold" and int(known.sum()) < self.min_gold:
            raise InputError(
                f"CalibratedAggregator(method='gold') needs at least min_gold={self.min_gold} "
                f"gold items; got {int(known.sum())}."
            )
        self.top_map_ = TopLabelMap()
        counts = annotations.vote_counts()
        if use_gold:
            self.tempering_, self.top_map_ = self._fit_on_gold(annotations, base, gold, counts)
        else:
            fitted = base.fit(annotations)
            log_prior, loglik, rows, _ = self._evidence(annotations, fitted)
            self.tempering_ = fit_tempering(
                log_prior, loglik, answer_item=annotations.item, answer_rows=rows,
                method="answers",
            )  # fmt: skip
        self.estimator_ = clone(base).fit(annotations, gold=_as_series(annotations, gold))
        log_prior, loglik, rows, conf = self._evidence(annotations, self.estimator_)
        tempered = self.tempering_.apply(log_prior, loglik)
        self.proba_ = clamp_gold(self.top_map_.apply(tempered, counts), gold)
        self.prior_ = np.exp(log_prior)
        self.confusion_ = conf
        self.skill_ = expected_accuracy(conf, self.prior_)

    def _fit_on_gold(
        self,
        annotations: Annotations,
        base: Any,
        gold: NDArray[np.int32],
        counts: NDArray[np.float64],
    ) -> tuple[Tempering, TopLabelMap]:
        """τ, ε and the top-label map from gold items the fit did not see: the gold is
        split in ``n_folds``, each fold read off a fit that clamps the other folds (as
        the final fit clamps all)."""
        from sklearn.base import clone

        known = np.flatnonzero(gold >= 0)
        folds = min(self.n_folds, known.size)
        fold = np.random.default_rng(0).permutation(known.size) % folds
        lp_rows, ll_rows, y_rows = [], [], []
        for f in range(folds):
            given = gold.copy()
            given[known[fold == f]] = -1
            fitted = clone(base).fit(annotations, gold=_as_series(annotations, given))
            log_prior, loglik, _, _ = self._evidence(annotations, fitted)
            held = known[fold == f]
            lp_rows.append(np.broadcast_to(log_prior, (held.size, log_prior.size)))
            ll_rows.append(loglik[held])
            y_rows.append(gold[held])
        lp, ll, y = np.concatenate(lp_rows), np.concatenate(ll_rows), np.concatenate(y_rows)
        tempering = fit_tempering(lp, ll, truth=y, method="gold", min_gold=1)
        if not self.top_label:
            return tempering, TopLabelMap()
        held = np.concatenate([known[fold == f] for f in range(folds)])
        return tempering, fit_top_label_map(tempering.apply(lp, ll), counts[held], y)

    def _evidence(
        self, annotations: Annotations, fitted: Any
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Log prior, answer log-likelihood, answer rows and the shrunk confusions."""
        post = np.asarray(fitted.proba_, dtype=np.float64)
        conf = confusion_from_posterior(annotations, post, shrinkage=self.shrinkage)
        prior = post.sum(axis=0) + 1.0
        log_prior = np.log(prior / prior.sum())
        loglik, rows = answer_log_likelihood(annotations, np.log(np.maximum(conf, 1e-6)))
        return log_prior, loglik, rows, conf
