"""Pools of simulated annotators: who they are, how they err, how often they come.

A pool is a stack of confusion matrices with a kind, an arrival rate and a price per
answer for each annotator. :func:`make_pool` mixes the textbook kinds in given
proportions; :func:`pool_from_annotations` fits one to a real crowd data set (the
Dawid-Skene confusion matrices, shrunk towards the crowd's pooled matrix and
resampled to any size).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise._validation import check_number, check_random_state
from labelwise.annotations import Annotations
from labelwise.errors import InputError, ParameterError
from labelwise.simulate._basic import (
    adversary_confusion,
    confusion_from_accuracy,
    constant_confusion,
    sample_answers,
    spammer_confusion,
)

__all__ = [
    "KINDS",
    "AnnotatorPool",
    "asymmetric_confusion",
    "fitted_confusions",
    "make_pool",
    "pool_from_annotations",
]

#: The annotator kinds :func:`make_pool` knows.
KINDS = ("reliable", "sloppy", "asymmetric", "spammer", "constant", "adversary")


@dataclass(frozen=True)
class AnnotatorPool:
    """Simulated annotators.

    Attributes
    ----------
    confusions : ndarray (n_workers, K, K)
        ``confusions[w, k, l]`` = P(annotator w answers l | true class k).
    kinds : ndarray of str (n_workers,)
        Each annotator's kind (``"reliable"``, ``"spammer"``, ``"fitted"`` ...).
    rates : ndarray (n_workers,)
        Relative arrival rates (sum to one): the share of requests each one makes.
    costs : ndarray (n_workers,)
        Money paid per answer.
    """

    confusions: NDArray[np.float64]
    kinds: NDArray[Any]
    rates: NDArray[np.float64]
    costs: NDArray[np.float64]

    def __post_init__(self) -> None:
        # accept lists; frozen, so set through object.__setattr__
        for name, dtype in (
            ("confusions", float),
            ("kinds", object),
            ("rates", float),
            ("costs", float),
        ):
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=dtype))
        c = self.confusions
        if c.ndim != 3 or c.shape[1] != c.shape[2] or c.shape[1] < 2 or c.shape[0] < 1:
            raise InputError(
                f"confusions must have shape (n_workers, K, K), K >= 2; got {c.shape}."
            )
        if (c < 0).any() or not np.allclose(c.sum(axis=2), 1.0, atol=1e-6):
            w = int(
                np.flatnonzero((np.abs(c.sum(axis=2) - 1) > 1e-6).any(1) | (c < 0).any((1, 2)))[0]
            )
            raise InputError(f"confusions[{w}] has a row that is not a probability distribution.")
        for name in ("kinds", "rates", "costs"):
            if getattr(self, name).shape != (c.shape[0],):
                raise InputError(
                    f"{name} must have one entry per annotator ({c.shape[0]}); "
                    f"got shape {getattr(self, name).shape}."
                )
        if (self.rates < 0).any() or self.rates.sum() <= 0:
            raise InputError("rates must be non-negative and not all zero.")
        if (self.costs < 0).any():
            raise InputError(f"costs must be non-negative; got {self.costs.min()}.")

    @property
    def n_workers(self) -> int:
        return int(self.confusions.shape[0])

    @property
    def n_classes(self) -> int:
        return int(self.confusions.shape[1])

    def accuracy(self, prior: ArrayLike | None = None) -> NDArray[np.float64]:
        """Each annotator's probability of a right answer under the class ``prior``."""
        k = self.n_classes
        p = np.full(k, 1.0 / k) if prior is None else np.asarray(prior, dtype=float)
        return np.einsum("wkk,k->w", self.confusions, p)  # type: ignore[no-any-return]

    def answer(
        self, worker: ArrayLike, truth: ArrayLike, random_state: Any = None
    ) -> NDArray[np.int64]:
        """Answers of ``worker[j]`` to items of true class ``truth[j]``."""
        w = np.asarray(worker, dtype=np.int64)
        y = np.asarray(truth, dtype=np.int64)
        return sample_answers(self.confusions, w, y, check_random_state(random_state))

    def arrivals(self, n: int, random_state: Any = None) -> NDArray[np.int64]:
        """``n`` requests for work in random order: annotator ``w`` comes with
        probability ``rates[w]`` each time."""
        rng = check_random_state(random_state)
        return rng.choice(self.n_workers, size=n, p=self.rates / self.rates.sum())

    def subset(self, workers: ArrayLike) -> AnnotatorPool:
        """The pool restricted to ``workers`` (rates renormalised)."""
        w = np.asarray(workers, dtype=np.int64)
        r = self.rates[w]
        return AnnotatorPool(self.confusions[w], self.kinds[w], r / r.sum(), self.costs[w])


