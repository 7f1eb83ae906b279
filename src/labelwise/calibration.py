"""Does a claimed probability mean what it says? Reliability, ECE, Brier, and the
tempering that makes crowd posteriors honest.

Every decision labelwise takes rests on a posterior: dynamic overlap stops at "99%
sure", the budget planner prices a target from it, audit ranks by it. On real crowds
the Dawid-Skene posterior over-claims (0.99 claimed where 0.93 is right on RTE, 0.96
where 0.79 is right on LabelMe) because it multiplies the answers of one item as if
they were independent given the class, while real answers share the item's
difficulty and the crowd's common confusions, and because the confusion matrices are
point estimates fitted on the same answers.

This module measures that and corrects it:

- :func:`reliability_table`, :func:`expected_calibration_error`, :func:`brier_score`,
  :func:`calibration_report`: against gold;
- :func:`gold_calibration`: an aggregator's calibration on gold it did not see
  (cross-fitted over folds of the gold);
- :func:`answer_calibration`: without gold, how well the posterior from an item's
  other answers predicts each held-out answer;
- :class:`Tempering` and :func:`fit_tempering`: the correction,
  ``p(k) ∝ [prior_k · exp(τ · loglik_k)]`` mixed with a floor ``ε`` spread evenly
  (``τ < 1``: answers count for less than independent evidence; ``ε``: the share of
  items the crowd gets wrong however many answers agree). Fitted on gold when there is
  some (both parameters), else on held-out answers (``τ`` only);
- :class:`TopLabelMap` and :func:`fit_top_label_map`: on gold, the probability that
  an item's top label is right from its tempered confidence and its answers (how many,
  how many agree, their entropy), applied with :func:`rescale_top`, which never changes
  a label;
- :func:`ece_noise_floor`: the ECE a perfectly calibrated posterior shows on the same
  items, i.e. how small an ECE these items can tell apart from zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise._lazy import lazy_module
from labelwise.errors import InputError, ParameterError

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = [
    "CalibrationReport",
    "ReliabilityTable",
    "Tempering",
    "TopLabelMap",
    "answer_calibration",
    "answer_log_likelihood",
    "brier_score",
    "calibration_report",
    "ece_noise_floor",
    "expected_calibration_error",
    "fit_tempering",
    "fit_top_label_map",
    "gold_calibration",
    "gold_cross_fit",
    "reliability_table",
    "rescale_top",
]


def _check(proba: ArrayLike, truth: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    p = np.asarray(proba, dtype=np.float64)
    y = np.asarray(truth)
    if p.ndim != 2 or p.shape[1] < 2:
        raise InputError(f"proba must have shape (n, K) with K >= 2; got {p.shape}.")
    if y.shape != (p.shape[0],) or (y.size and y.dtype.kind not in "iu"):
        raise InputError(
            f"truth must hold one class code per row of proba ({p.shape[0]}); "
            f"got {y.dtype} of shape {y.shape}."
        )
    keep = y >= 0  # -1: unknown, left out
    p, y = p[keep], y[keep].astype(np.int64)
    if y.size == 0:
        raise InputError("truth has no known class (all -1): nothing to calibrate against.")
    if y.max() >= p.shape[1]:
        bad = int(np.flatnonzero(y >= p.shape[1])[0])
        raise InputError(f"truth[{bad}] = {y[bad]} is not a class code in 0..{p.shape[1] - 1}.")
    if not np.isfinite(p).all() or (p < -1e-9).any():
        raise InputError("proba holds a negative or non-finite value.")
    return p, y


@dataclass(frozen=True)
class ReliabilityTable:
    """Claimed confidence against accuracy, by bins of confidence.

    Attributes
    ----------
    edges : ndarray (n_bins + 1,)
        Bin edges on the confidence (the top class's probability).
    count : ndarray of int (n_bins,)
    confidence, accuracy : ndarray (n_bins,)
        Mean confidence and share right in each bin (NaN for an empty bin).
    """

    edges: NDArray[np.float64]
    count: NDArray[np.int64]
    confidence: NDArray[np.float64]
    accuracy: NDArray[np.float64]

    def to_frame(self) -> pd.DataFrame:
        """One row per non-empty bin: ``bin, n, confidence, accuracy, gap``."""
        keep = self.count > 0
        lo, hi = self.edges[:-1][keep], self.edges[1:][keep]
        return pd.DataFrame(
            {
                "bin": [f"{a:.2f}-{b:.2f}" for a, b in zip(lo, hi, strict=True)],
                "n": self.count[keep],
                "confidence": self.confidence[keep],
                "accuracy": self.accuracy[keep],
                "gap": self.confidence[keep] - self.accuracy[keep],
            }
        )

    def plot(self, ax: Any = None) -> Any:
        """Draw the reliability diagram on ``ax`` (a new matplotlib Axes if None)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(4, 4))
        keep = self.count > 0
        ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="calibrated")
        ax.plot(self.confidence[keep], self.accuracy[keep], marker="o", label="observed")
        ax.set_xlabel("claimed confidence")
        ax.set_ylabel("accuracy")
        ax.legend(loc="upper left")
        return ax


