"""Consensus quality for crowd-labeled data: annotators, their skill and a model together.

In the spirit of CROWDLAB (Goh, Tkachenko and Mueller, 2022). Each item's
posterior over classes is a weighted average of

- the model's out-of-fold probabilities, weighted by how much better than always
  answering the most common class the model agrees with the consensus, times the
  square root of the mean number of answers per item (a model counts for more
  when items have few answers);
- one likelihood vector per answer: the annotator's fitted confusion row
  ``P(answer | true class)`` normalised over classes when the aggregator has
  ``confusion_`` (Dawid-Skene), else ``skill`` on the answer and the rest spread
  evenly; weighted by the annotator's skill above the same baseline.

The consensus label is the aggregator's own (``label_codes_``, so majority vote's
tie-break is kept, not replaced by an arg-max over its vote shares; an item it left
tied under ``ties="flag"`` takes the combined posterior's most probable class); its
*quality* is the posterior's
probability of it. Items are ranked lowest quality first: the consensus most
likely wrong comes first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise._validation import check_proba
from labelwise.annotations import Annotations
from labelwise.errors import InputError

__all__ = ["CrowdQuality", "consensus_quality"]

#: Smallest weight an annotator or the model keeps (a worse-than-baseline source
#: is almost ignored, not subtracted).
MIN_WEIGHT = 1e-3


@dataclass(frozen=True)
class CrowdQuality:
    """What :func:`consensus_quality` found.

    Attributes
    ----------
    consensus : ndarray of int (n_items,)
        The aggregator's consensus class codes.
    quality : ndarray (n_items,)
        Posterior probability of the consensus label; low = probably wrong.
    posterior : ndarray (n_items, K)
        The combined posterior.
    suggested : ndarray of int (n_items,)
        The posterior's most probable class.
    ranking : ndarray of int (n_items,)
        All items, lowest quality first.
    annotator_weight : ndarray (n_workers,)
    model_weight : float
    """

    consensus: NDArray[np.int64]
    quality: NDArray[np.float64]
    posterior: NDArray[np.float64]
    suggested: NDArray[np.int64]
    ranking: NDArray[np.int64]
    annotator_weight: NDArray[np.float64]
    model_weight: float


def _consensus_codes(aggregator: Any) -> NDArray[np.int64]:
    """The aggregator's own consensus codes (its tie-break included), ``-1`` where it
    left an item tied; the posterior's arg-max only for an aggregator without codes."""
    codes = getattr(aggregator, "label_codes_", None)
    if codes is None:
        codes = np.asarray(aggregator.proba_).argmax(axis=1)
    return np.array(codes, dtype=np.int64)


def consensus_quality(
    annotations: Annotations,
    proba: ArrayLike,
    *,
    aggregator: Any = None,
    gold: ArrayLike | None = None,
) -> CrowdQuality:
    """Score how likely each item's consensus label is correct.

    Parameters
    ----------
    annotations : Annotations
        The crowd's answers.
    proba : array (n_items, K)
        Out-of-fold model probabilities, rows aligned with ``annotations.item_ids``
        and columns with ``annotations.classes``.
    aggregator : fitted or unfitted labelwise aggregator, optional
        Gives the consensus and annotator skill (``skill_``, and ``confusion_`` when
        it has one). Default: :class:`~labelwise.aggregate.DawidSkene`, fitted here.
    gold : array of int (n_items,), optional
        Known class codes (``-1`` unknown). With at least 20, the combined posterior
        is calibrated on them (:func:`labelwise.calibration.fit_tempering`: a
        temperature and a floor), so that a quality of 0.8 means right 80% of the
        time; the raw weighted average is under-confident on LabelMe (mean 0.71 where
        the consensus is right 79% of the time).

    Returns
    -------
    CrowdQuality
    """
    if not isinstance(annotations, Annotations):
        raise InputError(
            f"annotations must be an Annotations object; got {type(annotations).__name__}."
        )
    p = check_proba(proba, "proba")
    n, k = annotations.n_items, annotations.n_classes
    if p.shape != (n, k):
        raise InputError(
            f"proba has shape {p.shape}; the annotations have {n} items and {k} classes."
        )
    if aggregator is None:
        from labelwise.aggregate import DawidSkene

        aggregator = DawidSkene()
    if not hasattr(aggregator, "skill_"):
        aggregator = aggregator.fit(annotations)
    consensus = _consensus_codes(aggregator)
    skill = np.clip(np.asarray(aggregator.skill_, dtype=np.float64), 0.0, 1.0)
    ok = consensus >= 0
    prior = np.bincount(consensus[ok], minlength=k) / max(int(ok.sum()), 1)
    baseline = float(min(prior.max(), 1 - 1e-6))
    w_ann = np.maximum(1.0 - (1.0 - skill) / (1.0 - baseline), MIN_WEIGHT)
    model_acc = float((p.argmax(axis=1) == consensus)[ok].mean()) if ok.any() else 0.0
    per_item = np.bincount(annotations.item, minlength=n)
    w_model = max(1.0 - (1.0 - model_acc) / (1.0 - baseline), MIN_WEIGHT)
    w_model *= float(np.sqrt(per_item.mean()))
    conf = getattr(aggregator, "confusion_", None)
    wk, lab = annotations.worker.astype(np.int64), annotations.label.astype(np.int64)
    if conf is not None:
        like = np.asarray(conf, dtype=np.float64)[wk, :, lab]  # (m, K) over true classes
        like /= np.maximum(like.sum(axis=1, keepdims=True), 1e-12)
    else:
        s = skill[wk][:, None]
        like = np.repeat((1.0 - s) / max(k - 1, 1), k, axis=1)
        like[np.arange(lab.shape[0]), lab] = s[:, 0]
    weights = w_ann[wk]
    summed = np.zeros((n, k))
    np.add.at(summed, annotations.item.astype(np.int64), like * weights[:, None])
    total_w = np.bincount(annotations.item, weights=weights, minlength=n) + w_model
    post = (summed + w_model * p) / total_w[:, None]
    tied = consensus < 0
    if tied.any():  # left tied by the aggregator (ties="flag"): the combined posterior decides
        consensus[tied] = post[tied].argmax(axis=1)
    if gold is not None:
        post = _calibrated(post, consensus, gold)
    quality = post[np.arange(n), consensus]
    ranking = np.argsort(quality, kind="stable").astype(np.int64)
    return CrowdQuality(
        consensus=consensus,
        quality=quality,
        posterior=post,
        suggested=post.argmax(axis=1).astype(np.int64),
        ranking=ranking,
        annotator_weight=w_ann,
        model_weight=w_model,
    )


def _calibrated(
    post: NDArray[np.float64], consensus: NDArray[np.int64], gold: ArrayLike
) -> NDArray[np.float64]:
    """The posterior tempered and floored to match the gold items' accuracy."""
    from labelwise.calibration import fit_tempering

    g = np.asarray(gold, dtype=np.int64)
    if g.shape != (post.shape[0],):
        raise InputError(
            f"gold must hold one class code per item ({post.shape[0]}); got {g.shape}."
        )
    if g.max(initial=-1) >= post.shape[1] or g.min(initial=0) < -1:
        raise InputError(f"gold codes must be -1 (unknown) or in 0..{post.shape[1] - 1}.")
    logp = np.log(np.maximum(post, 1e-12))
    t = fit_tempering(np.zeros(post.shape[1]), logp, truth=g, method="gold")
    return t.apply(np.zeros(post.shape[1]), logp)
