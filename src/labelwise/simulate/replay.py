"""Replay a real crowd: serve each request for an item's next answer from the answers
that item really received.

A simulated pool answers from confusion matrices, so it answers as the model of the
crowd says and inherits every simplification of that model (answers independent given
the class, no item difficulty). A replay oracle answers with what was recorded: each
request for item ``i`` gets one of ``i``'s recorded answers not yet used, together
with the annotator who gave it; an item whose answers are all used cannot get more.
Measured this way, a routing policy or a stop rule meets the real crowd's
correlations, hard items and drifting annotators.

Example
-------
>>> from labelwise import Annotations
>>> from labelwise.simulate import ReplayOracle
>>> ann = Annotations.from_arrays([1, 1, 2], ["a", "b", "a"], ["x", "y", "y"])
>>> oracle = ReplayOracle(ann, random_state=0)
>>> oracle.remaining.tolist()
[2, 1]
>>> worker, label = oracle.next_answer(1)
>>> oracle.exhausted.tolist(), oracle.next_answer(1)
([False, True], None)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise._validation import check_random_state
from labelwise.annotations import Annotations
from labelwise.errors import InputError

__all__ = ["ReplayOracle"]


class ReplayOracle:
    """Serve recorded answers of a real crowd, each at most once.

    Parameters
    ----------
    annotations : Annotations
        The recorded answers. Codes (items, annotators, classes) are those of
        ``annotations``: a campaign replaying it uses ``annotations.n_items`` items and
        ``annotations.n_workers`` annotators.
    random_state : int, Generator or None
        Shuffles each item's answers once: a request for "any" answer of an item gets
        them in this random order (the order in which they happen to come in).

    Attributes
    ----------
    remaining : ndarray of int (n_items,)
        Recorded answers of each item not used yet.
    exhausted : ndarray of bool (n_items,)
        Items with none left (they cannot get more answers).
    remaining_per_worker : ndarray of int (n_workers,)
        Unused answers of each annotator (a campaign draws requesters in proportion).
    n_used : int
        Answers served so far.

    Notes
    -----
    Requests are served by :meth:`next_answer` (one item) or :meth:`serve` (a batch).
    Asking for a given annotator gets that annotator's own answer when they gave one
    that is still unused, and nothing otherwise; asking for any annotator gets the
    item's next unused answer in the shuffled order, optionally skipping excluded
    annotators (blocked by a skill floor). Costs come from ``annotations.cost`` when
    present, else one per answer.
    """

    def __init__(self, annotations: Annotations, random_state: Any = None) -> None:
        if not isinstance(annotations, Annotations):
            raise InputError(
                f"ReplayOracle expects an Annotations object; got {type(annotations).__name__}."
            )
        if annotations.n_annotations == 0:
            raise InputError("ReplayOracle got no recorded answers to replay.")
        rng = check_random_state(random_state)
        self.annotations = annotations
        item = annotations.item.astype(np.int64)
        # rows grouped by item, in random order inside each item
        order = np.lexsort((rng.random(item.size), item))
        self._row = order
        self._item = item[order]
        self._worker = annotations.worker.astype(np.int64)[order]
        self._label = annotations.label.astype(np.int64)[order]
        cost = annotations.cost
        self._cost = np.ones(item.size) if cost is None else np.asarray(cost, float)[order]
        counts = np.bincount(item, minlength=annotations.n_items)
        self._start = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        self._end = self._start + counts
        self._ptr = self._start.copy()  # first possibly-unused position of each item
        self._used = np.zeros(item.size, dtype=bool)
        # (item, worker) -> position, for requests by a given annotator
        self._key = self._item * annotations.n_workers + self._worker
        self._key_order = np.argsort(self._key, kind="stable")
        self._key_sorted = self._key[self._key_order]
        self.remaining = counts.astype(np.int64)
        self.remaining_per_worker = np.bincount(
            self._worker, minlength=annotations.n_workers
        ).astype(np.int64)
        self.n_used = 0

    # ---------------------------------------------------------------- sizes
    @property
    def n_items(self) -> int:
        return self.annotations.n_items

    @property
    def n_workers(self) -> int:
        return self.annotations.n_workers

    @property
    def n_classes(self) -> int:
        return self.annotations.n_classes

    @property
    def exhausted(self) -> NDArray[np.bool_]:
        return self.remaining == 0  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return (
            f"ReplayOracle(n_items={self.n_items}, n_workers={self.n_workers}, "
            f"used={self.n_used}, remaining={int(self.remaining.sum())})"
        )

    # -------------------------------------------------------------- serving
    def _check_item(self, item: int) -> int:
        if not (isinstance(item, int | np.integer) and 0 <= item < self.n_items):
            raise InputError(f"item must be an item code in 0..{self.n_items - 1}; got {item!r}.")
        return int(item)

    def _position(self, item: int, worker: int | None, exclude: NDArray[np.bool_] | None) -> int:
        """Position of the answer to serve, or -1."""
        if self.remaining[item] == 0:
            return -1
        if worker is not None:
            key = item * self.n_workers + worker
            lo = int(np.searchsorted(self._key_sorted, key, side="left"))
            hi = int(np.searchsorted(self._key_sorted, key, side="right"))
            for j in self._key_order[lo:hi]:
                if not self._used[j]:
                    return int(j)
            return -1
        p, end = int(self._ptr[item]), int(self._end[item])
        while p < end and self._used[p]:
            p += 1
        self._ptr[item] = p
        for j in range(p, end):
            if not self._used[j] and (exclude is None or not exclude[self._worker[j]]):
                return j
        return -1

    def _take(self, j: int) -> None:
        self._used[j] = True
        self.remaining[self._item[j]] -= 1
        self.remaining_per_worker[self._worker[j]] -= 1
        self.n_used += 1

    def has_answer(self, item: int, worker: int) -> bool:
        """Whether ``worker`` gave ``item`` an answer that is still unused."""
        i = self._check_item(item)
        return self._position(i, self._check_worker(worker), None) >= 0

    def _check_worker(self, worker: int) -> int:
        if not (isinstance(worker, int | np.integer) and 0 <= worker < self.n_workers):
            raise InputError(
                f"worker must be an annotator code in 0..{self.n_workers - 1}; got {worker!r}."
            )
        return int(worker)

    def next_answer(self, item: int, worker: int | None = None) -> tuple[int, int] | None:
        """Serve one recorded answer of ``item``: ``(annotator, label)``, or None.

        With ``worker`` given, that annotator's own unused answer (None if they gave
        none or it is used); otherwise the item's next unused answer. The answer is
        marked used.
        """
        i = self._check_item(item)
        w = None if worker is None else self._check_worker(worker)
        j = self._position(i, w, None)
        if j < 0:
            return None
        self._take(j)
        return int(self._worker[j]), int(self._label[j])

    def serve(
        self,
        items: ArrayLike,
        requesters: ArrayLike | None = None,
        *,
        exclude: ArrayLike | None = None,
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """Serve one answer for each of ``items`` (a batch, served in order).

        Parameters
        ----------
        items : array of int (B,)
            Items to answer (repeats allowed: each gets a further answer).
        requesters : array of int (B,), optional
            The annotator who asked for each item: their own unused answer is served
            when they gave one, else the item's next unused answer by someone else.
        exclude : array of bool (n_workers,), optional
            Annotators whose answers are not to be served (blocked ones).

        Returns
        -------
        workers, labels : ndarray of int (B,)
            Who gave each served answer and what it was; ``-1`` where the item had
            none left.
        costs : ndarray of float (B,)
            The price of each served answer (0 where none).
        """
        it = np.asarray(items, dtype=np.int64).reshape(-1)
        if it.size and (it.min() < 0 or it.max() >= self.n_items):
            bad = int(np.flatnonzero((it < 0) | (it >= self.n_items))[0])
            raise InputError(
                f"items[{bad}] = {it[bad]} is not an item code in 0..{self.n_items - 1}."
            )
        req = None if requesters is None else np.asarray(requesters, dtype=np.int64).reshape(-1)
        if req is not None and req.shape != it.shape:
            raise InputError(
                f"requesters must have one entry per item ({it.size}); got {req.size}."
            )
        excl = None if exclude is None else np.asarray(exclude, dtype=bool)
        workers = np.full(it.size, -1, dtype=np.int64)
        labels = np.full(it.size, -1, dtype=np.int64)
        costs = np.zeros(it.size)
        for b, i in enumerate(it.tolist()):
            j = -1
            if req is not None and 0 <= req[b] < self.n_workers:
                if excl is None or not excl[req[b]]:
                    j = self._position(i, int(req[b]), None)
            if j < 0:
                j = self._position(i, None, excl)
            if j >= 0:
                self._take(j)
                workers[b], labels[b], costs[b] = self._worker[j], self._label[j], self._cost[j]
        return workers, labels, costs

    def used_annotations(self) -> Annotations:
        """The answers served so far, as a subset of the recorded :class:`Annotations`."""
        mask = np.zeros(self.annotations.n_annotations, dtype=bool)
        mask[self._row[self._used]] = True
        return self.annotations.subset(mask)
