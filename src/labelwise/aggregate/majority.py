"""Majority vote and weighted majority vote."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from labelwise._validation import check_number, check_option, check_random_state
from labelwise.aggregate._base import BaseAggregator, clamp_gold
from labelwise.aggregate._sparse import Cells, answer_cells, pick_top, uses_sparse
from labelwise.agreement import worker_hits
from labelwise.annotations import Annotations

__all__ = ["MajorityVote", "WeightedMajorityVote"]


def _break_ties(
    scores: NDArray[np.float64], ties: str, rng: np.random.Generator
) -> tuple[NDArray[np.int32], NDArray[np.bool_]]:
    """Return (label codes, tied mask) from per-class scores.

    ``ties="random"`` draws uniformly among the top classes with ``rng``;
    ``ties="flag"`` returns ``-1`` for tied items.
    """
    top = scores.max(axis=1, keepdims=True)
    is_top = np.isclose(scores, top, rtol=1e-12, atol=1e-12)
    tied = is_top.sum(axis=1) > 1
    codes = scores.argmax(axis=1).astype(np.int32)
    if tied.any():
        if ties == "flag":
            codes[tied] = -1
        else:
            # a random key per (item, class); the largest key among the top classes wins
            keys = rng.random(scores.shape)
            keys[~is_top] = -1.0
            codes[tied] = keys[tied].argmax(axis=1)
    return codes, tied


class MajorityVote(BaseAggregator):
    """The most frequent label per item.

    Parameters
    ----------
    ties : {"random", "flag"}
        ``"random"`` breaks a tie uniformly at random with ``random_state``;
        ``"flag"`` leaves tied items unlabeled (label ``None``, code ``-1``).
        ``tied_`` marks tied items under both policies.
    random_state : int, Generator or None
        Seed for the random tie-break.

    Attributes
    ----------
    proba_ : ndarray (n_items, n_classes)
        Share of the item's votes per class (gold items one-hot). With many classes
        (``n_items * n_classes`` over ``aggregate._sparse.DENSE_CELL_LIMIT``) a
        ``scipy.sparse.csr_array`` with the answered classes only; ``proba_rest_``
        is then 1 for items without answers (uniform) and 0 elsewhere. The labels
        are the same, except that a random tie-break draws its own keys there.
    skill_ : ndarray (n_workers,)
        Share of each annotator's answers that equal the consensus.

    Examples
    --------
    >>> from labelwise import Annotations, MajorityVote
    >>> ann = Annotations.from_arrays([1, 1, 1, 2], ["a", "b", "c", "a"], ["x", "x", "y", "y"])
    >>> list(MajorityVote().fit(ann).labels_)
    ['x', 'y']
    """

    _learns_skill_from_overlap = False

    def __init__(self, *, ties: Literal["random", "flag"] = "random", random_state: Any = 0):
        self.ties = ties
        self.random_state = random_state

    def _check_params(self) -> None:
        check_option(self.ties, "ties", type(self).__name__, ("random", "flag"))

    def _fit(self, annotations: Annotations, gold: NDArray[np.int32]) -> None:
        rng = check_random_state(self.random_state)
        weights = np.ones(annotations.n_workers)
        if uses_sparse(annotations):
            cells = answer_cells(annotations, gold)
            votes = np.bincount(cells.of_answer, minlength=cells.item.shape[0])
            self._from_cell_votes(annotations, gold, cells, votes.astype(float), weights, rng)
            return
        votes = annotations.vote_counts()
        self._from_weighted_votes(annotations, gold, votes, weights, rng)

    def _from_cell_votes(
        self,
        annotations: Annotations,
        gold: NDArray[np.int32],
        cells: Cells,
        scores: NDArray[np.float64],
        weights: NDArray[np.float64],
        rng: np.random.Generator,
    ) -> None:
        """The sparse twin of ``_from_weighted_votes``: scores per answered cell."""
        codes, tied = pick_top(cells, scores, self.ties, rng)
        known = gold >= 0
        codes[known] = gold[known]
        total = np.bincount(cells.item, weights=scores, minlength=annotations.n_items)
        share = np.where(total[cells.item] > 0, scores / np.maximum(total[cells.item], 1e-300), 0)
        share = np.where(known[cells.item], (cells.label == gold[cells.item]) * 1.0, share)
        self.proba_ = cells.to_csr(share)
        self.proba_rest_ = np.where((total > 0) | known, 0.0, 1.0)
        self.label_codes_ = codes
        self.tied_ = tied & ~known
        self.weights_ = weights
        self.skill_ = _agreement_with(annotations, codes)

    def _from_weighted_votes(
        self,
        annotations: Annotations,
        gold: NDArray[np.int32],
        scores: NDArray[np.float64],
        weights: NDArray[np.float64],
        rng: np.random.Generator,
    ) -> None:
        codes, tied = _break_ties(scores, self.ties, rng)
        known = gold >= 0
        codes[known] = gold[known]
        tied = tied & ~known
        total = scores.sum(axis=1, keepdims=True)
        k = annotations.n_classes
        with np.errstate(invalid="ignore", divide="ignore"):
            proba = np.where(total > 0, scores / np.where(total > 0, total, 1), 1.0 / k)
        self.proba_ = clamp_gold(proba, gold)
        self.label_codes_ = codes
        self.tied_ = tied
        self.weights_ = weights
        self.skill_ = _agreement_with(annotations, codes)


def _agreement_with(annotations: Annotations, codes: NDArray[np.int32]) -> NDArray[np.float64]:
    """Share of each worker's answers equal to ``codes`` of their items (NaN if none counted)."""
    hits, n = worker_hits(annotations, codes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, hits / np.maximum(n, 1), np.nan)