def asymmetric_confusion(
    n_classes: int, accuracy: float, *, concentration: float = 1.0, random_state: Any = None
) -> NDArray[np.float64]:
    """A random asymmetric confusion matrix with mean ``accuracy`` on the diagonal.

    Each row's errors follow a Dirichlet(``concentration``) draw of its own, so a cat
    is taken for a dog more often than a dog for a cat. Small ``concentration``
    concentrates each row's mistakes on one or two classes.
    """
    check_number(accuracy, "accuracy", "asymmetric_confusion", low=0, high=1)
    check_number(concentration, "concentration", "asymmetric_confusion", low=0, low_open=True)
    rng = check_random_state(random_state)
    k = n_classes
    errors = rng.dirichlet(np.full(k - 1, concentration), size=k)
    conf = np.zeros((k, k))
    off = ~np.eye(k, dtype=bool)
    conf[off] = (errors * (1 - accuracy)).reshape(-1)
    np.fill_diagonal(conf, accuracy)
    return conf


def _counts_from_shares(shares: Mapping[str, float], n: int) -> dict[str, int]:
    """Largest-remainder rounding of ``shares`` (any positive scale) to ``n`` annotators."""
    names = list(shares)
    w = np.asarray([shares[k] for k in names], dtype=float)
    if (w < 0).any() or w.sum() <= 0 or not np.isfinite(w).all():
        raise ParameterError(
            f"proportions must be non-negative and not all zero; got {dict(shares)}."
        )
    exact = w / w.sum() * n
    base = np.floor(exact).astype(int)
    rest = n - base.sum()
    base[np.argsort(-(exact - base), kind="stable")[:rest]] += 1
    return dict(zip(names, base.tolist(), strict=True))


def make_pool(
    n_workers: int,
    n_classes: int,
    *,
    proportions: Mapping[str, float] | None = None,
    accuracy: tuple[float, float] = (0.7, 0.95),
    sloppy_accuracy: tuple[float, float] = (0.45, 0.65),
    errors: ArrayLike | None = None,
    rate_spread: float = 0.5,
    cost: float = 1.0,
    random_state: Any = None,
) -> AnnotatorPool:
    """A pool that mixes annotator kinds in given proportions, in random order.

    Parameters
    ----------
    n_workers, n_classes : int
    proportions : mapping kind -> share, optional
        Shares of the kinds in :data:`KINDS` (rounded to whole annotators by largest
        remainder). Default: 70% reliable, 15% sloppy, 10% spammers, 5% constant.
        ``"reliable"`` and ``"sloppy"`` err after ``errors`` (a K x K matrix of
        relative confusability, uniform when None); ``"asymmetric"`` draws random
        asymmetric errors; ``"constant"`` always gives one (random) class;
        ``"adversary"`` knows the answer and gives a wrong one.
    accuracy, sloppy_accuracy : (low, high)
        Uniform ranges of the diagonal for reliable / asymmetric and sloppy annotators.
    rate_spread : float
        Standard deviation of the log arrival rates (0 = everyone equally often).
    cost : float
        Price of one answer, the same for everyone.

    Returns
    -------
    AnnotatorPool
    """
    check_number(n_workers, "n_workers", "make_pool", kind=int, low=1)
    check_number(n_classes, "n_classes", "make_pool", kind=int, low=2)
    check_number(rate_spread, "rate_spread", "make_pool", low=0)
    check_number(cost, "cost", "make_pool", low=0)
    for name, (lo, hi) in (("accuracy", accuracy), ("sloppy_accuracy", sloppy_accuracy)):
        if not 0 <= lo <= hi <= 1:
            raise ParameterError(
                f"The {name!r} parameter of make_pool must be (low, high) with "
                f"0 <= low <= high <= 1. Got {(lo, hi)!r} instead."
            )
    shares = dict(proportions) if proportions is not None else {
        "reliable": 0.7, "sloppy": 0.15, "spammer": 0.1, "constant": 0.05,
    }  # fmt: skip
    unknown = sorted(set(shares) - set(KINDS))
    if unknown:
        raise ParameterError(
            f"Unknown annotator kind {unknown[0]!r}; choose among {', '.join(KINDS)}."
        )
    rng = check_random_state(random_state)
    k = n_classes
    confs: list[NDArray[np.float64]] = []
    kinds: list[str] = []
    for kind, count in _counts_from_shares(shares, n_workers).items():
        for _ in range(count):
            if kind == "reliable":
                c = confusion_from_accuracy(float(rng.uniform(*accuracy)), k, errors=errors)
            elif kind == "sloppy":
                c = confusion_from_accuracy(float(rng.uniform(*sloppy_accuracy)), k, errors=errors)
            elif kind == "asymmetric":
                c = asymmetric_confusion(
                    k, float(rng.uniform(*accuracy)), concentration=0.5, random_state=rng
                )
            elif kind == "spammer":
                c = spammer_confusion(k)
            elif kind == "constant":
                c = constant_confusion(k, int(rng.integers(k)))
            else:
                c = adversary_confusion(k)
            confs.append(c)
            kinds.append(kind)
    order = rng.permutation(n_workers)
    rates = (
        np.exp(rng.normal(0.0, rate_spread, n_workers)) if rate_spread > 0 else np.ones(n_workers)
    )
    return AnnotatorPool(
        confusions=np.stack(confs)[order],
        kinds=np.asarray(kinds, dtype=object)[order],
        rates=rates / rates.sum(),
        costs=np.full(n_workers, float(cost)),
    )


