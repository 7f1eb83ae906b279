"""The pool-based active learning loop: query, teach, run.

Example
-------
>>> import numpy as np
>>> from sklearn.datasets import load_digits
>>> from sklearn.linear_model import LogisticRegression
>>> from labelwise.active import ActiveLearner
>>> X, y = load_digits(return_X_y=True)
>>> start = np.full(len(y), -1)
>>> start[:20] = y[:20]
>>> al = ActiveLearner(LogisticRegression(max_iter=500), "margin", 10, random_state=0)
>>> al = al.fit(X / 16, start)
>>> len(al.query())
10
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator

from labelwise._validation import (
    check_features,
    check_is_fitted,
    check_number,
    check_option,
    check_random_state,
)
from labelwise._weights import weight_kwargs
from labelwise.active import diversity, strategies
from labelwise.active.batch import class_balanced_top_k, top_k
from labelwise.active.prequential import AUTO_THRESHOLDS, leader, prequential_update
from labelwise.active.propagation import knn_affinity, label_spreading
from labelwise.active.seals import SEALS
from labelwise.errors import InputError, ParameterError

__all__ = ["BATCH_MODES", "PSEUDO_LABELS", "STRATEGIES", "ActiveLearner", "ActiveRun"]

IntArray = NDArray[np.int64]
FloatArr = NDArray[np.float64]

#: Strategy names the loop accepts (a callable ``proba -> scores`` works too).
STRATEGIES = (
    "random",
    "least_confidence",
    "margin",
    "entropy",
    "density",
    "vote_entropy",
    "mean_kl",
    "bald",
    "coreset",
    "badge",
    "target",
)
#: How a batch is drawn from scores.
BATCH_MODES = ("topk", "diverse", "kmeanspp", "balanced")
#: Where self-training's pseudo-labels come from.
PSEUDO_LABELS = ("model", "graph", "agree")
_COMMITTEE = {
    "vote_entropy": strategies.vote_entropy,
    "mean_kl": strategies.mean_kl,
    "bald": strategies.bald,
}


@dataclass(frozen=True)
class ActiveRun:
    """What :meth:`ActiveLearner.run` recorded: the learning curve and what was asked.

    Attributes
    ----------
    n_labels : (r,) int array
        Labeled items after each round (round 0: before any query).
    accuracy : (r,) float array
        Test accuracy after each round (NaN without a test set or a trained model).
    queried : tuple of int arrays
        Pool rows asked in each round, in order.
    stopped_by : str
        ``"budget"``, ``"pool exhausted"`` or the name of the stopping rule that fired.
    """

    n_labels: NDArray[np.int64]
    accuracy: NDArray[np.float64]
    queried: tuple[IntArray, ...]
    stopped_by: str

    def frame(self) -> pd.DataFrame:
        """The learning curve as a table with columns ``labels, accuracy``."""
        return pd.DataFrame({"labels": self.n_labels, "accuracy": self.accuracy})

    def labels_to_reach(self, target: float) -> int | None:
        """Fewest labels at which the accuracy first reached ``target`` (None: never)."""
        hit = np.flatnonzero(self.accuracy >= target)
        return int(self.n_labels[hit[0]]) if hit.size else None


class ActiveLearner(BaseEstimator):
    """Choose what to label next from a pool, learn from the answers, repeat.

    Parameters
    ----------
    estimator : scikit-learn classifier with ``predict_proba``
        Cloned and refitted on the labeled rows after every :meth:`teach`.
    strategy : str or callable
        One of :data:`STRATEGIES`, or ``f(proba) -> scores`` (higher = ask first).
        ``"density"`` is entropy times mean cosine similarity to the pool (``beta``);
        ``"vote_entropy"``, ``"mean_kl"`` and ``"bald"`` use a committee;
        ``"coreset"`` and ``"badge"`` choose the batch themselves (``batch`` ignored);
        ``"target"`` asks for the likeliest items of class ``target`` (rare-class search).
    batch_size : int
        Items per :meth:`query` by default.
    candidates : None or SEALS
        ``None`` scores every unlabeled row; a :class:`SEALS` scores only its candidates.
    batch : {"topk", "diverse", "kmeanspp", "balanced"}
        Top-k; k-means clusters of the ``oversample * n`` best, best per cluster;
        score-weighted k-means++; or top-k spread evenly over predicted classes.
    committee : list of estimators or None
        QBC members (each fit on all labels); ``None``: ``committee_size`` bootstrap fits.
    committee_size : int
    beta : float
        Density exponent for ``"density"``.
    target : int or None
        The class sought by ``strategy="target"``.
    oversample : int
        Candidates per batch slot for ``batch="diverse"``.
    self_training : "auto", float or None
        A float: after each teach add unlabeled candidates predicted with at least this
        probability as pseudo-labels, each weighted by it, and refit (active learning
        plus self-training). ``None``: labels only. ``"auto"`` (default): keep one model
        per arm of :data:`~labelwise.active.prequential.AUTO_THRESHOLDS` (0.9, none, 0.7,
        every row) and use the one whose predictions of the labels bought since were
        best (discounted by ``discount`` per batch; :mod:`~labelwise.active.prequential`).
    discount : float in (0, 1]
        How much of an arm's past record each new batch keeps, with ``"auto"``.
    pseudo_labels : {"model", "graph", "agree"}
        Where the probability compared with ``self_training`` comes from: the model
        fitted on the labels; label spreading over the ``graph_k``-nearest-neighbour
        graph of the embeddings (:mod:`~labelwise.active.propagation`); or the model,
        keeping only rows whose spread label agrees with the model's.
    graph_k : int
        Neighbours per row of that graph.
    stopping : sequence of stopping rules
        :class:`~labelwise.active.stopping.StabilizingPredictions`,
        :class:`~labelwise.active.stopping.MaxUncertainty`; checked by :meth:`run`.
    random_state : int, Generator or None

    Attributes
    ----------
    estimator_ : fitted clone of ``estimator`` (after the first teach with 2+ classes)
    labeled_ : (l,) int array, pool rows labeled, in the order taught
    y_ : (n,) int array, labels of the pool (``missing_label`` where unlabeled)
    seals_ : SEALS or None
    n_pseudo_ : int, pseudo-labels used in the last fit
    self_training_ : float or None, the threshold of the model in use (``"auto"``: the
        leading arm; 0.0 = every unlabeled row)
    arm_accuracy_ : dict, threshold -> discounted accuracy on the batches that followed
        each fit (``"auto"`` only; empty before the first scored batch)
    """

    def __init__(
        self,
        estimator: Any,
        strategy: str | Callable[[Any], Any] = "margin",
        batch_size: int = 10,
        *,
        candidates: SEALS | None = None,
        batch: str = "topk",
        committee: Sequence[Any] | None = None,
        committee_size: int = 5,
        beta: float = 1.0,
        target: int | None = None,
        oversample: int = 10,
        self_training: float | str | None = "auto",
        discount: float = 0.8,
        pseudo_labels: str = "model",
        graph_k: int = 10,
        stopping: Sequence[Any] = (),
        random_state: Any = None,
    ):
        self.estimator = estimator
        self.strategy = strategy
        self.batch_size = batch_size
        self.candidates = candidates
        self.batch = batch
        self.committee = committee
        self.committee_size = committee_size
        self.beta = beta
        self.target = target
        self.oversample = oversample
        self.self_training = self_training
        self.discount = discount
        self.pseudo_labels = pseudo_labels
        self.graph_k = graph_k
        self.stopping = stopping
        self.random_state = random_state

    # ------------------------------------------------------------------ setup
    def _validate(self) -> None:
        name = type(self).__name__
        if not hasattr(self.estimator, "predict_proba"):
            raise ParameterError(
                f"The 'estimator' parameter of {name} must have predict_proba; "
                f"{type(self.estimator).__name__} has none."
            )
        if not callable(self.strategy):
            check_option(self.strategy, "strategy", name, STRATEGIES)
        check_number(self.batch_size, "batch_size", name, kind=int, low=1)
        check_option(self.batch, "batch", name, BATCH_MODES)
        check_number(self.committee_size, "committee_size", name, kind=int, low=2)
        check_number(self.beta, "beta", name, low=0)
        check_number(self.oversample, "oversample", name, kind=int, low=1)
        if isinstance(self.self_training, str):
            check_option(self.self_training, "self_training", name, ("auto",))
        elif self.self_training is not None:
            check_number(self.self_training, "self_training", name, low=0, high=1, low_open=True)
        check_number(self.discount, "discount", name, low=0, high=1, low_open=True)
        check_option(self.pseudo_labels, "pseudo_labels", name, PSEUDO_LABELS)
        check_number(self.graph_k, "graph_k", name, kind=int, low=1)
        if self.strategy == "target" and self.target is None:
            raise ParameterError(f"strategy='target' of {name} needs the 'target' class.")
        if self.candidates is not None and not isinstance(self.candidates, SEALS):
            raise ParameterError(
                f"The 'candidates' parameter of {name} must be None or a SEALS instance. "
                f"Got {self.candidates!r} instead."
            )

    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike | None = None,
        *,
        embeddings: ArrayLike | None = None,
        missing_label: int = -1,
    ) -> ActiveLearner:
        """Take the pool ``X`` (n, d) and the labels known so far; return ``self``.

        ``y`` (n,) holds integer labels with ``missing_label`` for unlabeled rows
        (``None``: nothing labeled, the first query is a cold start). ``embeddings``
        (n, e) serve the neighbour index, density and diversity (default: ``X``).
        """
        self._validate()
        X_arr = np.asarray(X) if X is not None else None
        if X_arr is None or X_arr.ndim != 2 or X_arr.shape[1] == 0:
            shape = None if X_arr is None else X_arr.shape
            raise InputError(f"the pool X has no features (shape {shape}); need (n, d>=1).")
        self.X_ = check_features(X_arr, "X")
        n = self.X_.shape[0]
        self.emb_ = self.X_ if embeddings is None else check_features(embeddings, "embeddings")
        if self.emb_.shape[0] != n:
            raise InputError(f"embeddings has {self.emb_.shape[0]} rows; X has {n}.")
        self.missing_label_ = missing_label
        if y is None:
            self.y_ = np.full(n, missing_label, dtype=np.int64)
        else:
            yy = np.asarray(y)
            if yy.shape != (n,):
                raise InputError(f"y has shape {yy.shape}; the pool has {n} rows.")
            if not np.issubdtype(yy.dtype, np.integer):
                raise InputError(f"y must hold integer labels; got dtype {yy.dtype}.")
            self.y_ = yy.astype(np.int64)
        self._mask = self.y_ != missing_label
        self.w_ = np.ones(n, dtype=np.float64)
        self.labeled_ = np.flatnonzero(self._mask).astype(np.int64)
        self._rng = check_random_state(self.random_state)
        self._centroid = diversity_centroid(self.emb_) if self.strategy == "density" else None
        self.seals_ = None
        if self.candidates is not None:
            self.seals_ = SEALS(**self.candidates.get_params()).fit(self.emb_, self.labeled_)
        self.graph_ = None
        if self.self_training is not None and self.pseudo_labels != "model" and n > 1:
            self.graph_ = knn_affinity(self.emb_, k=self.graph_k)
        self._last_unc: float | None = None
        self._models: dict[str, Any] = {}
        self._arms: tuple[float | None, ...] = (
            AUTO_THRESHOLDS if self.self_training == "auto" else (self.self_training,)  # type: ignore[assignment]
        )
        self._arm_models: dict[float | None, Any] = {}
        self._hits = np.zeros(len(self._arms))
        self._seen = np.zeros(len(self._arms))
        self.arm_accuracy_: dict[float | None, float] = {}
        self._refit()
        return self

    # --------------------------------------------------------------- fitting
    @property
    def is_trained_(self) -> bool:
        """Whether a model is fitted (it needs labels of at least two classes)."""
        return hasattr(self, "estimator_")

    def _refit(self) -> None:
        lab = np.sort(self.labeled_)  # fit in pool order: the model ignores teaching order
        lab = lab[self.w_[lab] > 0]  # weight 0: labeled (never queried again), not trained on
        if np.unique(self.y_[lab]).size < 2:
            return
        Xl, yl = self.X_[lab], self.y_[lab]
        self.estimator_ = self._fit_model("labels", Xl, yl, self._weight_kwargs(lab))
        models: dict[float | None, Any] = {None: self.estimator_}
        counts: dict[float | None, int] = {None: 0}
        cand = self._candidate_ids() if any(t is not None for t in self._arms) else None
        if cand is not None and cand.size:
            label, conf = self._pseudo_labels(cand, lab)
            for t in self._arms:
                if t is None:
                    continue
                sure = conf >= t
                models[t], counts[t] = self.estimator_, 0
                if sure.any():
                    # pseudo-labels count with their probability where the model takes weights
                    w = np.concatenate([self.w_[lab], conf[sure]])
                    kw = weight_kwargs(self.estimator, w) if _takes_weights(self.estimator) else {}
                    models[t] = self._fit_model(
                        f"pseudo {t}",
                        np.vstack([Xl, self.X_[cand[sure]]]),
                        np.concatenate([yl, label[sure]]),
                        kw,
                    )
                    counts[t] = int(sure.sum())
        self._arm_models = {t: models.get(t, self.estimator_) for t in self._arms}
        self.self_training_ = self._arms[leader(self._hits, self._seen)]
        self.estimator_ = self._arm_models[self.self_training_]
        self.n_pseudo_ = counts.get(self.self_training_, 0)

    def _score_arms(self, rows: IntArray, labels: NDArray[Any]) -> None:
        """Score every arm's current model on labels it has not seen (before the refit)."""
        if len(self._arms) < 2 or not rows.size or not self._arm_models:
            return
        correct = np.column_stack(
            [self._arm_models[t].predict(self.X_[rows]) == labels for t in self._arms]
        )
        self._hits, self._seen = prequential_update(self._hits, self._seen, correct, self.discount)
        acc = self._hits / self._seen
        self.arm_accuracy_ = {t: float(a) for t, a in zip(self._arms, acc, strict=True)}

    def _fit_model(self, slot: str, X: Any, y: Any, kw: dict[str, Any]) -> Any:
        """Fit a clone, or refit this slot's previous model when the estimator warm-starts.

        With ``warm_start=True`` (LogisticRegression, SGD, MLP, forests...) a round starts
        from the last round's solution, several times cheaper than a fit from scratch;
        a new class (different ``classes_``) starts over.
        """
        from sklearn.base import clone

        prev = self._models.get(slot)
        if (
            prev is not None
            and getattr(self.estimator, "warm_start", False)
            and np.array_equal(getattr(prev, "classes_", None), np.unique(y))
        ):
            model = prev.fit(X, y, **kw)
        else:
            model = clone(self.estimator).fit(X, y, **kw)
        self._models[slot] = model
        return model

    def _pseudo_labels(self, cand: IntArray, lab: IntArray) -> tuple[NDArray[Any], FloatArr]:
        """Pseudo-label and its probability for each candidate row (see ``pseudo_labels``)."""
        classes = self.estimator_.classes_
        if self.pseudo_labels != "graph":
            p = self.estimator_.predict_proba(self.X_[cand])
            label, conf = classes[p.argmax(axis=1)], p.max(axis=1)
            if self.pseudo_labels == "model" or self.graph_ is None:
                return label, conf
        codes = np.searchsorted(classes, self.y_[lab])
        F = label_spreading(self.graph_, lab, codes, n_classes=len(classes))[cand]
        spread = classes[F.argmax(axis=1)]
        if self.pseudo_labels == "graph":
            return spread, F.max(axis=1)
        return label, np.where(spread == label, conf, 0.0)

    def _weight_kwargs(self, rows: IntArray) -> dict[str, Any]:
        """``sample_weight`` for the estimator's fit when some weight is not 1."""
        w = self.w_[rows]
        return {} if np.all(w == 1.0) else weight_kwargs(self.estimator, w)

    def teach(
        self, ids: ArrayLike, labels: ArrayLike, weights: ArrayLike | None = None
    ) -> ActiveLearner:
        """Record ``labels`` for pool rows ``ids``, grow the candidates, refit; return ``self``.

        A row taught again takes its new label (an aggregated label that changed).
        ``weights`` (default 1) become the estimator's ``sample_weight``: the
        confidence of an aggregated label; 0 keeps a row labeled (never queried
        again) but out of the training set, as the data engine does with an item
        whose label is under audit.
        """
        check_is_fitted(self, "X_")
        r = np.asarray(ids, dtype=np.int64).ravel()
        lab = np.asarray(labels).ravel()
        if r.shape != lab.shape:
            raise InputError(f"ids has {r.size} entries; labels has {lab.size}.")
        if weights is not None:
            w = np.asarray(weights, dtype=np.float64).ravel()
            if w.shape != r.shape or not np.isfinite(w).all() or (w < 0).any():
                raise InputError(
                    f"weights must be {r.size} finite values >= 0, one per id; got shape {w.shape}."
                )
            self.w_[r] = w
        if r.size and (r.min() < 0 or r.max() >= len(self.y_)):
            bad = r[(r < 0) | (r >= len(self.y_))][0]
            raise InputError(f"id {int(bad)} is outside the pool of {len(self.y_)} rows.")
        if not np.issubdtype(lab.dtype, np.integer):
            raise InputError(f"labels must be integers; got dtype {lab.dtype}.")
        if (lab == self.missing_label_).any():
            raise InputError(f"labels contain the missing label {self.missing_label_}.")
        new = r[~self._mask[r]]
        fresh = ~self._mask[r] & (self.w_[r] > 0)
        self._score_arms(r[fresh], lab[fresh])
        self.y_[r] = lab
        self._mask[r] = True
        _, first = np.unique(new, return_index=True)
        self.labeled_ = np.concatenate([self.labeled_, new[np.sort(first)]])
        if self.seals_ is not None:
            self.seals_.add_labeled(r)
        self._refit()
        return self

    # --------------------------------------------------------------- querying
    def _candidate_ids(self) -> IntArray:
        if self.seals_ is not None:
            cand = self.seals_.candidates_
            if self.seals_.n_random:
                extra = self._random_unlabeled(self.seals_.n_random, exclude=cand)
                cand = np.concatenate([cand, extra])
            return cand
        return np.flatnonzero(~self._mask).astype(np.int64)

    def max_uncertainty(self) -> float | None:
        """Largest least-confidence score among the candidates at the last query."""
        return self._last_unc

    def query(self, n: int | None = None) -> IntArray:
        """Pool rows to label next: ``n`` (default ``batch_size``) distinct unlabeled ids.

        Without a model (fewer than two classes labeled) the batch is a k-means cold
        start over the unlabeled rows' embeddings.
        """
        check_is_fitted(self, "X_")
        n = self.batch_size if n is None else n
        check_number(n, "n", "ActiveLearner.query", kind=int, low=1)
        n_unlabeled = len(self._mask) - len(self.labeled_)  # no scan of the pool
        if n > n_unlabeled:
            raise InputError(f"a batch of {n} is larger than the {n_unlabeled} unlabeled rows.")
        cand = self._candidate_ids()
        if cand.size < n:  # SEALS pool still small: top up with random unlabeled rows
            cand = np.concatenate([cand, self._random_unlabeled(n - cand.size, exclude=cand)])
        if not self.is_trained_:
            unl = cand if self.seals_ is not None else np.flatnonzero(~self._mask)
            if self.seals_ is not None and unl.size < 5 * n:
                unl = np.concatenate([unl, self._random_unlabeled(20 * n, exclude=unl)])
            pos = diversity.kmeans_seed(self.emb_[unl], n, random_state=self._rng)
            return unl[pos]
        if self.strategy == "random":
            return self._rng.choice(cand, size=n, replace=False).astype(np.int64)
        if self.seals_ is None and self._fast_path() and 2 * len(self.labeled_) < len(self._mask):
            return self._query_whole_pool(n)
        proba = self.estimator_.predict_proba(self.X_[cand])
        self._last_unc = float(1.0 - proba.max(axis=1).min()) if len(cand) else None
        return cand[self._select(cand, proba, n)]

    def _fast_path(self) -> bool:
        return (
            self.batch == "topk"
            and isinstance(self.strategy, str)
            and (self.strategy in strategies._TRUSTED)
        )

    def _query_whole_pool(self, n: int) -> IntArray:
        # score every row in place (no copy of the pool), then rule the labeled ones out
        proba = self.estimator_.predict_proba(self.X_)
        scores = strategies._TRUSTED[self.strategy](proba)
        scores[self._mask] = -np.inf
        pmax = proba.max(axis=1)
        pmax[self._mask] = np.inf
        self._last_unc = float(1.0 - pmax.min())
        return top_k(scores, n)

    def _random_unlabeled(self, m: int, exclude: IntArray) -> IntArray:
        n_pool = len(self._mask)
        free = n_pool - len(self.labeled_) - len(exclude)
        m = min(m, max(free, 0))
        if m == 0:
            return np.empty(0, dtype=np.int64)
        taken = set(exclude.tolist())
        out: list[int] = []
        while len(out) < m:  # rejection sampling: never scans the pool
            for i in self._rng.integers(n_pool, size=2 * (m - len(out)) + 8).tolist():
                if not self._mask[i] and i not in taken:
                    taken.add(i)
                    out.append(i)
                    if len(out) == m:
                        break
        return np.asarray(out, dtype=np.int64)

    def _select(self, cand: IntArray, proba: Any, n: int) -> IntArray:
        s = self.strategy
        if s == "coreset":
            emb = self.emb_[cand]
            return diversity.coreset(
                emb, n, labeled=self.emb_[self.labeled_], random_state=self._rng
            )
        if s == "badge":
            return diversity.badge(proba, self.emb_[cand], n, random_state=self._rng)
        if callable(s):
            scores = np.asarray(s(proba), dtype=np.float64)
        elif s in strategies._TRUSTED:
            scores = strategies._TRUSTED[s](proba)
        elif s == "density":
            scores = _density(proba, self.emb_[cand], self._centroid, self.beta)
        elif s == "target":
            cols = list(self.estimator_.classes_)
            if self.target not in cols:  # the class is not labeled yet: look where it is unsure
                scores = strategies.least_confidence(proba)
            else:
                scores = strategies.target_class(proba, cols.index(self.target))
        else:
            scores = _COMMITTEE[s](self._committee_proba(cand))
        if self.batch == "topk":
            return top_k(scores, n)
        if self.batch == "balanced":
            pred = np.asarray(proba).argmax(axis=1)
            return class_balanced_top_k(scores, pred, n)
        if self.batch == "kmeanspp":
            return diversity.weighted_kmeans_pp(
                self.emb_[cand], np.maximum(scores, 0), n, random_state=self._rng
            )
        return diversity.cluster_top(
            self.emb_[cand], scores, n, oversample=self.oversample, random_state=self._rng
        )

    def _committee_proba(self, cand: IntArray) -> NDArray[np.float64]:
        from sklearn.base import clone

        classes = self.estimator_.classes_
        lab = self.labeled_
        Xl, yl = self.X_[lab], self.y_[lab]
        members: list[Any] = []
        if self.committee is not None:
            members = [clone(m).fit(Xl, yl) for m in self.committee]
        else:
            for _ in range(self.committee_size):
                for _try in range(10):  # a bootstrap needs two classes
                    b = self._rng.integers(len(lab), size=len(lab))
                    if np.unique(yl[b]).size >= 2:
                        break
                members.append(clone(self.estimator).fit(Xl[b], yl[b]))
        Xc = self.X_[cand]
        out = np.zeros((len(members), len(cand), len(classes)))
        for j, m in enumerate(members):
            cols = np.searchsorted(classes, m.classes_)
            out[j][:, cols] = m.predict_proba(Xc)
        return out

    # -------------------------------------------------------------------- run
    def run(
        self,
        oracle: ArrayLike | Callable[[IntArray], ArrayLike],
        budget: int,
        *,
        X_test: ArrayLike | None = None,
        y_test: ArrayLike | None = None,
    ) -> ActiveRun:
        """Query, ask ``oracle``, teach, until ``budget`` new labels or a stopping rule.

        ``oracle`` is the labels of every pool row (n,) or ``f(ids) -> labels`` (a
        crowd campaign, a labeling service). Returns the learning curve as an
        :class:`ActiveRun` (accuracy on ``X_test, y_test`` when given).
        """
        check_is_fitted(self, "X_")
        check_number(budget, "budget", "ActiveLearner.run", kind=int, low=0)
        if callable(oracle):
            ask = oracle
        else:
            truth = np.asarray(oracle)
            if truth.shape != self.y_.shape:
                raise InputError(
                    f"oracle has shape {truth.shape}; the pool has {len(self.y_)} rows."
                )

            def ask(ids: IntArray) -> ArrayLike:
                return truth[ids]

        for rule in self.stopping:
            rule.reset()
        counts, accs, asked = [len(self.labeled_)], [self._score(X_test, y_test)], []
        spent, stopped = 0, "budget"
        while spent < budget:
            free = len(self._mask) - len(self.labeled_)
            if free == 0:
                stopped = "pool exhausted"
                break
            ids = self.query(min(self.batch_size, budget - spent, free))
            self.teach(ids, ask(ids))
            spent += len(ids)
            asked.append(ids)
            counts.append(len(self.labeled_))
            accs.append(self._score(X_test, y_test))
            fired = [r.name for r in self.stopping if r.should_stop(self)]
            if fired:
                stopped = fired[0]
                break
        return ActiveRun(
            np.asarray(counts, dtype=np.int64),
            np.asarray(accs, dtype=np.float64),
            tuple(asked),
            stopped,
        )

    def _score(self, X_test: Any, y_test: Any) -> float:
        if X_test is None or y_test is None or not self.is_trained_:
            return float("nan")
        return float((self.estimator_.predict(np.asarray(X_test)) == np.asarray(y_test)).mean())


def _takes_weights(estimator: Any) -> bool:
    from sklearn.utils.validation import has_fit_parameter

    last = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    return bool(has_fit_parameter(last, "sample_weight"))


def diversity_centroid(E: NDArray[Any]) -> NDArray[np.float64]:
    """Mean of the row-normalised embeddings (the pool's density reference), computed once."""
    norms = np.linalg.norm(E, axis=1, keepdims=True)
    return np.asarray((E / np.where(norms > 0, norms, 1.0)).mean(axis=0), dtype=np.float64)


def _density(proba: Any, emb: NDArray[Any], centroid: NDArray[np.float64], beta: float) -> Any:
    # entropy * (mean cosine similarity to the whole pool) ** beta, the pool's centroid precomputed
    norms = np.linalg.norm(emb, axis=1)
    sim = (emb @ centroid) / np.where(norms > 0, norms, 1.0)
    return strategies.entropy(proba) * np.maximum(sim, 0.0) ** beta
