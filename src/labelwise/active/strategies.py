"""Informativeness scores: pure functions of predicted probabilities (and embeddings).

Every score returns one float per item and **higher means more worth labeling**, so
that one batch selector (:mod:`labelwise.active.batch`) serves them all. Uncertainty
scores follow Settles (2009) and match scikit-activeml's ``uncertainty_scores``
exactly: least confidence ``1 - max p``, margin ``1 - (p_1 - p_2)``, entropy
``-sum p log p`` (natural log).

Committee scores take a stack of member predictions ``(m, n, K)``: a committee of
models, bootstrap fits of one model, an ensemble, or MC-dropout samples
(:func:`labelwise.active.torch_adapter.mc_dropout_proba`).

Example
-------
>>> import numpy as np
>>> from labelwise.active.strategies import margin, entropy
>>> p = np.array([[0.5, 0.5], [0.9, 0.1]])
>>> margin(p).round(3).tolist()
[1.0, 0.2]
>>> entropy(p).round(3).tolist()
[0.693, 0.325]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise._validation import check_features, check_number, check_proba, check_random_state
from labelwise.errors import InputError, ParameterError

__all__ = [
    "SCORES",
    "bald",
    "entropy",
    "get_score",
    "information_density",
    "least_confidence",
    "margin",
    "mean_kl",
    "random_scores",
    "target_class",
    "vote_entropy",
]

FloatArray = NDArray[np.float64]


def _xlogx(p: FloatArray) -> FloatArray:
    # 0 log 0 = 0 without a warning
    out = np.zeros_like(p)
    pos = p > 0
    out[pos] = p[pos] * np.log(p[pos])
    return out


def random_scores(n: int, *, random_state: Any = None) -> FloatArray:
    """Uniform random scores in [0, 1): top-k of these is a uniformly random batch."""
    check_number(n, "n", "random_scores", kind=int, low=0)
    return check_random_state(random_state).random(n)


def least_confidence(proba: ArrayLike) -> FloatArray:
    """``1 - max_k p_k`` per row (n,): 0 when the model is certain, ``1 - 1/K`` at most."""
    return _least_confidence(check_proba(proba))


def _least_confidence(p: NDArray[Any]) -> FloatArray:
    return 1.0 - p.max(axis=1)


def margin(proba: ArrayLike) -> FloatArray:
    """``1 - (p_(1) - p_(2))`` per row (n,): 1 when the two top classes tie, 0 when certain.

    The gap between the two most probable classes, turned so that higher is more
    uncertain (scikit-activeml's ``margin_sampling`` utility).
    """
    return _margin(check_proba(proba))


def _margin(p: NDArray[Any]) -> FloatArray:
    top2 = -np.partition(-p, 1, axis=1)[:, :2]
    return 1.0 - (top2[:, 0] - top2[:, 1])


def entropy(proba: ArrayLike) -> FloatArray:
    """Shannon entropy ``-sum p log p`` (nats) per row (n,): ``log K`` for a uniform row."""
    return _entropy(check_proba(proba))


def _entropy(p: NDArray[Any]) -> FloatArray:
    return -_xlogx(np.asarray(p, dtype=np.float64)).sum(axis=1)


def target_class(proba: ArrayLike, cls: int) -> FloatArray:
    """Probability of class ``cls`` per row (n,): rare-class search ranks likely positives first.

    SEALS (Coleman et al. 2022) uses this to find more of a rare concept.
    """
    p = check_proba(proba)
    if not isinstance(cls, int | np.integer) or not 0 <= int(cls) < p.shape[1]:
        raise ParameterError(
            f"The 'cls' parameter of target_class must be a column index in [0, {p.shape[1]}). "
            f"Got {cls!r} instead."
        )
    return p[:, int(cls)].copy()


def information_density(
    scores: ArrayLike,
    embeddings: ArrayLike,
    *,
    beta: float = 1.0,
    reference: ArrayLike | None = None,
) -> FloatArray:
    """``scores * (mean cosine similarity to the pool) ** beta`` (Settles & Craven 2008).

    The mean cosine similarity of ``x`` to every row of the pool equals the dot
    product of ``x / |x|`` with the mean of the normalised pool, so this costs
    O(n d) and never forms the n x n similarity matrix. Negative mean similarities
    are clipped to 0 (an outlier gets no density bonus).

    Parameters
    ----------
    scores : (n,) array
        Base informativeness (e.g. :func:`entropy`).
    embeddings : (n, d) array
        Features of the scored items.
    beta : float
        Weight of the density term (0 returns ``scores``).
    reference : (m, d) array, optional
        The pool the similarity is averaged over; defaults to ``embeddings``.

    Returns
    -------
    (n,) float array
    """
    s = np.asarray(scores, dtype=np.float64)
    E = check_features(embeddings, "embeddings")
    check_number(beta, "beta", "information_density", low=0)
    if s.shape != (E.shape[0],):
        raise InputError(f"scores has shape {s.shape}; embeddings has {E.shape[0]} rows.")
    R = E if reference is None else check_features(reference, "reference")
    if R.shape[1] != E.shape[1]:
        raise InputError(f"reference has {R.shape[1]} features; embeddings has {E.shape[1]}.")
    centroid = _normalise(R).mean(axis=0)
    sim = _normalise(E) @ centroid
    return s * np.maximum(sim, 0.0) ** beta


def _normalise(E: NDArray[Any]) -> FloatArray:
    norms = np.linalg.norm(E, axis=1, keepdims=True)
    return np.asarray(E / np.where(norms > 0, norms, 1.0), dtype=np.float64)


def _check_committee(probas: ArrayLike) -> FloatArray:
    P = np.asarray(probas, dtype=np.float64)
    if P.ndim != 3 or P.shape[0] < 1 or P.shape[2] < 2:
        raise InputError(
            "committee probabilities must be a 3-D array (n_members, n_samples, n_classes); "
            f"got shape {P.shape}."
        )
    for m in range(P.shape[0]):
        check_proba(P[m], f"committee member {m}")
    return P


def vote_entropy(probas: ArrayLike) -> FloatArray:
    """Entropy of the members' hard votes per item (n,) (Dagan & Engelson 1995).

    ``probas`` is (m, n, K); each member votes for its argmax; ties within a member
    go to the lowest class index.
    """
    P = _check_committee(probas)
    m, n, K = P.shape
    votes = P.argmax(axis=2)  # (m, n)
    counts = np.zeros((n, K))
    np.add.at(counts, (np.tile(np.arange(n), m), votes.ravel()), 1.0)
    return -_xlogx(counts / m).sum(axis=1)


def mean_kl(probas: ArrayLike) -> FloatArray:
    """Mean KL divergence of each member from the consensus, per item (n,) (McCallum & Nigam 1998).

    ``mean_m KL(p_m || p_bar)`` with ``p_bar`` the members' average; 0 when all agree.
    """
    P = _check_committee(probas)
    mean = P.mean(axis=0)
    logmean = np.log(np.where(mean > 0, mean, 1.0))
    # sum_k p log p - sum_k p log pbar, averaged over members
    return (_xlogx(P).sum(axis=2) - (P * logmean).sum(axis=2)).mean(axis=0)


def bald(probas: ArrayLike) -> FloatArray:
    """BALD mutual information ``H[mean_m p_m] - mean_m H[p_m]`` per item (n,) (Houlsby 2011).

    ``probas`` (m, n, K) are samples from the posterior predictive: ensemble members
    or MC-dropout passes. High when members are each confident but disagree.
    Equal to :func:`mean_kl` (the Jensen-Shannon form of the same quantity).
    """
    P = _check_committee(probas)
    mean = P.mean(axis=0)
    return -_xlogx(mean).sum(axis=1) + _xlogx(P).sum(axis=2).mean(axis=0)


#: Scores of one probability matrix, by name (the strategies the loop and CLI accept).
SCORES: dict[str, Callable[[ArrayLike], FloatArray]] = {
    "least_confidence": least_confidence,
    "margin": margin,
    "entropy": entropy,
}


#: The same scores without input validation, for probabilities labelwise computed itself.
_TRUSTED: dict[str, Callable[[NDArray[Any]], FloatArray]] = {
    "least_confidence": _least_confidence,
    "margin": _margin,
    "entropy": _entropy,
}


def get_score(name: str) -> Callable[[ArrayLike], FloatArray]:
    """The probability score called ``name``; a :class:`ParameterError` lists the valid ones."""
    if name not in SCORES:
        raise ParameterError(f"Unknown score {name!r}; valid: {', '.join(sorted(SCORES))}.")
    return SCORES[name]