def reliability_table(
    proba: ArrayLike, truth: ArrayLike, *, n_bins: int = 10, strategy: str = "uniform"
) -> ReliabilityTable:
    """Bin items by confidence and compare each bin's mean confidence with its accuracy.

    Parameters
    ----------
    proba : array (n, K)
        Posterior per item.
    truth : array of int (n,)
        True class codes; ``-1`` rows are left out.
    n_bins : int
    strategy : {"uniform", "quantile"}
        Equal-width bins on [1/K, 1] or bins holding equal numbers of items.

    Returns
    -------
    ReliabilityTable
    """
    p, y = _check(proba, truth)
    if not (isinstance(n_bins, int) and n_bins >= 1):
        raise ParameterError(f"The 'n_bins' parameter must be an int >= 1. Got {n_bins!r} instead.")
    conf = p.max(axis=1)
    right = (p.argmax(axis=1) == y).astype(np.float64)
    if strategy == "uniform":
        edges = np.linspace(1.0 / p.shape[1], 1.0, n_bins + 1)
    elif strategy == "quantile":
        edges = np.quantile(conf, np.linspace(0, 1, n_bins + 1))
    else:
        raise ParameterError(
            f"The 'strategy' parameter must be 'uniform' or 'quantile'. Got {strategy!r} instead."
        )
    idx = np.clip(np.searchsorted(edges, conf, side="right") - 1, 0, n_bins - 1)
    count = np.bincount(idx, minlength=n_bins)
    with np.errstate(invalid="ignore"):
        mean_conf = np.bincount(idx, weights=conf, minlength=n_bins) / count
        acc = np.bincount(idx, weights=right, minlength=n_bins) / count
    return ReliabilityTable(edges, count.astype(np.int64), mean_conf, acc)


def expected_calibration_error(proba: ArrayLike, truth: ArrayLike, *, n_bins: int = 10) -> float:
    """Share-weighted mean gap between confidence and accuracy over confidence bins.

    ``ECE = sum_b (n_b / n) |conf_b - acc_b|`` on ``n_bins`` equal-width bins; 0 for a
    perfectly calibrated posterior.
    """
    t = reliability_table(proba, truth, n_bins=n_bins)
    keep = t.count > 0
    w = t.count[keep] / t.count.sum()
    return float((w * np.abs(t.confidence[keep] - t.accuracy[keep])).sum())


def brier_score(proba: ArrayLike, truth: ArrayLike) -> float:
    """Mean squared distance between the posterior and the one-hot truth (0 best, 2 worst)."""
    p, y = _check(proba, truth)
    onehot = np.zeros_like(p)
    onehot[np.arange(y.size), y] = 1.0
    return float(((p - onehot) ** 2).sum(axis=1).mean())


