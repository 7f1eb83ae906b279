"""Where the data engine's answers come from: one protocol, four sources.

An oracle is asked for *one more answer* on each of a set of pool items and says
who gave it, what it was and what it cost. The engine decides which items and
how many answers (routing); the oracle decides who answers (the annotators who
happen to come), never twice the same annotator on one item.

- :class:`LabelArrayOracle`: the true labels, one perfect annotator (the
  "all clean labels" reference; a perfect oracle buys one answer per item).
- :class:`SimulatedCrowdOracle`: a simulated :class:`~labelwise.simulate.AnnotatorPool`
  (for instance fitted from a real crowd) answering from the true labels.
- :class:`ReplayedCrowdOracle`: a real annotation file replayed through
  :class:`labelwise.simulate.ReplayOracle` (each request is served by a recorded
  answer of that item not yet used); the oracle to trust.
- :class:`LabelingServiceOracle`: real people through the labeling service
  (an adapter over a client; the service itself lives in ``labelwise.service``).

Every figure the engine reports names its oracle (:attr:`Oracle.kind`): simulated
pools fitted from real crowds have predicted 10-14 points more accuracy than
replaying the same crowds' answers.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise._validation import check_number
from labelwise.errors import InputError

__all__ = [
    "LabelArrayOracle",
    "LabelingServiceOracle",
    "Oracle",
    "OracleAnswers",
    "ReplayedCrowdOracle",
    "ServiceClient",
    "SimulatedCrowdOracle",
]

IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class OracleAnswers:
    """Answers from one request: row ``j`` is one answer (same length arrays).

    ``items`` are pool rows, ``workers`` annotator codes of the oracle, ``labels``
    class codes and ``costs`` the money each answer cost.
    """

    items: IntArray
    workers: IntArray
    labels: IntArray
    costs: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.items.shape[0])


class Oracle(ABC):
    """What the engine needs from a source of answers.

    Attributes
    ----------
    n_items, n_workers, n_classes : int
    kind : str
        ``"label array"``, ``"simulated crowd"``, ``"replay"`` or ``"labeling service"``;
        printed beside every figure that comes from this oracle.
    max_cost : float
        The most one answer can cost (the engine never starts a purchase it might
        not afford).
    known_confusions : array (n_workers, K, K) or None
        The annotators' true confusion matrices when the oracle knows them (a
        perfect label array); None means the engine estimates skills.
    """

    kind: str = "oracle"
    n_items: int
    n_workers: int
    n_classes: int
    max_cost: float
    known_confusions: NDArray[np.float64] | None = None

    @abstractmethod
    def available(self, items: IntArray) -> NDArray[np.bool_]:
        """Whether each item can still get one more answer."""

    @abstractmethod
    def ask(
        self, items: IntArray, rng: np.random.Generator, blocked: NDArray[np.bool_]
    ) -> OracleAnswers:
        """One more answer for each of ``items`` (distinct); an item with no answer
        left is simply missing from the result. ``blocked`` annotators (stopped as
        spammers) are never asked. Random choices come from ``rng`` only, so a run
        is reproduced from its seed."""

    def restore(self, items: IntArray, workers: IntArray) -> None:
        """Mark answers already bought (a resumed run) as used."""
        self._used_pairs(items, workers)

    # shared book-keeping: who answered which item
    def _init_used(self) -> None:
        self._answered: dict[int, set[int]] = {}

    def _used_pairs(self, items: IntArray, workers: IntArray) -> None:
        for i, w in zip(np.asarray(items).tolist(), np.asarray(workers).tolist(), strict=True):
            self._answered.setdefault(int(i), set()).add(int(w))

    def _check_items(self, items: ArrayLike) -> IntArray:
        it = np.asarray(items, dtype=np.int64).ravel()
        if it.size and (it.min() < 0 or it.max() >= self.n_items):
            bad = int(it[(it < 0) | (it >= self.n_items)][0])
            raise InputError(
                f"{type(self).__name__}: item {bad} is outside the pool of {self.n_items}."
            )
        if np.unique(it).size != it.size:
            raise InputError(f"{type(self).__name__}.ask: items must be distinct.")
        return it


def _check_truth(labels: ArrayLike, n_classes: int | None) -> tuple[IntArray, int]:
    y = np.asarray(labels)
    if y.ndim != 1 or y.size == 0 or not np.issubdtype(y.dtype, np.integer):
        raise InputError(
            f"the oracle's labels must be a non-empty 1-D array of class codes; got "
            f"shape {y.shape}, dtype {y.dtype}."
        )
    k = int(y.max()) + 1 if n_classes is None else int(n_classes)
    if y.min() < 0 or y.max() >= k:
        bad = int(np.flatnonzero((y < 0) | (y >= k))[0])
        raise InputError(
            f"the oracle's labels[{bad}] = {y[bad]} is not a class code in 0..{k - 1}."
        )
    return y.astype(np.int64), max(k, 2)


class LabelArrayOracle(Oracle):
    """The true label of every item from one perfect annotator.

    Parameters
    ----------
    labels : array of int (n_items,)
        Class codes.
    cost : float
        Price of one answer.
    n_classes : int, optional
        Default ``labels.max() + 1``.
    """

    kind = "label array"

    def __init__(self, labels: ArrayLike, *, cost: float = 1.0, n_classes: int | None = None):
        check_number(cost, "cost", "LabelArrayOracle", low=0)
        self.labels, self.n_classes = _check_truth(labels, n_classes)
        self.n_items, self.n_workers = self.labels.shape[0], 1
        self.max_cost = float(cost)
        self.known_confusions = np.eye(self.n_classes)[None]
        self._init_used()

    def available(self, items: IntArray) -> NDArray[np.bool_]:
        return np.array([0 not in self._answered.get(int(i), ()) for i in items], dtype=bool)

    def ask(
        self, items: IntArray, rng: np.random.Generator, blocked: NDArray[np.bool_]
    ) -> OracleAnswers:
        it = self._check_items(items)
        it = it[self.available(it)] if not blocked[0] else it[:0]
        w = np.zeros(it.size, dtype=np.int64)
        self._used_pairs(it, w)
        return OracleAnswers(it, w, self.labels[it], np.full(it.size, self.max_cost))


class SimulatedCrowdOracle(Oracle):
    """A simulated annotator pool answering from the true labels.

    Each request is served by an annotator drawn at the pool's arrival ``rates``
    among those who have not answered the item and are not blocked; they answer
    by their confusion matrix and are paid their ``costs``.

    Parameters
    ----------
    labels : array of int (n_items,)
        True class codes (the pool answers from them; the engine never sees them).
    pool : AnnotatorPool
        From :func:`~labelwise.simulate.make_pool` or
        :func:`~labelwise.simulate.pool_from_annotations` (a real crowd's skills).
    """

    kind = "simulated crowd"

    def __init__(self, labels: ArrayLike, pool: Any):
        self.pool = pool
        self.labels, self.n_classes = _check_truth(labels, pool.n_classes)
        self.n_items, self.n_workers = self.labels.shape[0], int(pool.n_workers)
        self.max_cost = float(np.max(pool.costs))
        self._init_used()

    def available(self, items: IntArray) -> NDArray[np.bool_]:
        live = int((np.asarray(self.pool.rates) > 0).sum())
        return np.array([len(self._answered.get(int(i), ())) < live for i in items], dtype=bool)

    def ask(
        self, items: IntArray, rng: np.random.Generator, blocked: NDArray[np.bool_]
    ) -> OracleAnswers:
        it = self._check_items(items)
        rates = np.asarray(self.pool.rates, dtype=np.float64) * ~blocked
        out_i: list[int] = []
        out_w: list[int] = []
        for i in it.tolist():
            r = rates.copy()
            done = self._answered.get(i)
            if done:
                r[list(done)] = 0.0
            total = r.sum()
            if total <= 0:
                continue
            out_i.append(i)
            out_w.append(int(rng.choice(self.n_workers, p=r / total)))
        ii = np.asarray(out_i, dtype=np.int64)
        ww = np.asarray(out_w, dtype=np.int64)
        labels = np.asarray(self.pool.answer(ww, self.labels[ii], rng), dtype=np.int64)
        self._used_pairs(ii, ww)
        return OracleAnswers(ii, ww, labels, np.asarray(self.pool.costs, float)[ww])


class ReplayedCrowdOracle(Oracle):
    """Real recorded answers, replayed: the engine's face of
    :class:`labelwise.simulate.ReplayOracle`.

    Each request for an item's next answer is served by one of its recorded answers
    not yet used (each item's answers in an order shuffled once from
    ``random_state``), skipping blocked annotators; an item whose answers are used
    up can get no more.

    Parameters
    ----------
    annotations : Annotations
        The recorded answers; pool rows are ``annotations.item_ids`` in order.
    cost : float, optional
        Price of one answer; default the file's ``cost`` column (or 1).
    random_state : int
        Seed of the replay order (a resumed run must use the run's).
    """

    kind = "replay"

    def __init__(self, annotations: Any, *, cost: float | None = None, random_state: int = 0):
        from labelwise.simulate import ReplayOracle

        self.replay = ReplayOracle(annotations, random_state=random_state)
        self.n_items = self.replay.n_items
        self.n_workers = self.replay.n_workers
        self.n_classes = self.replay.n_classes
        if cost is not None:
            check_number(cost, "cost", "ReplayedCrowdOracle", low=0)
        file_cost = annotations.cost
        self._cost = None if cost is None else float(cost)
        self.max_cost = (
            float(cost)
            if cost is not None
            else (1.0 if file_cost is None else float(np.max(file_cost)))
        )

    def available(self, items: IntArray) -> NDArray[np.bool_]:
        return ~self.replay.exhausted[np.asarray(items, dtype=np.int64)]  # type: ignore[no-any-return]

    def ask(
        self, items: IntArray, rng: np.random.Generator, blocked: NDArray[np.bool_]
    ) -> OracleAnswers:
        it = self._check_items(items)
        workers, labels, costs = self.replay.serve(it, exclude=blocked)
        ok = workers >= 0
        c = costs[ok] if self._cost is None else np.full(int(ok.sum()), self._cost)
        return OracleAnswers(it[ok], workers[ok], labels[ok], c)

    def restore(self, items: IntArray, workers: IntArray) -> None:
        for i, w in zip(np.asarray(items).tolist(), np.asarray(workers).tolist(), strict=True):
            if self.replay.next_answer(int(i), int(w)) is None:
                raise InputError(
                    f"the ledger holds an answer of annotator {w} on item {i} that the "
                    "replayed file does not have (or has used): resume with the run's file."
                )


class ServiceClient(Protocol):
    """What :class:`LabelingServiceOracle` needs from a labeling-service client."""

    def request_answers(self, items: list[int]) -> list[tuple[int, int, int, float]]:
        """Post one task per item and wait for the answers: ``(item, worker, label, cost)``
        tuples; items nobody could answer are left out."""
        ...


class LabelingServiceOracle(Oracle):
    """Real people through the labeling service, behind a :class:`ServiceClient`.

    The client posts one task per requested item to the service, with the engine's
    list of annotators not to use, and returns what came back; this class checks
    the answers (codes in range, one per requested item, no annotator twice on an
    item) before the engine pays for them.

    Parameters
    ----------
    client : ServiceClient
    n_items, n_workers, n_classes : int
    max_cost : float
        The most the service charges for one answer.
    """

    kind = "labeling service"

    def __init__(
        self, client: ServiceClient, *, n_items: int, n_workers: int, n_classes: int,
        max_cost: float,
    ):  # fmt: skip
        if not callable(getattr(client, "request_answers", None)):
            raise InputError("LabelingServiceOracle: client has no request_answers method.")
        self.client = client
        self.n_items, self.n_workers, self.n_classes = n_items, n_workers, n_classes
        self.max_cost = float(max_cost)
        self._init_used()

    def available(self, items: IntArray) -> NDArray[np.bool_]:
        return np.array(
            [len(self._answered.get(int(i), ())) < self.n_workers for i in items], dtype=bool
        )

    def ask(
        self, items: IntArray, rng: np.random.Generator, blocked: NDArray[np.bool_]
    ) -> OracleAnswers:
        it = self._check_items(items)
        got = self.client.request_answers(it.tolist())
        arr = np.asarray([g[:3] for g in got], dtype=np.int64).reshape(-1, 3)
        cost = np.asarray([g[3] for g in got], dtype=np.float64)
        asked = set(it.tolist())
        for row, (i, w, y) in enumerate(arr.tolist()):
            if i not in asked or not (0 <= w < self.n_workers) or not (0 <= y < self.n_classes):
                raise InputError(f"labeling service answer {row} {(i, w, y)} is out of range.")
            if w in self._answered.get(i, ()):
                raise InputError(
                    f"labeling service answer {row}: annotator {w} answered item {i} twice."
                )
            if not 0 <= cost[row] <= self.max_cost:
                raise InputError(
                    f"labeling service answer {row} costs {cost[row]}, outside 0..{self.max_cost}."
                )
            asked.discard(i)
            self._used_pairs(np.asarray([i]), np.asarray([w]))
        self._used_pairs(arr[:, 0], arr[:, 1])
        return OracleAnswers(arr[:, 0], arr[:, 1], arr[:, 2], cost)
