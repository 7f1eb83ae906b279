"""A crowd simulator that keeps what real crowds do: hard items and shared errors.

:func:`pool_from_annotations` fits one confusion matrix per annotator, so its answers
are independent given the true class: every item of a class is equally easy and the
crowd never agrees on a wrong label unless by chance. On real crowds most of the
consensus' errors are items that most annotators get wrong the same way (57-72% of
Dawid-Skene's errors on RTE, TEMP and sentiment), which is why pools fitted that way
predicted 1-24 points more accuracy than replaying the real answers gave.

:func:`profiles_from_annotations` fits a nonparametric item model instead. Each
fitted item keeps its *answer profile*: the answers it really received (which
annotator said what). A simulated item of true class ``t`` copies the profile of a
fitted item of class ``t`` drawn at random, so the simulated crowd has the real
spread of item difficulty, the real attractor classes of each hard item and the real
agreement of annotators in their errors. Answers beyond the recorded ones (a
campaign may ask for more than were recorded) are drawn from the profile smoothed
towards the class's pooled answers and modulated by each annotator's skill:
``P(l | item, w) ∝ profile(l) * C_w[t, l] / C̄[t, l]`` with ``C_w`` the annotator's
fitted confusion matrix and ``C̄`` the crowd's pooled one.

The simulated crowd is an :class:`~labelwise.annotations.Annotations` table, so
:class:`~labelwise.simulate.ReplayOracle` serves it to ``run_campaign`` (and any
engine that replays) exactly like a real one.

Example
-------
>>> import numpy as np
>>> from labelwise import Annotations
>>> from labelwise.simulate import ReplayOracle, profiles_from_annotations
>>> ann = Annotations.from_arrays(
...     [1, 1, 1, 2, 2, 2], list("abcabc"), ["x", "x", "y", "y", "y", "y"])
>>> profiles = profiles_from_annotations(ann, truth=[0, 1])
>>> sim = profiles.sample(np.array([0, 0, 1]), random_state=0)
>>> sim.n_items, sim.annotations_per_item().tolist()
(3, [3, 3, 3])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise._validation import check_number, check_random_state
from labelwise.annotations import Annotations
from labelwise.errors import InputError
from labelwise.simulate.pool import fitted_confusions

__all__ = ["CrowdProfiles", "profiles_from_annotations"]


@dataclass(frozen=True)
class CrowdProfiles:
    """Answer profiles of a real crowd's items, for drawing simulated crowds.

    Attributes
    ----------
    item_class : ndarray of int (n_profiles,)
        The class of each fitted item (its gold label, else the consensus).
    start : ndarray of int (n_profiles + 1,)
        Profile ``p``'s recorded answers are rows ``start[p]:start[p + 1]`` of
        ``worker`` and ``label``.
    worker, label : ndarray of int
        The recorded answers (annotator and class codes of the fitted data).
    counts : ndarray (n_profiles, K)
        Answers per class of each profile.
    confusions : ndarray (n_workers, K, K)
        Each annotator's fitted confusion matrix (see :func:`fitted_confusions`).
    pooled : ndarray (K, K)
        The crowd's answer distribution by class over all fitted items.
    worker_share : ndarray (n_workers,)
        Share of the answers each annotator gave (who answers extra requests).
    worker_ids, classes : ndarray
        The fitted data's annotator ids and class names.
    smoothing : float
        Pseudo-answers of the pooled row added to a profile when drawing answers
        beyond the recorded ones.
    """

    item_class: NDArray[np.int64]
    start: NDArray[np.int64]
    worker: NDArray[np.int64]
    label: NDArray[np.int64]
    counts: NDArray[np.float64]
    confusions: NDArray[np.float64]
    pooled: NDArray[np.float64]
    worker_share: NDArray[np.float64]
    worker_ids: NDArray[Any]
    classes: NDArray[Any]
    smoothing: float = 1.0

    @property
    def n_profiles(self) -> int:
        return int(self.item_class.shape[0])

    @property
    def n_classes(self) -> int:
        return int(self.counts.shape[1])

    @property
    def difficulty(self) -> NDArray[np.float64]:
        """Share of each profile's answers that miss its class (0 = everyone right)."""
        n = self.counts.sum(axis=1)
        right = self.counts[np.arange(self.n_profiles), self.item_class]
        return 1.0 - right / np.maximum(n, 1.0)  # type: ignore[no-any-return]

    def sample(
        self,
        item_classes: ArrayLike,
        *,
        depth: int | None = None,
        recorded: bool = True,
        replace: bool = False,
        random_state: Any = None,
    ) -> Annotations:
        """A simulated crowd's answers to items of the given true classes.

        Parameters
        ----------
        item_classes : array of int (n_items,)
            True class code of each simulated item. A class no fitted item has
            borrows a profile of another class with the two classes swapped.
        depth : int, optional
            Answers per simulated item. Default: as many as its drawn profile has
            (so the answers per item follow the real crowd's).
        recorded : bool
            True: a simulated item first gets its profile's recorded answers (by
            the annotators who gave them), then drawn ones. False: every answer
            is drawn (profile x annotator skill), by annotators drawn by share.
        replace : bool
            False (default): the profiles of a class are dealt out without
            replacement, in a random order, and dealt again only when the class
            needs more items than were fitted, so the simulated crowd keeps the
            fitted crowd's mix of hard and easy items and each annotator's volume.
            True: each item draws a profile independently (round 2's simulator:
            some profiles twice, some not at all; measured 6 points further from
            replay on web search relevance's adaptive policies).
        random_state : int, Generator or None

        Returns
        -------
        Annotations
            Items ``0..n_items-1``; annotators and classes as in the fitted data.
            Serve it with :class:`~labelwise.simulate.ReplayOracle`.
        """
        y = np.asarray(item_classes, dtype=np.int64).reshape(-1)
        k = self.n_classes
        if y.size == 0 or y.min() < 0 or y.max() >= k:
            raise InputError(
                f"item_classes must hold class codes in 0..{k - 1}; got "
                f"{'none' if y.size == 0 else (int(y.min()), int(y.max()))}."
            )
        if depth is not None:
            check_number(depth, "depth", "CrowdProfiles.sample", kind=int, low=1)
        rng = check_random_state(random_state)
        by_class = [np.flatnonzero(self.item_class == c) for c in range(k)]
        donors = np.empty(y.size, dtype=np.int64)
        for c in np.unique(y):
            at = np.flatnonzero(y == c)
            # a class no fitted item has: borrow any profile, its class swapped with c
            pool = by_class[c] if by_class[c].size else np.arange(self.n_profiles)
            if replace:
                donors[at] = rng.choice(pool, size=at.size)
            else:
                deals = -(-at.size // pool.size)
                donors[at] = np.concatenate([rng.permutation(pool) for _ in range(deals)])[
                    : at.size
                ]
        sizes = np.diff(self.start)[donors]
        want = sizes if depth is None else np.full(y.size, depth)
        ratio = self.confusions / np.maximum(self.pooled[None], 1e-9)  # (W, K, K)
        n_w = self.confusions.shape[0]
        items: list[NDArray[np.int64]] = []
        workers: list[NDArray[np.int64]] = []
        labels: list[NDArray[np.int64]] = []
        for j, (d, t, n) in enumerate(zip(donors, y, want, strict=True)):
            rec_w = self.worker[self.start[d] : self.start[d + 1]]
            rec_l = self.label[self.start[d] : self.start[d + 1]]
            own = int(self.item_class[d])
            if own != t:  # borrowed profile: its class and t trade places
                rec_l = np.where(rec_l == own, t, np.where(rec_l == t, own, rec_l))
            keep = min(int(n), rec_w.size) if recorded else 0
            if keep < rec_w.size:
                pick = rng.permutation(rec_w.size)[:keep]
                rec_w, rec_l = rec_w[pick], rec_l[pick]
            extra = int(n) - keep
            if extra > 0:
                # annotators not yet on the item, by share (each answers an item once)
                p = self.worker_share.copy()
                p[rec_w] = 0.0
                free = int((p > 0).sum())
                if free == 0:
                    p, free = self.worker_share.copy(), n_w
                new_w = rng.choice(n_w, size=min(extra, free), replace=False, p=p / p.sum())
                counts = self.counts[d].copy()
                counts[[own, t]] = counts[[t, own]]
                profile = (counts + self.smoothing * self.pooled[t]) / (
                    counts.sum() + self.smoothing
                )
                q = profile[None] * ratio[new_w, t]
                q /= q.sum(axis=1, keepdims=True)
                new_l = (rng.random(new_w.size)[:, None] > np.cumsum(q, axis=1)).sum(axis=1)
                rec_w = np.concatenate([rec_w, new_w])
                rec_l = np.concatenate([rec_l, np.minimum(new_l, k - 1)])
            items.append(np.full(rec_w.size, j, dtype=np.int64))
            workers.append(rec_w)
            labels.append(rec_l)
        return Annotations(
            item=np.concatenate(items).astype(np.int32),
            worker=np.concatenate(workers).astype(np.int32),
            label=np.concatenate(labels).astype(np.int32),
            item_ids=np.arange(y.size),
            worker_ids=self.worker_ids,
            classes=self.classes,
        )


def profiles_from_annotations(
    annotations: Annotations,
    truth: ArrayLike | None = None,
    *,
    shrinkage: float = 5.0,
    smoothing: float = 1.0,
) -> CrowdProfiles:
    """Fit the item-profile simulator to a real crowd (the sibling of
    :func:`pool_from_annotations` that keeps hard items and shared errors).

    Parameters
    ----------
    annotations : Annotations
        The real answers to fit on (for an honest check, half of the items).
    truth : array of int (n_items,), optional
        Gold class codes, ``-1`` where unknown. Items without gold take Dawid-Skene's
        consensus (fitted with the gold clamped) as their class; items without
        answers are left out.
    shrinkage : float
        Pseudo-answers pulling each annotator's confusion row to the crowd's
        (:func:`fitted_confusions`), used to modulate drawn answers.
    smoothing : float
        Pseudo-answers of the pooled row added to a profile for drawn answers.

    Returns
    -------
    CrowdProfiles
        Draw simulated crowds with :meth:`CrowdProfiles.sample`.
    """
    from labelwise.aggregate import DawidSkene

    check_number(smoothing, "smoothing", "profiles_from_annotations", low=0)
    k, n = annotations.n_classes, annotations.n_items
    gold = np.full(n, -1, dtype=np.int64)
    if truth is not None:
        gold = np.asarray(truth, dtype=np.int64)
        if gold.shape != (n,):
            raise InputError(f"truth must have one code per item ({n}); got shape {gold.shape}.")
        if gold.max() >= k or gold.min() < -1:
            bad = int(np.flatnonzero((gold >= k) | (gold < -1))[0])
            raise InputError(f"truth[{bad}] = {gold[bad]} is not a class code (0..{k - 1}, -1).")
    conf, n_answers, _ = fitted_confusions(annotations, gold, shrinkage=shrinkage)
    cls = gold.copy()
    if (gold < 0).any():
        ds = DawidSkene().fit(annotations, gold=gold.astype(np.int32))
        cls = np.where(gold >= 0, gold, ds.proba_.argmax(axis=1))
    answered = annotations.annotations_per_item() > 0
    keep_items = np.flatnonzero(answered)
    order = np.argsort(annotations.item, kind="stable")
    item_sorted = annotations.item[order]
    new_code = np.full(n, -1, dtype=np.int64)
    new_code[keep_items] = np.arange(keep_items.size)
    sizes = np.bincount(new_code[item_sorted], minlength=keep_items.size)
    start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    worker = annotations.worker[order].astype(np.int64)
    label = annotations.label[order].astype(np.int64)
    counts = annotations.vote_counts()[keep_items]
    item_class = cls[keep_items].astype(np.int64)
    pooled = np.full((k, k), 1e-3)
    np.add.at(pooled, item_class, counts)
    pooled /= pooled.sum(axis=1, keepdims=True)
    share = n_answers / n_answers.sum()
    return CrowdProfiles(
        item_class=item_class,
        start=start,
        worker=worker,
        label=label,
        counts=np.asarray(counts, dtype=float),
        confusions=conf,
        pooled=pooled,
        worker_share=share,
        worker_ids=annotations.worker_ids,
        classes=annotations.classes,
        smoothing=float(smoothing),
    )