@dataclass(frozen=True)
class CalibrationReport:
    """How far a posterior's claims are from what it delivers.

    ``accuracy`` (top class right), ``confidence`` (mean claimed), ``gap`` = confidence -
    accuracy (positive: over-confident), ``ece``, ``brier``, ``log_loss``, ``n`` items
    scored, the ``table``, ``source`` ("gold" or "held-out answers"), and
    ``ece_floor``: the mean ECE a perfectly calibrated posterior shows on the same items
    (:func:`ece_noise_floor`; None when not asked for).
    """

    accuracy: float
    confidence: float
    ece: float
    brier: float
    log_loss: float
    n: int
    table: ReliabilityTable
    source: str = "gold"
    ece_floor: float | None = None

    @property
    def gap(self) -> float:
        return self.confidence - self.accuracy

    def summary(self) -> dict[str, float | int | str]:
        """The headline figures, for a CLI summary or a report."""
        out: dict[str, float | int | str] = {
            "calibrated against": self.source,
            "items scored": self.n,
            "accuracy": self.accuracy,
            "mean confidence": self.confidence,
            "confidence - accuracy": self.gap,
            "ECE": self.ece,
        }
        if self.ece_floor is not None:
            out["ECE of a calibrated posterior here (noise)"] = self.ece_floor
        out["Brier"] = self.brier
        out["log loss"] = self.log_loss
        return out


def calibration_report(
    proba: ArrayLike,
    truth: ArrayLike,
    *,
    n_bins: int = 10,
    source: str = "gold",
    noise_floor: bool = False,
) -> CalibrationReport:
    """Accuracy, mean confidence, ECE, Brier score, log loss and the reliability table;
    with ``noise_floor``, also the ECE a calibrated posterior would show here."""
    p, y = _check(proba, truth)
    conf = p.max(axis=1)
    picked = np.clip(p[np.arange(y.size), y], 1e-12, 1.0)
    return CalibrationReport(
        accuracy=float((p.argmax(axis=1) == y).mean()),
        confidence=float(conf.mean()),
        ece=expected_calibration_error(p, y, n_bins=n_bins),
        brier=brier_score(p, y),
        log_loss=float(-np.log(picked).mean()),
        n=int(y.size),
        table=reliability_table(p, y, n_bins=n_bins),
        source=source,
        ece_floor=ece_noise_floor(p, n_bins=n_bins)[0] if noise_floor else None,
    )


def gold_calibration(
    aggregator: Any,
    annotations: Any,
    gold: ArrayLike,
    *,
    n_folds: int = 2,
    n_bins: int = 10,
    random_state: Any = None,
    noise_floor: bool = False,
) -> CalibrationReport:
    """Calibration of ``aggregator`` on gold it was not given.

    The gold items (codes per item, ``-1`` unknown) are split into ``n_folds``; for each
    fold a clone is fitted with the other folds' gold clamped and scored on this fold's
    items (:func:`gold_cross_fit`). So the gold anchors the skills as it would in use,
    and no item is scored on its own known answer.
    """
    proba, truth = gold_cross_fit(
        aggregator, annotations, gold, n_folds=n_folds, random_state=random_state
    )
    return calibration_report(proba, truth, n_bins=n_bins, noise_floor=noise_floor)