def fitted_confusions(
    annotations: Annotations, truth: ArrayLike | None = None, *, shrinkage: float = 5.0
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Per-annotator confusion matrices of a real crowd, and the class prior.

    Dawid-Skene's posterior (with the known ``truth`` clamped as gold, ``-1`` unknown)
    gives soft counts ``n[w, k, l]``; each row is shrunk towards the crowd's pooled
    confusion row with ``shrinkage`` pseudo-answers, so that an annotator seen on few
    items of class ``k`` gets the crowd's typical row there instead of a uniform one.

    Returns ``(confusions (W, K, K), answers per annotator (W,), class prior (K,))``.
    """
    from labelwise.aggregate import DawidSkene

    check_number(shrinkage, "shrinkage", "pool_from_annotations", low=0)
    gold = None
    if truth is not None:
        t = np.asarray(truth, dtype=np.int64)
        if t.shape != (annotations.n_items,):
            raise InputError(
                f"truth must have one code per item ({annotations.n_items}); got shape {t.shape}."
            )
        gold = t
    ds = DawidSkene(smoothing=0.01).fit(
        annotations, gold=None if gold is None else gold.astype(np.int32)
    )
    post = ds.proba_
    k, w = annotations.n_classes, annotations.n_workers
    idx = annotations.worker.astype(np.int64) * k + annotations.label
    counts = np.stack(
        [np.bincount(idx, weights=post[annotations.item, c], minlength=w * k) for c in range(k)],
        axis=1,
    ).reshape(w, k, k)  # (worker, given l, true c) -> transposed below
    counts = counts.transpose(0, 2, 1)  # (worker, true, given)
    pooled = counts.sum(axis=0) + 1e-3
    pooled /= pooled.sum(axis=1, keepdims=True)
    conf = counts + shrinkage * pooled[None]
    conf /= conf.sum(axis=2, keepdims=True)
    return conf, annotations.annotations_per_worker().astype(float), ds.prior_


def pool_from_annotations(
    annotations: Annotations,
    n_workers: int,
    *,
    truth: ArrayLike | None = None,
    shrinkage: float = 5.0,
    jitter: float = 200.0,
    cost: float = 1.0,
    random_state: Any = None,
) -> AnnotatorPool:
    """A pool of ``n_workers`` annotators like those of a real crowd data set.

    Each simulated annotator copies a real one, drawn in proportion to the answers
    they gave (so the pool does the work in the shares the real crowd did): their
    Dawid-Skene confusion matrix (see :func:`fitted_confusions`), each row redrawn from
    a Dirichlet with that row times ``jitter`` as its parameters (large ``jitter`` =
    near copies; ``inf`` = exact copies). Arrival rates are equal: the draw already
    weights annotators by how much they worked.

    Returns
    -------
    AnnotatorPool
        Kinds ``"fitted:<real annotator id>"``. The crowd's class prior is the third
        value of :func:`fitted_confusions`.
    """
    check_number(n_workers, "n_workers", "pool_from_annotations", kind=int, low=1)
    check_number(jitter, "jitter", "pool_from_annotations", low=0, low_open=True)
    rng = check_random_state(random_state)
    conf, n_answers, _ = fitted_confusions(annotations, truth, shrinkage=shrinkage)
    src = rng.choice(conf.shape[0], size=n_workers, p=n_answers / n_answers.sum())
    base = conf[src]
    if np.isinf(jitter):
        out = base.copy()
    else:
        g = rng.gamma(np.maximum(base * jitter, 1e-3))
        out = g / g.sum(axis=2, keepdims=True)
    kinds = np.asarray([f"fitted:{annotations.worker_ids[s]}" for s in src], dtype=object)
    rates = np.full(n_workers, 1.0 / n_workers)
    return AnnotatorPool(out, kinds, rates, np.full(n_workers, float(cost)))