class WeightedMajorityVote(MajorityVote):
    """Majority vote where each annotator's vote counts by their estimated quality.

    Starting from plain majority vote, each round estimates every annotator's
    accuracy against the current consensus and re-votes with weights from it.

    Parameters
    ----------
    weights : {"accuracy", "log_odds"}
        ``"accuracy"``: the weight is the accuracy itself (one round of this is
        crowd-kit's Wawa). ``"log_odds"``: ``log((K-1) * a / (1-a))``, the weight
        that makes the vote the Bayes decision under a one-coin model; annotators
        at or below chance get weight zero.
    n_rounds : int
        Re-estimation rounds (1 = Wawa).
    smoothing : float
        Pseudo-counts (one right, ``(K-1)``-th wrong per class) added when
        estimating accuracy, so that an annotator with few items is pulled
        toward chance rather than to 0 or 1.
    ties, random_state
        As in :class:`MajorityVote`.
    """

    def __init__(
        self,
        *,
        weights: Literal["accuracy", "log_odds"] = "accuracy",
        n_rounds: int = 1,
        smoothing: float = 0.0,
        ties: Literal["random", "flag"] = "random",
        random_state: Any = 0,
    ):
        super().__init__(ties=ties, random_state=random_state)
        self.weights = weights
        self.n_rounds = n_rounds
        self.smoothing = smoothing

    def _check_params(self) -> None:
        super()._check_params()
        name = type(self).__name__
        check_option(self.weights, "weights", name, ("accuracy", "log_odds"))
        check_number(self.n_rounds, "n_rounds", name, kind=int, low=1)
        check_number(self.smoothing, "smoothing", name, low=0)

    def _weights_from_hits(
        self, hits: NDArray[np.float64], n: NDArray[np.integer], k: int
    ) -> NDArray[np.float64]:
        """Each annotator's vote weight from their right answers ``hits`` out of ``n``."""
        acc = (hits + self.smoothing / k) / np.maximum(n + self.smoothing, 1e-12)
        acc = np.where(n + self.smoothing > 0, acc, 1.0 / k)
        if self.weights == "accuracy":
            return acc  # type: ignore[no-any-return]
        a = np.clip(acc, 1e-6, 1 - 1e-6)
        return np.maximum(np.log((k - 1) * a / (1 - a)), 0.0)  # type: ignore[no-any-return]

    def _fit(self, annotations: Annotations, gold: NDArray[np.int32]) -> None:
        rng = check_random_state(self.random_state)
        k = annotations.n_classes
        sparse = uses_sparse(annotations)
        known = gold >= 0
        if sparse:
            cells = answer_cells(annotations, gold)
            votes = np.bincount(cells.of_answer, minlength=cells.item.shape[0]).astype(float)
            codes, _ = pick_top(cells, votes, self.ties, rng)
        else:
            votes = annotations.vote_counts()
            codes, _ = _break_ties(votes, self.ties, rng)
        codes[known] = gold[known]
        weights = np.ones(annotations.n_workers)
        scores = votes
        for _ in range(self.n_rounds):
            hits, n = worker_hits(annotations, codes)
            weights = self._weights_from_hits(hits, n, k)
            if sparse:
                scores = np.bincount(
                    cells.of_answer,
                    weights=weights[annotations.worker],
                    minlength=cells.item.shape[0],
                )
                codes, _ = pick_top(cells, scores, self.ties, rng)
            else:
                flat = np.bincount(
                    annotations.item.astype(np.int64) * k + annotations.label,
                    weights=weights[annotations.worker],
                    minlength=annotations.n_items * k,
                )
                scores = flat.reshape(annotations.n_items, k)
                codes, _ = _break_ties(scores, self.ties, rng)
            codes[known] = gold[known]
        if sparse:
            self._from_cell_votes(annotations, gold, cells, scores, weights, rng)
        else:
            self._from_weighted_votes(annotations, gold, scores, weights, rng)