def gold_cross_fit(
    aggregator: Any,
    annotations: Any,
    gold: ArrayLike,
    *,
    n_folds: int = 2,
    random_state: Any = None,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """The gold items' posteriors, each from a clone of ``aggregator`` fitted with the
    other folds' gold clamped; returns ``(proba (n_gold, K), truth (n_gold,))``.

    Exists so that a posterior scored on gold (by :func:`gold_calibration`, or by any
    other score such as :func:`ece_noise_floor`) never saw the item's own gold label.
    """
    from sklearn.base import clone

    from labelwise._validation import check_random_state

    g = np.asarray(gold, dtype=np.int64)
    if g.shape != (annotations.n_items,):
        raise InputError(
            f"gold must hold one class code per item ({annotations.n_items}); got {g.shape}."
        )
    known = np.flatnonzero(g >= 0)
    if known.size < n_folds:
        raise InputError(f"gold_calibration needs at least {n_folds} gold items; got {known.size}.")
    rng = check_random_state(random_state)
    fold = rng.permutation(known.size) % n_folds
    proba = np.zeros((known.size, annotations.n_classes))
    for f in range(n_folds):
        given = np.full(annotations.n_items, -1, dtype=np.int32)
        given[known[fold != f]] = g[known[fold != f]]
        model = clone(aggregator).fit(annotations, gold=_gold_series(annotations, given))
        proba[fold == f] = model.proba_[known[fold == f]]
    return proba, g[known]


def _gold_series(annotations: Any, codes: NDArray[np.int32]) -> pd.Series | None:
    """Gold codes as the ``item -> label`` Series that ``fit(gold=)`` reads."""
    known = codes >= 0
    if not known.any():
        return None
    return pd.Series(annotations.classes[codes[known]], index=pd.Index(annotations.item_ids[known]))


# ---------------------------------------------------------------- tempering
def answer_log_likelihood(
    annotations: Any, log_confusion: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per item and class, the log-likelihood of its answers under the confusion
    matrices; and each answer's own row.

    Returns ``(loglik (n_items, K), rows (n_annotations, K))`` with
    ``rows[j, k] = log C[worker_j, k, label_j]`` and ``loglik[i] = sum of i's rows``.
    """
    rows = log_confusion[annotations.worker, :, annotations.label]
    k = log_confusion.shape[1]
    loglik = np.stack(
        [
            np.bincount(annotations.item, weights=rows[:, c], minlength=annotations.n_items)
            for c in range(k)
        ],
        axis=1,
    )
    return loglik, rows


@dataclass(frozen=True)
class Tempering:
    """``p(k) = (1 - floor) · softmax(log prior + temperature · loglik)_k + floor / K``.

    ``temperature`` (τ) below one counts each answer as less than independent
    evidence; ``floor`` (ε) is the share of items left uncertain however many answers
    agree. ``Tempering()`` (τ = 1, ε = 0) is the untouched posterior.
    """

    temperature: float = 1.0
    floor: float = 0.0
    source: str = "none"

    def apply(
        self, log_prior: NDArray[np.float64], loglik: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """The tempered posterior, rows summing to one."""
        logp = np.asarray(log_prior) + self.temperature * np.asarray(loglik)
        logp = logp - logp.max(axis=-1, keepdims=True)
        p = np.exp(logp)
        p /= p.sum(axis=-1, keepdims=True)
        k = p.shape[-1]
        return (1.0 - self.floor) * p + self.floor / k  # type: ignore[no-any-return]


_TAU_RANGE = (0.02, 2.0)
_FLOORS = np.concatenate([[0.0], np.exp(np.linspace(np.log(1e-3), np.log(0.3), 30))])


def _search(score: Any, low: float, high: float) -> float:
    """The ``τ`` in [low, high] of least ``score(τ)``: a log-spaced grid of 13, then 13
    more within the best point's neighbours (deterministic, 26 evaluations)."""
    grid = np.exp(np.linspace(np.log(low), np.log(high), 13))
    vals = [score(float(t)) for t in grid]
    j = int(np.argmin(vals))
    lo, hi = grid[max(j - 1, 0)], grid[min(j + 1, grid.size - 1)]
    fine = np.exp(np.linspace(np.log(lo), np.log(hi), 13))
    fine_vals = [score(float(t)) for t in fine]
    jj = int(np.argmin(fine_vals))
    return float(fine[jj]) if fine_vals[jj] <= vals[j] else float(grid[j])


def _nll_gold(
    log_prior: NDArray[np.float64], loglik: NDArray[np.float64], y: NDArray[np.int64], tau: float
) -> NDArray[np.float64]:
    """Negative log-likelihood of the gold for every floor of the grid at ``tau``."""
    p = Tempering(tau).apply(log_prior, loglik)
    k = p.shape[1]
    picked = p[np.arange(y.size), y][:, None]
    return -np.log((1 - _FLOORS[None]) * picked + _FLOORS[None] / k + 1e-300).sum(axis=0)  # type: ignore[no-any-return]


def fit_tempering(
    log_prior: ArrayLike,
    loglik: ArrayLike,
    *,
    truth: ArrayLike | None = None,
    answer_item: ArrayLike | None = None,
    answer_rows: ArrayLike | None = None,
    answer_own: ArrayLike | None = None,
    method: Literal["gold", "answers"] = "gold",
    min_gold: int = 20,
) -> Tempering:
    """Fit the tempering that makes a crowd posterior honest.

    Parameters
    ----------
    log_prior : array (K,) or (n_items, K)
        Log class prior (or per-item log prior).
    loglik : array (n_items, K)
        Log-likelihood of each item's answers per class (:func:`answer_log_likelihood`).
    truth : array of int (n_items,), optional
        Gold class codes (``-1`` unknown), for ``method="gold"``: τ and ε maximise the
        likelihood of the gold classes (a grid search, so the fit is deterministic).
    answer_item, answer_rows : arrays (n_answers,), (n_answers, K), optional
        Each answer's item and its own log-likelihood row, for ``method="answers"``: τ
        maximises the likelihood of every answer given the item's other answers
        (leave one answer out), τ <= 1; ε stays 0, the answers cannot reveal errors the crowd
        shares.
    answer_own : array (n_answers, K), optional
        The probability of each held-out answer under each class, read through a
        confusion matrix that did not learn from that answer (default
        ``exp(answer_rows)``, which did, and so flatters the fit).
    method : {"gold", "answers"}
    min_gold : int
        Fewer gold items than this: fall back to ``"answers"`` when answer rows are
        given, else no tempering.

    Returns
    -------
    Tempering
    """
    lp = np.asarray(log_prior, dtype=np.float64)
    ll = np.asarray(loglik, dtype=np.float64)
    if method not in ("gold", "answers"):
        raise ParameterError(f"The 'method' parameter must be 'gold' or 'answers'. Got {method!r}.")
    if method == "gold" and truth is not None:
        y = np.asarray(truth, dtype=np.int64)
        known = y >= 0
        if int(known.sum()) >= min_gold:
            lpk = lp[known] if lp.ndim == 2 else lp
            llk, yk = ll[known], y[known]
            tau = _search(lambda t: float(_nll_gold(lpk, llk, yk, t).min()), *_TAU_RANGE)
            floor = float(_FLOORS[int(np.argmin(_nll_gold(lpk, llk, yk, tau)))])
            return Tempering(tau, floor, "gold")
    if answer_item is None or answer_rows is None:
        return Tempering()
    item = np.asarray(answer_item, dtype=np.int64)
    rows = np.asarray(answer_rows, dtype=np.float64)
    others = np.bincount(item, minlength=ll.shape[0])[item] - 1
    m = others > 0
    if not m.any():
        return Tempering()
    rest = ll[item[m]] - rows[m]
    lpa = lp[item[m]] if lp.ndim == 2 else lp
    own = np.exp(rows[m]) if answer_own is None else np.asarray(answer_own, dtype=np.float64)[m]

    # answers can show that they are weaker evidence than independent ones, never that
    # they are stronger: on replayed crowds a fitted τ > 1 only sharpened the over-claim
    def nll(t: float) -> float:
        return -float(np.log((Tempering(t).apply(lpa, rest) * own).sum(axis=1) + 1e-300).sum())

    return Tempering(_search(nll, _TAU_RANGE[0], 1.0), 0.0, "held-out answers")


def answer_calibration(
    annotations: Any,
    log_prior: ArrayLike,
    log_confusion: ArrayLike,
    *,
    n_bins: int = 10,
    tempering: Tempering | None = None,
) -> CalibrationReport:
    """Without gold: how well the posterior from each item's other answers predicts a
    held-out answer, read through the annotator's confusion matrix.

    Each answer of an item with at least two is predicted from the others; the
    report's "truth" is the answer given and its "proba" the predicted answer
    distribution. An over-confident posterior predicts answers too sharply.
    """
    lc = np.asarray(log_confusion, dtype=np.float64)
    ll, rows = answer_log_likelihood(annotations, lc)
    item = annotations.item.astype(np.int64)
    others = np.bincount(item, minlength=annotations.n_items)[item] - 1
    m = others > 0
    if not m.any():
        raise InputError("answer_calibration needs items with at least two answers.")
    t = tempering if tempering is not None else Tempering()
    lp = np.asarray(log_prior, dtype=np.float64)
    post = t.apply(lp[item[m]] if lp.ndim == 2 else lp, ll[item[m]] - rows[m])
    pred = np.einsum("nk,nkl->nl", post, np.exp(lc[annotations.worker[m]]))
    return calibration_report(
        pred, annotations.label[m].astype(np.int64), n_bins=n_bins, source="held-out answers"
    )


# ---------------------------------------------------------------- top-label map
def _top_features(
    proba: NDArray[np.float64], counts: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The top-label confidence and the map's features: its logit, the share of the
    item's answers that agree with the top label, log(1 + answers), answer entropy."""
    top = proba.argmax(axis=1)
    rows = np.arange(top.size)
    conf = proba[rows, top]
    c = np.clip(conf, 1e-9, 1.0 - 1e-9)
    n = counts.sum(axis=1)
    share = np.where(n > 0, counts[rows, top] / np.maximum(n, 1.0), 0.0)
    q = counts / np.maximum(n, 1.0)[:, None]
    entropy = -(q * np.log(np.where(q > 0, q, 1.0))).sum(axis=1)
    return conf, np.column_stack([np.log(c / (1.0 - c)), share, np.log1p(n), entropy])


def rescale_top(proba: ArrayLike, confidence: ArrayLike) -> NDArray[np.float64]:
    """Give each row's top class the probability ``confidence`` without reordering.

    A lower confidence mixes the row towards uniform, a higher one towards the
    one-hot of its top class, so every row keeps its order of classes (its label
    included). ``confidence`` is clipped to ``[1/K, 1]``.
    """
    p = np.asarray(proba, dtype=np.float64)
    k = p.shape[1]
    rows = np.arange(p.shape[0])
    top = p.argmax(axis=1)
    c = p[rows, top]
    new = np.clip(np.asarray(confidence, dtype=np.float64), 1.0 / k, 1.0)
    down = new <= c
    # lower: p' = a p + (1 - a) / K; higher: p' = b p + (1 - b) one-hot(top)
    # (a stays above zero: a row mixed fully to uniform would tie and could lose its label)
    a = np.maximum((new - 1.0 / k) / np.maximum(c - 1.0 / k, 1e-12), 1e-6)
    b = (1.0 - new) / np.maximum(1.0 - c, 1e-12)
    onehot = np.zeros_like(p)
    onehot[rows, top] = 1.0
    out = np.where(
        down[:, None],
        a[:, None] * p + (1.0 - a[:, None]) / k,
        b[:, None] * p + (1.0 - b[:, None]) * onehot,
    )
    return out / out.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class TopLabelMap:
    """The probability that an item's top label is right, from its posterior and its
    answers: ``sigmoid(intercept + coef · standardised features)``.

    Features (:func:`_top_features`): the logit of the top-label confidence, the share
    of the item's answers agreeing with the top label, ``log(1 + answers)`` and the
    entropy of the answers. The coefficient of the confidence is kept at or above
    zero, so the map never ranks a more confident item below a less confident one with
    the same answers. ``TopLabelMap()`` is the identity.

    Why it exists: a temperature and a floor reshape the whole posterior with two
    numbers; on LabelMe (8 classes, 2.5 answers per item) the right correction
    depends on how many answers agree, which they cannot express.
    """

    coef: tuple[float, ...] = ()
    intercept: float = 0.0
    mean: tuple[float, ...] = ()
    scale: tuple[float, ...] = ()

    def confidence(self, proba: ArrayLike, counts: ArrayLike) -> NDArray[np.float64]:
        """The calibrated top-label confidence per row."""
        p = np.asarray(proba, dtype=np.float64)
        conf, x = _top_features(p, np.asarray(counts, dtype=np.float64))
        if not self.coef:
            return conf
        z = self.intercept + ((x - np.asarray(self.mean)) / np.asarray(self.scale)) @ np.asarray(
            self.coef
        )
        return 1.0 / (1.0 + np.exp(-z))  # type: ignore[no-any-return]

    def apply(self, proba: ArrayLike, counts: ArrayLike) -> NDArray[np.float64]:
        """The posterior with its top class set to the calibrated confidence (labels
        and the order of classes unchanged, :func:`rescale_top`)."""
        p = np.asarray(proba, dtype=np.float64)
        if not self.coef:
            return p
        return rescale_top(p, self.confidence(p, counts))


def fit_top_label_map(
    proba: ArrayLike, counts: ArrayLike, truth: ArrayLike, *, penalty: float = 1.0
) -> TopLabelMap:
    """Fit :class:`TopLabelMap` on gold: a logistic regression of "top label right".

    Parameters
    ----------
    proba : array (n, K)
        Posteriors of gold items, from a fit that did not see their gold labels.
    counts : array (n, K)
        Their answer counts per class (``Annotations.vote_counts()`` rows).
    truth : array of int (n,)
        Their gold class codes (``-1`` rows are left out).
    penalty : float
        L2 penalty on the standardised coefficients (as ``C = 1/penalty`` in
        scikit-learn); it keeps the map near a plain temperature on little gold.

    Returns
    -------
    TopLabelMap
        The identity when the gold holds only right or only wrong top labels.
    """
    from scipy.optimize import minimize

    p, y = _check(proba, truth)
    cnt = np.asarray(counts, dtype=np.float64)[np.asarray(truth) >= 0]
    _, x = _top_features(p, cnt)
    right = (p.argmax(axis=1) == y).astype(np.float64)
    if right.min() == right.max():
        return TopLabelMap()
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    xs = (x - mean) / scale
    d = xs.shape[1]

    def loss(theta: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        z = theta[0] + xs @ theta[1:]
        # log(1 + e^z) - y z, and its gradient, stable for large |z|
        nll = float((np.logaddexp(0.0, z) - right * z).sum()) + 0.5 * penalty * float(
            theta[1:] @ theta[1:]
        )
        r = 1.0 / (1.0 + np.exp(-z)) - right
        grad = np.concatenate([[r.sum()], xs.T @ r + penalty * theta[1:]])
        return nll, grad

    bounds = [(None, None), (0.0, None)] + [(None, None)] * (d - 1)
    start = np.zeros(d + 1)
    start[0] = float(np.log((right.mean() + 1e-3) / (1.0 - right.mean() + 1e-3)))
    res = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds)
    theta = res.x
    return TopLabelMap(
        coef=tuple(float(v) for v in theta[1:]),
        intercept=float(theta[0]),
        mean=tuple(float(v) for v in mean),
        scale=tuple(float(v) for v in scale),
    )


def ece_noise_floor(
    proba: ArrayLike, *, n_bins: int = 10, n_draws: int = 200, random_state: Any = 0
) -> tuple[float, float]:
    """The ECE that a perfectly calibrated posterior would show on these items.

    Each draw makes every item's top label right with probability equal to its own
    confidence and scores the ECE of ``proba`` against that; the mean and the 95th
    percentile over draws are returned. An ECE measured on gold at or under the
    mean is within the estimator's own noise at this number of items and bins.
    """
    from labelwise._validation import check_random_state

    p = np.asarray(proba, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise InputError(f"proba must have shape (n, K) with K >= 2; got {p.shape}.")
    rng = check_random_state(random_state)
    top = p.argmax(axis=1)
    conf = p.max(axis=1)
    other = (top + 1) % p.shape[1]
    draws = [
        expected_calibration_error(
            p, np.where(rng.random(conf.size) < conf, top, other), n_bins=n_bins
        )
        for _ in range(n_draws)
    ]
    return float(np.mean(draws)), float(np.quantile(draws, 0.95))
