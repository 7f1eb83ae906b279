"""How many labels are wrong: a range, not one number.

The confident joint's off-diagonal mass (:func:`~labelwise.curate.find_label_issues`,
``n_estimated``) is one estimate of the number of wrong labels; the noise-aware
posterior's expected count, the number of items Bayes' rule flags and the number the
model simply disagrees with are others. They agree when the model is good and all
assume that the model's probabilities are right about the *true* class. On real
human noise they are not always: with a weak model (logistic regression on LabelMe's
pixels, 33% accurate) every one of them counted 2.4-2.9x the true number, because a
model that disagrees with a label may be the one that is wrong, and nothing in the
labels and the model alone tells which.

:func:`error_count_range` therefore states a range:

- from the model: the lowest to the highest of those estimates, widened by two
  standard deviations of the count (each label is wrong with its posterior
  probability, so the count varies by ``sqrt(sum q (1 - q))``, and by at least the
  binomial spread of the estimated error rate over ``n`` labels);
- when the model is not trusted (:func:`~labelwise.curate.check_label_model`: no
  better than the majority class, or it would call half the labels wrong), the low
  end drops to zero: the model cannot vouch for any error;
- with gold labels for some items, the range is the Beta interval of the error rate
  measured on them, scaled to all items: direct evidence, whatever the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import beta

from labelwise.errors import InputError

__all__ = ["ErrorCount", "error_count_range"]


@dataclass(frozen=True)
class ErrorCount:
    """The estimated number of wrong labels, as a range.

    Attributes
    ----------
    estimate : int
        The confident joint's estimate (``LabelIssues.n_estimated``).
    low, high : int
        The range stated to users.
    expected : float
        Expected count under the noise-aware posterior (model basis).
    flagged : int
        Items Bayes' rule under the estimated noise calls wrong.
    disagreements : int
        Items whose model top class is not the given label.
    basis : str
        ``"model"``, ``"weak model"`` (low end zero) or ``"gold"``.
    note : str
        One sentence for the user on what the range rests on.
    """

    estimate: int
    low: int
    high: int
    expected: float
    flagged: int
    disagreements: int
    basis: str
    note: str

    def __str__(self) -> str:
        return f"{self.low}-{self.high} (estimate {self.estimate}; {self.basis})"


def error_count_range(
    labels: ArrayLike,
    proba: ArrayLike,
    *,
    trusted: bool = True,
    gold: ArrayLike | None = None,
    level: float = 0.95,
) -> ErrorCount:
    """The number of wrong labels among ``labels``, as a range.

    Parameters
    ----------
    labels : array (n,)
        Given class codes.
    proba : array (n, K)
        Out-of-fold probabilities of a model (the same as for
        :func:`~labelwise.curate.find_label_issues`).
    trusted : bool
        Whether the model passed :func:`~labelwise.curate.check_label_model`; an
        untrusted model's low end is zero.
    gold : array (n,), optional
        True class codes where known, ``-1`` elsewhere. With at least one gold item
        the range is the error rate measured on gold (Beta(1, 1) posterior,
        central ``level`` interval) times ``n``.
    level : float
        Coverage of the gold interval.

    Returns
    -------
    ErrorCount
    """
    from labelwise.curate.label_issues import (
        _check,
        _joint_counts,
        _noise_from_joint,
        _posterior_rule,
        clean_posterior,
        label_posterior,
    )

    y, p = _check(labels, proba)
    n = y.shape[0]
    joint = _joint_counts(y, p)
    noise = _noise_from_joint(joint)
    estimate = round(float(joint.sum() - np.trace(joint)))
    q = 1.0 - label_posterior(y, clean_posterior(p, noise), noise)
    expected = float(q.sum())
    flagged = int(_posterior_rule(y, p, joint).sum())
    disagree = int((p.argmax(axis=1) != y).sum())
    # the count's spread: per-label Bernoulli under the posterior, and at least the
    # binomial spread of a count of ``estimate`` in ``n`` (the rate behind the
    # confident joint is itself estimated from these n labels)
    rate = min(max(estimate / max(n, 1), 0.0), 1.0)
    sd = float(max(np.sqrt((q * (1.0 - q)).sum()), np.sqrt(n * rate * (1.0 - rate))))
    cands = (estimate, expected, flagged, disagree)
    low = int(max(0, np.floor(min(cands) - 2 * sd)))
    high = int(min(n, np.ceil(max(cands) + 2 * sd)))
    basis = "model"
    note = (
        "the model's estimates (confident joint, expected count, Bayes-rule flags, "
        "disagreements) +- 2 standard deviations; a model that shares the labels' "
        "errors can still put the truth outside"
    )
    if not trusted:
        low, basis = 0, "weak model"
        note = (
            "the model is not trusted (check_label_model): it cannot tell wrong labels from "
            "its own mistakes, so the low end is zero and the high end is what it disagrees with"
        )
    if gold is not None:
        g = _gold_codes(gold, n, p.shape[1])
        known = g >= 0
        m = int(known.sum())
        if m:
            wrong = int((y[known] != g[known]).sum())
            lo, hi = beta.ppf([(1 - level) / 2, (1 + level) / 2], wrong + 1, m - wrong + 1)
            low, high = int(np.floor(lo * n)), int(np.ceil(hi * n))
            basis = "gold"
            note = (
                f"{wrong} of {m} gold items carry a wrong label: the {level:.0%} interval of "
                f"that rate, times {n} items"
            )
    return ErrorCount(estimate, low, high, expected, flagged, disagree, basis, note)


def _gold_codes(gold: ArrayLike, n: int, k: int) -> NDArray[np.int64]:
    g = np.asarray(gold, dtype=np.int64)
    if g.shape != (n,):
        raise InputError(
            f"gold must have one code per item ({n}), -1 where unknown; got {g.shape}."
        )
    bad = np.flatnonzero((g < -1) | (g >= k))
    if bad.size:
        raise InputError(f"gold[{bad[0]}] = {g[bad[0]]} is not a class code (0..{k - 1}, -1).")
    return g
