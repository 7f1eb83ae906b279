"""What a routing policy reads: each item's posterior, each annotator's estimated
confusion matrix, who answered what. Updated one batch of answers at a time.

One answer of annotator ``w`` with label ``l`` on item ``i`` adds the row
``log C_w[:, l]`` to the item's log-likelihood (O(K)); the confusion estimates
``C_w`` are re-estimated only every so often (:meth:`CampaignState.refresh`: a few
Dawid-Skene EM iterations over everything collected, warm-started from the current
posterior), never per request.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from labelwise._validation import check_number, check_random_state
from labelwise.annotations import Annotations
from labelwise.calibration import (
    Tempering,
    TopLabelMap,
    fit_tempering,
    fit_top_label_map,
    rescale_top,
)
from labelwise.errors import InputError, ParameterError
from labelwise.routing.stop_claim import (
    NO_GOLD_WARNING,
    StopClaim,
    audit_claim,
    gold_stop_rule,
    unchecked_claim,
)

__all__ = ["CampaignState"]

_CALIBRATIONS = ("auto", "gold", "answers", "none")
#: answers used to fit the temperature on held-out answers (a sample of items beyond it)
_MAX_CALIBRATION_ANSWERS = 20_000
_LOG_FLOOR = 1e-6  # confusion cells are floored here so one answer is never infinitely sure


class CampaignState:
    """The mutable state of a labeling campaign (or of the live service).

    Parameters
    ----------
    n_items, n_workers, n_classes : int
    max_answers : int
        Most answers one item may receive (the policy's cap); sizes ``answered_by``.
    prior_accuracy, prior_strength : float
        Dirichlet prior on each annotator's confusion rows: ``prior_strength``
        pseudo-answers per row, a share ``prior_accuracy`` of them on the diagonal.
        A new annotator is believed to be this good until their answers say otherwise.
    features : array (n_items, d), optional
        Item features, for model-assisted routing.
    known_confusions : array (n_workers, K, K), optional
        Use these confusion matrices and never re-estimate them (the setting where
        annotator skills are known from the start).
    random_state : int, Generator or None
        Source of every random choice in the campaign (tie-breaks, gold draws).
    calibrate : {"auto", "gold", "answers", "none"}
        How the posterior is made honest at each :meth:`refresh`
        (:class:`~labelwise.calibration.Tempering`): ``"gold"`` fits the temperature τ
        and the floor ε on the gold items' answers (every prefix of each gold item's
        answers in arrival order, scored against its known class); ``"answers"`` fits
        τ by predicting each answer from the item's other answers; ``"auto"`` uses gold
        once at least ``min_gold_answers`` gold answers came in, else answers;
        ``"none"`` keeps the raw Dawid-Skene posterior (answers independent given the
        class), which over-claims on real crowds.

    Attributes
    ----------
    post : ndarray (n_items, K)
        Current (calibrated) posterior of each item's class.
    tempering : Tempering
        The calibration in force (τ, ε, and what they were fitted on).
    top_map : TopLabelMap
        Under the gold calibration, the map from a posterior and its answers to the
        probability that its top label is right, fitted on the gold items' answer
        prefixes with the tempering; :meth:`posterior` applies it (the identity
        elsewhere).
    confidence, entropy : ndarray (n_items,)
        Its maximum and its entropy (nats).
    n_answers : ndarray (n_items,)
        Answers received (gold answers excluded).
    votes : ndarray (n_items, K)
        Raw vote counts (majority vote reads these).
    log_conf : ndarray (n_workers, K, K)
        Log of the current confusion estimates.
    gold : ndarray (n_items,)
        Known class of gold items, ``-1`` elsewhere.
    blocked : ndarray of bool (n_workers,)
        Annotators no longer routed to (a policy's skill floor).
    exhausted : ndarray of bool (n_items,)
        Items that can get no more answers (a replayed crowd has none left for them);
        policies never route to them.
    """

    def __init__(
        self,
        n_items: int,
        n_workers: int,
        n_classes: int,
        *,
        max_answers: int,
        prior_accuracy: float = 0.7,
        prior_strength: float = 4.0,
        features: Any = None,
        known_confusions: Any = None,
        random_state: Any = None,
        calibrate: str = "auto",
        min_gold_answers: int = 30,
    ) -> None:
        owner = "CampaignState"
        if calibrate not in _CALIBRATIONS:
            raise ParameterError(
                f"The 'calibrate' parameter of CampaignState must be one of "
                f"{', '.join(map(repr, _CALIBRATIONS))}. Got {calibrate!r} instead."
            )
        check_number(min_gold_answers, "min_gold_answers", owner, kind=int, low=1)
        self.calibrate = calibrate
        self.min_gold_answers = min_gold_answers
        self.tempering = Tempering()
        self._tempered_at = 0
        # gold items' answer prefixes (item, log-likelihood, gold class), kept by the
        # gold calibration so the stop rule can be replayed on them
        self._gold_prefixes: tuple[Any, ...] | None = None
        self._claims: dict[tuple[float, int], StopClaim] = {}
        #: top-label map fitted on the gold prefixes (gold calibration only), and each
        #: item's log-likelihood with its own answers taken out of the skills it is read by
        self.top_map = TopLabelMap()
        self._own_out: NDArray[np.float64] | None = None
        check_number(n_items, "n_items", owner, kind=int, low=1)
        check_number(n_workers, "n_workers", owner, kind=int, low=1)
        check_number(n_classes, "n_classes", owner, kind=int, low=2)
        check_number(max_answers, "max_answers", owner, kind=int, low=1)
        check_number(
            prior_accuracy, "prior_accuracy", owner, low=0, high=1, low_open=True, high_open=True
        )
        check_number(prior_strength, "prior_strength", owner, low=0, low_open=True)
        n, w, k = n_items, n_workers, n_classes
        self.n_items, self.n_workers, self.n_classes = n, w, k
        self.max_answers = max_answers
        self.rng = check_random_state(random_state)
        self.features = None if features is None else np.asarray(features, dtype=np.float64)
        if self.features is not None and self.features.shape[0] != n:
            raise InputError(
                f"features must have one row per item ({n}); got {self.features.shape[0]}."
            )
        pseudo = np.full((k, k), prior_strength * (1 - prior_accuracy) / (k - 1))
        np.fill_diagonal(pseudo, prior_strength * prior_accuracy)
        self.pseudo = pseudo
        self.fixed_confusions = known_confusions is not None
        if known_confusions is not None:
            kc = np.asarray(known_confusions, dtype=np.float64)
            if kc.shape != (w, k, k):
                raise InputError(
                    f"known_confusions must have shape ({w}, {k}, {k}); got {kc.shape}."
                )
            self.log_conf = np.log(np.maximum(kc, _LOG_FLOOR))
        else:
            self.log_conf = np.repeat(
                np.log(pseudo / pseudo.sum(1, keepdims=True))[None], w, axis=0
            )
        self.class_prior = np.full(k, 1.0 / k)
        self.item_log_prior: NDArray[np.float64] | None = None
        self.loglik = np.zeros((n, k))
        self.post = np.full((n, k), 1.0 / k)
        self.confidence = np.full(n, 1.0 / k)
        self.entropy = np.full(n, np.log(k))
        self.n_answers = np.zeros(n, dtype=np.int64)
        self.votes = np.zeros((n, k), dtype=np.int64)
        self.answered_by = np.full((n, max_answers), -1, dtype=np.int32)
        self.worker_answers = np.zeros(w, dtype=np.int64)
        self.blocked = np.zeros(w, dtype=bool)
        self.exhausted = np.zeros(n, dtype=bool)
        self.gold = np.full(n, -1, dtype=np.int64)
        self.gold_col = np.full(n, -1, dtype=np.int64)
        self.audit = np.full(n, -1, dtype=np.int64)
        self.gold_seen = np.zeros((w, 0), dtype=bool)
        self.gold_answered = np.zeros(w, dtype=np.int64)
        self.gold_correct = np.zeros(w, dtype=np.int64)
        self.scratch: dict[str, Any] = {}
        self._buf_item: list[NDArray[np.int64]] = []
        self._buf_worker: list[NDArray[np.int64]] = []
        self._buf_label: list[NDArray[np.int64]] = []
        self.n_collected = 0

    # ---------------------------------------------------------------- reading
    def confusion_estimate(self) -> NDArray[np.float64]:
        """Current confusion estimates (n_workers, K, K)."""
        return np.exp(self.log_conf)  # type: ignore[no-any-return]

    def skill(self) -> NDArray[np.float64]:
        """Each annotator's estimated probability of a right answer under the class prior."""
        return np.einsum("wkk,k->w", self.confusion_estimate(), self.class_prior)  # type: ignore[no-any-return]

    def answer_posterior(self) -> NDArray[np.float64]:
        """The posterior from the answers and the class prior only (no item prior, no
        tempering), gold clamped: what the annotators' skills are re-estimated from."""
        if self.item_log_prior is None and self.tempering == Tempering():
            return self.post
        logp = np.log(self.class_prior)[None, :] + self.loglik
        logp -= logp.max(axis=1, keepdims=True)
        p = np.exp(logp)
        p /= p.sum(axis=1, keepdims=True)
        known = self.gold >= 0
        p[known] = np.eye(self.n_classes)[self.gold[known]]
        return p  # type: ignore[no-any-return]

    def annotations(self) -> Annotations:
        """Everything collected so far (gold answers included), as :class:`Annotations`."""
        i, w, y = self.collected()
        return Annotations.from_codes(
            i, w, y, n_items=self.n_items, n_workers=self.n_workers, n_classes=self.n_classes
        )

    def collected(self) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """The (item, worker, label) arrays of everything collected so far."""
        if len(self._buf_item) > 1:  # consolidate, so repeated reads stay cheap
            self._buf_item = [np.concatenate(self._buf_item)]
            self._buf_worker = [np.concatenate(self._buf_worker)]
            self._buf_label = [np.concatenate(self._buf_label)]
        if not self._buf_item:
            e = np.zeros(0, dtype=np.int64)
            return e, e, e
        return self._buf_item[0], self._buf_worker[0], self._buf_label[0]

    def has_answered(
        self, items: NDArray[np.int64], workers: NDArray[np.int64]
    ) -> NDArray[np.bool_]:
        """``out[b, m]``: has worker ``workers[b]`` already answered ``items[m]``?"""
        return (self.answered_by[items][None, :, :] == workers[:, None, None]).any(axis=2)  # type: ignore[no-any-return]

    # ---------------------------------------------------------------- writing
    def set_gold(self, items: NDArray[np.int64], labels: NDArray[np.int64]) -> None:
        """Declare known-answer items; their posterior is clamped to the answer."""
        self.gold[items] = labels
        self.gold_col[items] = np.arange(items.shape[0])
        self.gold_seen = np.zeros((self.n_workers, items.shape[0]), dtype=bool)
        self._update_rows(items)

    def set_audit(self, items: NDArray[np.int64], labels: NDArray[np.int64]) -> None:
        """Declare audit items: known-answer items routed and aggregated as regular
        ones, whose known class only checks the stop rule's claim (:meth:`stop_claim`)."""
        self.audit[items] = labels

    def set_item_log_prior(self, log_prior: NDArray[np.float64] | None) -> None:
        """Replace the per-item log prior (a model's predictions), or drop it (None)."""
        self.item_log_prior = log_prior
        self._update_rows(None)

    def record(
        self, items: NDArray[np.int64], workers: NDArray[np.int64], labels: NDArray[np.int64]
    ) -> None:
        """Add answers: O(K) per answer on the items' log-likelihoods."""
        if items.size == 0:
            return
        self._buf_item.append(items)
        self._buf_worker.append(workers)
        self._buf_label.append(labels)
        self.n_collected += int(items.size)
        np.add.at(self.worker_answers, workers, 1)
        is_gold = self.gold[items] >= 0
        if is_gold.any():
            gi, gw, gl = items[is_gold], workers[is_gold], labels[is_gold]
            self.gold_seen[gw, self.gold_col[gi]] = True
            np.add.at(self.gold_answered, gw, 1)
            np.add.at(self.gold_correct, gw, (gl == self.gold[gi]).astype(np.int64))
            items, workers, labels = items[~is_gold], workers[~is_gold], labels[~is_gold]
        # the policies' matching gives each item at most one answer per batch; a batch
        # from elsewhere (a replayed log, the service) may repeat an item, and fancy-index
        # updates would then count it once: such a batch is applied in passes of distinct items
        if items.size == 1 or np.unique(items).size == items.size:
            self._record_distinct(items, workers, labels)
            return
        order = np.argsort(items, kind="stable")
        sorted_items = items[order]
        starts = np.r_[0, np.flatnonzero(np.diff(sorted_items)) + 1]
        rank = np.empty(items.size, dtype=np.int64)
        rank[order] = np.arange(items.size) - np.repeat(starts, np.diff(np.r_[starts, items.size]))
        for r in range(int(rank.max()) + 1):
            take = rank == r
            self._record_distinct(items[take], workers[take], labels[take])

    def remove(self, item: int, worker: int, label: int) -> None:
        """Take back one recorded answer (an annotator's undo): the exact inverse of
        :meth:`record` for it, O(K + answers) instead of rebuilding the state.

        The item's log-likelihood loses the row that answer added: every recorded
        answer's row is the current ``log C_w[:, l]`` (a :meth:`refresh` recomputes all
        of them), so subtracting it leaves the state :meth:`record` would have built
        without the answer. Raises :class:`InputError` when no such answer is recorded.
        """
        i_all, w_all, y_all = self.collected()
        hit = np.flatnonzero((i_all == item) & (w_all == worker) & (y_all == label))
        if hit.size == 0:
            raise InputError(
                f"no answer {label} of worker {worker} on item {item} is recorded; "
                "nothing to remove."
            )
        keep = np.ones(i_all.size, dtype=bool)
        keep[hit[-1]] = False
        self._buf_item = [i_all[keep]]
        self._buf_worker = [w_all[keep]]
        self._buf_label = [y_all[keep]]
        self.n_collected -= 1
        self.worker_answers[worker] -= 1
        if self.gold[item] >= 0:
            # the gold item stays seen by this worker: it is not offered to them again
            self.gold_answered[worker] -= 1
            self.gold_correct[worker] -= int(label == self.gold[item])
            return
        row = self.answered_by[item]
        slots = np.flatnonzero(row == worker)
        if slots.size:  # close the gap so the answerers stay packed at the front
            rest = np.delete(row, slots[-1])
            row[:] = np.r_[rest, -1]
        self.n_answers[item] -= 1
        self.votes[item, label] -= 1
        self.loglik[item] -= self.log_conf[worker, :, label]
        if self.n_answers[item] == 0:
            self.loglik[item] = 0.0  # no float residue on an item left with no answers
        self._update_rows(np.asarray([item], dtype=np.int64))

    def _record_distinct(
        self, items: NDArray[np.int64], workers: NDArray[np.int64], labels: NDArray[np.int64]
    ) -> None:
        """The per-item part of :meth:`record` for a batch of distinct regular items."""
        self.answered_by[items, np.minimum(self.n_answers[items], self.max_answers - 1)] = workers
        self.n_answers[items] += 1
        self.votes[items, labels] += 1
        self.loglik[items] += self.log_conf[workers, :, labels]
        self._update_rows(items)

    def detached(self) -> CampaignState:
        """A copy that :meth:`refresh` can run on while this state keeps taking answers.

        Every array and answer buffer is copied except the read-only ``features`` and
        ``item_log_prior``, so nothing the copy's refresh writes or reads is shared with
        this state. Pair with :meth:`install_refresh`.
        """
        twin = copy.copy(self)
        for name, value in vars(self).items():
            if name in ("features", "item_log_prior"):
                continue
            if isinstance(value, np.ndarray):
                setattr(twin, name, value.copy())
            elif isinstance(value, list | dict):
                setattr(twin, name, copy.copy(value))
        return twin

    def install_refresh(self, refreshed: CampaignState) -> None:
        """Take the skills, class prior and calibration a :meth:`detached` copy's
        :meth:`refresh` estimated, and recompute every item's posterior from this
        state's own answers (which may have grown meanwhile).

        The expensive part (EM over all answers, the calibration fit) thus runs
        outside whatever lock guards this state; this part is one sparse product.
        """
        self.log_conf = refreshed.log_conf
        self.class_prior = refreshed.class_prior
        self.tempering = refreshed.tempering
        self._tempered_at = refreshed._tempered_at
        self._gold_prefixes = refreshed._gold_prefixes
        self.top_map = refreshed.top_map
        self._own_out = refreshed._own_out
        self._claims = {}
        i, w, y = self.collected()
        if i.size == 0:
            return
        k, nw = self.n_classes, self.n_workers
        s = sp.csr_matrix((np.ones(i.size), (i, w * k + y)), shape=(self.n_items, nw * k))
        self.loglik = np.asarray(s @ self.log_conf.transpose(0, 2, 1).reshape(nw * k, k))
        self.loglik[self.gold >= 0] = 0.0
        self._update_rows(None)

    def refresh(self, n_iter: int = 2) -> None:
        """Re-estimate the confusion matrices and the class prior: ``n_iter``
        Dawid-Skene EM iterations over all answers, warm-started from the posterior."""
        i, w, y = self.collected()
        if i.size == 0:
            return
        k, nw = self.n_classes, self.n_workers
        col = w * k + y
        s = sp.csr_matrix((np.ones(i.size), (i, col)), shape=(self.n_items, nw * k))
        stats, q = None, None
        for it in range(n_iter):
            if not self.fixed_confusions:
                # skills from the answers alone: a model's item prior (model-assisted
                # routing) must not feed back into what the annotators are believed to be
                q = self.answer_posterior()
                stats = np.asarray(s.T @ q)
                stats = stats.reshape(nw, k, k).transpose(0, 2, 1)
                cells = stats + self.pseudo[None]
                self.log_conf = np.log(
                    np.maximum(cells / cells.sum(axis=2, keepdims=True), _LOG_FLOOR)
                )
            seen = self.n_answers > 0
            if seen.any():
                prior = self.answer_posterior()[seen].sum(axis=0) + 1.0
                self.class_prior = prior / prior.sum()
            rows = self.log_conf.transpose(0, 2, 1).reshape(nw * k, k)
            self.loglik = np.asarray(s @ rows)
            self.loglik[self.gold >= 0] = 0.0
            # re-fitted once the answers grew by a tenth: τ and ε drift slowly
            if (
                self.calibrate != "none"
                and it == n_iter - 1
                and self.n_collected >= 1.1 * self._tempered_at
            ):
                self.tempering = self._fit_tempering(i, w, y)
                self._tempered_at = self.n_collected
            self._update_rows(None)
        if self._gold_prefixes is not None and stats is not None and q is not None:
            # only the calibrated read uses it, and only under the gold calibration
            regular = self.gold[i] < 0
            ri, rw, ry = i[regular], w[regular], y[regular]
            own = self._own_out_rows(stats, q[ri], rw, ry)
            out = np.stack(
                [np.bincount(ri, weights=own[:, c], minlength=self.n_items) for c in range(k)],
                axis=1,
            )
            self._own_out = out - self.loglik

    def _own_out_rows(
        self,
        stats: NDArray[np.float64],
        q: NDArray[np.float64],
        w: NDArray[np.int64],
        y: NDArray[np.int64],
    ) -> NDArray[np.float64]:
        """``log C_w[:, y]`` of each answer with that answer's own soft count ``q`` (the
        posterior of its item) taken out of annotator ``w``'s confusion counts ``stats``.

        An item read through skills fitted on its own answers looks surer than it is:
        its answers agree with the consensus they helped make. O(answers · K).
        """
        num = stats[w, :, y] - q + self.pseudo[:, y].T
        den = stats.sum(axis=2)[w] - q + self.pseudo.sum(axis=1)[None]
        return np.log(np.maximum(np.maximum(num, 1e-12) / np.maximum(den, 1e-12), _LOG_FLOOR))  # type: ignore[no-any-return]

    def _fit_tempering(
        self, i: NDArray[np.int64], w: NDArray[np.int64], y: NDArray[np.int64]
    ) -> Tempering:
        """τ and ε from the gold answers, or τ from held-out answers (see ``calibrate``).

        Both are scored out of sample: a gold item's answers are read through skills
        estimated without the gold answers, and a held-out answer through its
        annotator's confusion with that answer's own soft count taken out. Skills
        learned from the very answers being predicted made both look calibrated when
        they were not (τ = 1.0, ε = 0 on LabelMe where finished items were 87% right).
        """
        k = self.n_classes
        log_prior = np.log(self.class_prior)
        on_gold = self.gold[i] >= 0
        post = self.answer_posterior()
        if self.fixed_confusions:
            stats = None
        else:
            col = w * k + y
            s = sp.csr_matrix((np.ones(i.size), (i, col)), shape=(self.n_items, self.n_workers * k))
            stats = np.asarray(s.T @ post).reshape(self.n_workers, k, k).transpose(0, 2, 1).copy()
        if self.calibrate in ("auto", "gold") and on_gold.sum() >= self.min_gold_answers:
            gi, gw, gy = i[on_gold], w[on_gold], y[on_gold]
            if stats is None:
                log_conf = self.log_conf
            else:
                np.subtract.at(stats, (gw, self.gold[gi], gy), 1.0)
                cells = np.maximum(stats, 0.0) + self.pseudo[None]
                log_conf = np.log(np.maximum(cells / cells.sum(axis=2, keepdims=True), _LOG_FLOOR))
            # every prefix of a gold item's answers, in arrival order, is one example
            order = np.argsort(gi, kind="stable")
            gi = gi[order]
            csum = np.cumsum(log_conf[gw[order], :, gy[order]], axis=0)
            first = np.flatnonzero(np.r_[True, gi[1:] != gi[:-1]])
            start = np.repeat(first, np.diff(np.r_[first, gi.size]))
            base = np.where(start[:, None] > 0, csum[np.maximum(start - 1, 0)], 0.0)
            fitted = fit_tempering(
                log_prior, csum - base, truth=self.gold[gi], method="gold", min_gold=1
            )
            self._gold_prefixes = (gi, csum - base, self.gold[gi], log_prior, fitted)
            self._claims = {}
            # the map reads each prefix as a regular item is read: tempered, with the
            # answers so far counted per class
            counts = np.cumsum(np.eye(k)[gy[order]], axis=0)
            counts -= np.where(start[:, None] > 0, counts[np.maximum(start - 1, 0)], 0.0)
            self.top_map = fit_top_label_map(
                fitted.apply(log_prior, csum - base), counts, self.gold[gi]
            )
            return fitted
        if self.calibrate == "gold":
            return self.tempering
        reg = ~on_gold
        stride = max(1, -(-int(reg.sum()) // _MAX_CALIBRATION_ANSWERS))
        pick = reg & (i % stride == 0)
        if not pick.any():
            return self.tempering
        pi, pw, py = i[pick], w[pick], y[pick]
        rows = self.log_conf[pw, :, py]
        own = np.exp(rows if stats is None else self._own_out_rows(stats, post[pi], pw, py))
        return fit_tempering(
            log_prior, self.loglik, answer_item=pi, answer_rows=rows, answer_own=own,
            method="answers",
        )  # fmt: skip

    def posterior(self, calibrated: bool = False) -> NDArray[np.float64]:
        """Each item's posterior (a copy): :attr:`post`, or with ``calibrated`` the one
        whose confidence is checked against the gold.

        The calibrated read exists only under the gold calibration (elsewhere it is
        :attr:`post`). Each regular item is read through skills with its own answers
        taken out (as the gold items are when the calibration is fitted), tempered,
        then its top-label confidence is set by the :class:`TopLabelMap` fitted on the
        gold items' answer prefixes at the last calibration refit. Routing reads
        :attr:`post`, whose stop threshold is already gold-checked
        (:meth:`stop_claim`); this is what a user should be told an item's confidence
        is. O(n_items · K), nothing is refitted here.
        """
        if not calibrated or self._own_out is None or self._gold_prefixes is None:
            return self.post.copy()
        if self.item_log_prior is not None:
            log_prior = self.item_log_prior
        else:
            log_prior = np.log(self.class_prior)[None, :]
        read = self.top_map.apply(
            self.tempering.apply(log_prior, self.loglik + self._own_out), self.votes
        )
        # the labels stay those routing reads: the read with the item's own answers out
        # is the honest judge of how sure a label is, not a better picker of labels
        label = self.post.argmax(axis=1)
        p = rescale_top(self.post, read[np.arange(self.n_items), label])
        keep = (self.gold >= 0) | (self.n_answers == 0)
        p[keep] = self.post[keep]
        return p  # type: ignore[no-any-return]

    def stop_claim(self, target: float, min_answers: int = 1) -> StopClaim:
        """What a stop rule at ``target`` may claim, and the threshold it should use.

        With the gold calibration in force, the rule is replayed on the gold items'
        answers (calibrated as regular items are) and the threshold raised until the
        gold items it finishes are right ``target`` of the time
        (:func:`~labelwise.routing.stop_claim.gold_stop_rule`); an unreachable target
        gives an infinite threshold. With audit items (:meth:`set_audit`), the claimed
        accuracy is then that of the audit items the rule has finished so far
        (:func:`~labelwise.routing.stop_claim.audit_claim`). Otherwise the threshold is
        the target and the claim is flagged unchecked. The threshold is cached until
        the calibration is refitted.
        """
        claim = self._gold_claim(target, min_answers)
        audit = (self.audit >= 0) & (self.n_answers >= max(1, min_answers))
        if claim.source != "gold" or not claim.reachable or not audit.any():
            return claim
        done = audit & (self.confidence >= claim.threshold)
        right = self.post[done].argmax(axis=1) == self.audit[done]
        return audit_claim(claim, right)

    def _gold_claim(self, target: float, min_answers: int) -> StopClaim:
        key = (float(target), int(min_answers))
        if self._gold_prefixes is None:
            if (self.gold >= 0).any() and self.calibrate in ("auto", "gold"):
                return unchecked_claim(
                    float(target),
                    f"Too few answers to gold questions yet (at least {self.min_gold_answers} "
                    "are needed) to check the stop rule; until then it is unchecked. "
                    + "Without gold, e"
                    + NO_GOLD_WARNING.split(": ", 1)[1][1:],
                )
            return unchecked_claim(float(target))
        if key not in self._claims:
            gi, loglik, truth, log_prior, tempering = self._gold_prefixes
            p = tempering.apply(log_prior, loglik)
            self._claims[key] = gold_stop_rule(
                gi, p.max(axis=1), p.argmax(axis=1) == truth, float(target),
                min_answers=int(min_answers),
            )  # fmt: skip
        return self._claims[key]

    def stop_threshold(self, target: float, min_answers: int = 1) -> float:
        """Confidence at which a stop rule aiming at ``target`` finishes an item
        (see :meth:`stop_claim`)."""
        return self._gold_claim(target, min_answers).threshold

    def _update_rows(self, rows: NDArray[np.int64] | None) -> None:
        sel = slice(None) if rows is None else rows
        if self.item_log_prior is not None:
            log_prior = self.item_log_prior[sel]
        else:
            log_prior = np.log(self.class_prior)[None, :]
        p = self.tempering.apply(log_prior, self.loglik[sel])
        g = self.gold[sel]
        known = g >= 0
        if known.any():
            p[known] = np.eye(self.n_classes)[g[known]]
        self.post[sel] = p
        self.confidence[sel] = p.max(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            self.entropy[sel] = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=1)
