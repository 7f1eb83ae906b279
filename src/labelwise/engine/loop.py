"""The data engine: one loop from an unlabeled pool to a trained model.

Each round:

1. **select** a batch of pool items (:class:`~labelwise.active.ActiveLearner`: a
   diverse k-means cold start while nothing is labeled, then the uncertainty
   strategy; :class:`~labelwise.active.SEALS` candidates for large pools);
2. **route** them: a :class:`~labelwise.routing.DynamicOverlap` policy on a
   :class:`~labelwise.routing.CampaignState` whose item prior is the current
   model's prediction decides which items want another answer. The default
   (``routing="disagreement"``) buys one answer per item and more only where the
   model pulls the posterior at least ``disagreement`` (0.15) below what the answers
   alone say (the model and the crowd disagree) and it is under ``confidence``: where
   the model has no opinion a second answer buys less than a new item.
   Annotators whose estimated skill is at chance are blocked; answers come from an
   :class:`~labelwise.engine.oracles.Oracle` and are written to the purchase
   journal (:mod:`labelwise.engine.journal`) the moment they are bought;
3. **aggregate** with the model's out-of-fold predictions as a per-item prior inside
   the EM (``aggregator.fit(annotations, prior=...)``);
4. **retrain** on the aggregated labels, weighted by their posterior confidence;
5. **audit**: items whose consensus the model strongly contradicts are held out of
   training and go back for one more answer in the next round;
6. **forecast and decide**: a power-law learning curve of held-out accuracy
   against labeled items, fitted on the engine's own rounds with their measurement
   noise (:mod:`labelwise.engine.forecast`), gives the accuracy the whole budget
   buys, with an interval; the engine continues, stops at the target, or stops
   because the interval's upper end at the full budget is below the target (two
   rounds in a row, and only within ``max_extrapolation`` times the items measured).

Every answer goes into the :class:`~labelwise.engine.ledger.Ledger`; the state is
saved after every round (:mod:`labelwise.engine.store`) and a killed run resumes
with :meth:`DataEngine.resume`, which reuses the answers its interrupted round had
already paid for (from the journal), so nothing is bought twice. A run with a
directory also leaves a dataset version per round
(:mod:`labelwise.engine.versioning`): the labels, their confidence, the answers
behind them and the audit's decisions, which ``labelwise version diff`` compares
round against round. Randomness is drawn per round from
``(random_state, round, request)``, so a resumed run buys exactly what an
uninterrupted one would.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from labelwise._validation import check_features, check_number, check_option
from labelwise.active import SEALS, ActiveLearner
from labelwise.aggregate import METHODS, ConvergenceWarning, make_aggregator, out_of_fold_proba
from labelwise.annotations import Annotations
from labelwise.engine.forecast import AccuracyForecast, accelerating_line, forecast_accuracy
from labelwise.engine.journal import Journal, empty_journal, read_journal
from labelwise.engine.ledger import Ledger
from labelwise.engine.oracles import Oracle, OracleAnswers
from labelwise.engine.store import latest_round, load_round, save_round
from labelwise.errors import InputError, LabelwiseError, ParameterError
from labelwise.routing import CampaignState, DynamicOverlap, FixedOverlap
from labelwise.scaling import CurveFit

__all__ = [
    "DECISIONS",
    "BudgetError",
    "DataEngine",
    "EngineConfig",
    "EngineResult",
    "OracleExhaustedError",
    "TargetUnreachableError",
]

#: What the engine may decide after a round.
DECISIONS = ("continue", "target reached", "budget cannot reach target", "budget spent",
             "pool exhausted", "target unreachable")  # fmt: skip

IntArray = NDArray[np.int64]
JOURNAL = "journal.csv"


class OracleExhaustedError(InputError):
    """The oracle has no answer for items the engine selected."""


class TargetUnreachableError(LabelwiseError):
    """The learning curve says the whole pool cannot reach the target accuracy.

    ``result`` holds the run up to that point (its state is saved).
    """

    def __init__(self, message: str, result: EngineResult):
        super().__init__(message)
        self.result = result


class BudgetError(ParameterError):
    """A budget that is negative, not a number, or below the price of one answer."""


@dataclass(frozen=True)
class EngineConfig:
    """What the engine is asked to do, and how.

    Parameters
    ----------
    budget : float
        Money that may be spent; never exceeded.
    target_accuracy : float in (0, 1]
        Held-out accuracy at which the engine stops.
    batch_size : int
        New items selected per round (at least).
    growth : float
        Rounds grow with the data: a round selects
        ``max(batch_size, growth * items labeled)`` new items (0: fixed batches).
    strategy : str
        Active-learning strategy (:data:`labelwise.active.STRATEGIES`); ``"random"``
        draws items uniformly (the baselines).
    routing : {"dynamic", "disagreement", "fixed"}
        Dynamic overlap (answers until the posterior reaches ``confidence``); the same
        with one answer first and more only where the model and the crowd disagree
        (``disagreement``); or a fixed ``overlap`` per item.
    overlap : int
        Answers per item when ``routing="fixed"``.
    confidence : float
        Posterior confidence at which dynamic overlap finishes an item.
    disagreement : float
        With ``routing="disagreement"``, how far below the answers' own confidence
        the model must pull an item's posterior before it gets another answer. The
        default 0.15 keeps second answers for items where the model and the answer
        nearly cancel out (one 80% answer against a model at 0.75: posterior 0.57); at
        0.05 a mild doubt (a model at 0.6 against it: 0.73) bought a second answer
        that rarely changed the label, and on SST-2 that cost more than new items
        would have (money to target 918 vs 517, 10 seeds; benchmarks/RESULTS.md).
    max_answers : int
        Most answers one item gets.
    aggregator : str
        ``mv``, ``wmv``, ``ds``, ``onecoin``, ``glad`` or ``mace``.
    model_prior : bool
        Use the model's predictions as the item prior in routing and aggregation.
    audit_threshold : float
        An item is audited when the model gives its consensus label less than this
        probability (and the model is confident elsewhere); 0 turns audit off.
    confidence_weights : bool
        Train with the aggregated labels' confidence as sample weight.
    self_training : float or None
        Add confident pseudo-labels when refitting (``ActiveLearner(self_training=...)``).
    seals_above : int
        Use SEALS candidates when the pool has more rows than this.
    min_forecast_rounds : int
        Rounds with a model before the learning curve may stop the run.
    max_extrapolation : float
        The budget is judged only once what it buys is at most this many times the
        items measured (:func:`~labelwise.engine.forecast.forecast_accuracy`); it is
        stopped as too small when the upper end of the forecast's 90% interval at
        the full budget is below the target, two rounds in a row. At 4 (the second
        round's default) a digits run still in the steep part of its curve was
        stopped at 106 items from a forecast for 368, with twice the money it needed.
    block_below : float
        Block annotators whose estimated skill is below chance plus this (after
        ``block_after`` answers); 0 never blocks.
    block_after : int
    random_state : int
    """

    budget: float
    target_accuracy: float
    batch_size: int = 50
    growth: float = 0.0
    strategy: str = "margin"
    routing: str = "disagreement"
    overlap: int = 3
    confidence: float = 0.9
    disagreement: float = 0.15
    max_answers: int = 5
    aggregator: str = "ds"
    model_prior: bool = True
    audit_threshold: float = 0.05
    confidence_weights: bool = True
    self_training: float | None = None
    seals_above: int = 20_000
    min_forecast_rounds: int = 4
    max_extrapolation: float = 3.0
    block_below: float = 0.05
    block_after: int = 10
    random_state: int = 0

    def check(self) -> None:
        """Raise :class:`ParameterError` naming the first bad setting."""
        name = "EngineConfig"
        if not isinstance(self.budget, int | float) or not math.isfinite(self.budget):
            raise BudgetError(f"budget must be a finite number of money; got {self.budget!r}.")
        if self.budget < 0:
            raise BudgetError(f"budget must be >= 0; got {self.budget}.")
        check_number(self.target_accuracy, "target_accuracy", name, low=0, high=1, low_open=True)
        check_number(self.batch_size, "batch_size", name, kind=int, low=1)
        check_number(self.growth, "growth", name, low=0)
        check_option(self.routing, "routing", name, ("dynamic", "disagreement", "fixed"))
        check_number(self.disagreement, "disagreement", name, low=0, high=1)
        check_number(self.overlap, "overlap", name, kind=int, low=1)
        check_number(self.confidence, "confidence", name, low=0, high=1, low_open=True,
                     high_open=True)  # fmt: skip
        check_number(self.max_answers, "max_answers", name, kind=int, low=1)
        check_option(self.aggregator, "aggregator", name, tuple(METHODS))
        check_number(self.audit_threshold, "audit_threshold", name, low=0, high=1)
        check_number(self.seals_above, "seals_above", name, kind=int, low=1)
        check_number(self.min_forecast_rounds, "min_forecast_rounds", name, kind=int, low=3)
        check_number(self.max_extrapolation, "max_extrapolation", name, low=1)
        check_number(self.block_below, "block_below", name, low=0, high=1)
        check_number(self.block_after, "block_after", name, kind=int, low=1)


@dataclass(frozen=True)
class EngineResult:
    """A run of the engine.

    Attributes
    ----------
    history : DataFrame
        One row per round: ``round``, ``money``, ``answers``, ``items``, ``trained``,
        ``audited``, ``accuracy`` (held out), ``forecast_money``, ``forecast_low``,
        ``forecast_high`` (money to reach the target by the learning curve),
        ``budget_items`` (items the whole budget buys at the recent price per item),
        ``budget_accuracy``, ``budget_accuracy_low``, ``budget_accuracy_high`` (the
        curve's forecast there, :func:`~labelwise.engine.forecast.forecast_accuracy`)
        and ``decision``.
    ledger : Ledger
    labels : DataFrame
        ``item`` (pool row), ``label`` (class code), ``confidence``, ``answers``.
    model : fitted estimator or None
    stop_reason : str
        One of :data:`DECISIONS` (``"continue"`` never ends a run).
    oracle : str
        The oracle's kind: every figure comes from it.
    message : str
        The decision in a sentence (with the forecast and its interval).
    version : Path or None
        The dataset version of the last round (``<directory>/versions/round-NNNN``;
        None for a run without a directory).
    """

    history: pd.DataFrame
    ledger: Ledger
    labels: pd.DataFrame
    model: Any
    stop_reason: str
    oracle: str
    message: str
    version: Path | None = None

    @property
    def money(self) -> float:
        """Money spent."""
        return self.ledger.spent

    @property
    def accuracy(self) -> float:
        """Held-out accuracy after the last round (NaN without a model)."""
        return float(self.history["accuracy"].iloc[-1]) if len(self.history) else math.nan

    def money_to_reach(self, accuracy: float) -> float:
        """Money at which held-out accuracy first reached ``accuracy`` (linear between
        rounds; ``inf`` when never reached)."""
        h = self.history.dropna(subset=["accuracy"])
        money, acc = h["money"].to_numpy(), h["accuracy"].to_numpy()
        hit = np.flatnonzero(acc >= accuracy)
        if hit.size == 0:
            return math.inf
        j = int(hit[0])
        if j == 0:
            return float(money[0])
        m0, m1, a0, a1 = money[j - 1], money[j], acc[j - 1], acc[j]
        return float(m0 + (m1 - m0) * (accuracy - a0) / max(a1 - a0, 1e-12))


@dataclass
class _RunState:
    round: int = 0
    audit: list[int] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str = "continue"
    message: str = ""


class DataEngine:
    """Select, route, aggregate with the model as prior, retrain, audit, decide.

    Parameters
    ----------
    estimator : scikit-learn classifier with ``predict_proba``
    config : EngineConfig

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from labelwise.engine import DataEngine, EngineConfig, LabelArrayOracle
    >>> X, y = load_digits(return_X_y=True)
    >>> eng = DataEngine(LogisticRegression(max_iter=500),
    ...                  EngineConfig(budget=300, target_accuracy=0.85, batch_size=50))
    >>> res = eng.run(X[:1500], LabelArrayOracle(y[:1500]), X_test=X[1500:], y_test=y[1500:])
    >>> res.stop_reason, res.money <= 300
    ('target reached', True)
    """

    def __init__(self, estimator: Any, config: EngineConfig):
        self.estimator = estimator
        self.config = config

    # --------------------------------------------------------------- public
    def run(
        self,
        X: ArrayLike,
        oracle: Oracle,
        *,
        X_test: ArrayLike,
        y_test: ArrayLike,
        directory: str | Path | None = None,
        extra_config: dict[str, Any] | None = None,
        on_round: Callable[[dict[str, Any]], None] | None = None,
        item_ids: ArrayLike | None = None,
        class_names: ArrayLike | None = None,
    ) -> EngineResult:
        """Run rounds until a decision stops the engine; return the run.

        ``directory`` (optional) receives the state after every round, the ledger,
        labels, history and model, and a dataset version per round under
        ``directory/versions`` (named by ``item_ids``, one per pool row, and
        ``class_names``, one per class code; default: the codes);
        ``extra_config`` is stored beside the settings (the CLI keeps its inputs
        there for ``resume``); ``on_round(row)`` is called with each round's history
        row once it is saved (progress display).
        """
        self._on_round = on_round
        cfg = self.config
        cfg.check()
        self._setup(X, oracle, X_test, y_test)
        if cfg.budget < oracle.max_cost:
            raise BudgetError(
                f"budget {cfg.budget:g} is below the price of one answer "
                f"({oracle.max_cost:g}); nothing can be bought."
            )
        self._dir = None if directory is None else Path(directory)
        if self._dir is not None:
            import json

            from labelwise.engine.store import atomic_write

            if (self._dir / "LATEST").exists() or len(read_journal(self._dir / JOURNAL)):
                raise InputError(
                    f"{str(self._dir)!r} already holds an engine run; continue it with "
                    "`labelwise engine resume` or choose an empty folder."
                )
            self._dir.mkdir(parents=True, exist_ok=True)
            payload = {"engine": asdict(cfg), "oracle": oracle.kind, **(extra_config or {})}
            payload["version_names"] = self._version_names(item_ids, class_names)
            atomic_write(self._dir / "config.json", json.dumps(payload, indent=1).encode())
        self._ledger = Ledger()
        self._state = _RunState()
        self._proba: NDArray[np.float64] | None = None
        self._prepaid = empty_journal()  # answers paid in an interrupted round
        self._journal = None if self._dir is None else Journal(self._dir / JOURNAL)
        if self._dir is None:
            self._version_names(item_ids, class_names)
        self._new_learner()
        return self._loop()

    def resume(
        self,
        directory: str | Path,
        X: ArrayLike,
        oracle: Oracle,
        *,
        X_test: ArrayLike,
        y_test: ArrayLike,
        on_round: Callable[[dict[str, Any]], None] | None = None,
    ) -> EngineResult:
        """Continue a run saved in ``directory`` from its last complete round.

        ``X`` and ``oracle`` must be the run's (a fresh oracle: the answers already
        bought are marked used from the ledger, so none is bought twice).
        """
        cfg = self.config
        cfg.check()
        self._on_round = on_round
        self._setup(X, oracle, X_test, y_test)
        self._dir = Path(directory)
        journal = read_journal(self._dir / JOURNAL)
        first = latest_round(self._dir) is None and (self._dir / "config.json").exists()
        if first and len(journal):
            # killed in its first round: nothing complete, but answers already paid
            r, state, ledger, proba = 0, asdict(_RunState()), Ledger(), None
            state |= {"train_items": [], "train_labels": [], "train_weights": []}
        else:
            r, state, ledger, proba = load_round(self._dir)
        self._read_version_names()
        if len(ledger) and (ledger.item.max() >= self._n or ledger.label.max() >= self._k):
            raise InputError(
                f"the ledger in {str(directory)!r} does not fit this pool ({self._n} items, "
                f"{self._k} classes): resume with the run's own features and oracle."
            )
        self._ledger = ledger
        self._state = _RunState(
            round=r, audit=list(state["audit"]), history=list(state["history"]),
            stop_reason=state["stop_reason"], message=state["message"],
        )  # fmt: skip
        self._proba = proba
        # answers bought in the interrupted round: paid for, reused before asking again
        self._prepaid = journal[journal["round"] > r].reset_index(drop=True)
        oracle.restore(
            np.concatenate([ledger.item, self._prepaid["item"].to_numpy()]),
            np.concatenate([ledger.worker, self._prepaid["worker"].to_numpy()]),
        )
        self._journal = Journal(self._dir / JOURNAL)
        self._new_learner()
        if state["train_items"]:
            self._learner.teach(np.asarray(state["train_items"], dtype=np.int64),
                                np.asarray(state["train_labels"], dtype=np.int64),
                                np.asarray(state["train_weights"], dtype=np.float64))  # fmt: skip
        return self._loop()

    # --------------------------------------------------------------- set-up
    def _setup(self, X: ArrayLike, oracle: Oracle, X_test: ArrayLike, y_test: ArrayLike) -> None:
        if not isinstance(oracle, Oracle):
            raise InputError(
                f"oracle must be a labelwise.engine Oracle; got {type(oracle).__name__}."
            )
        self._X = check_features(X, "X")
        self._n = self._X.shape[0]
        if oracle.n_items != self._n:
            raise InputError(
                f"the oracle answers for {oracle.n_items} items; X has {self._n} rows."
            )
        self._oracle = oracle
        self._k = int(oracle.n_classes)
        self._Xt = check_features(X_test, "X_test")
        yt = np.asarray(y_test)
        if yt.shape != (self._Xt.shape[0],) or not np.issubdtype(yt.dtype, np.integer):
            raise InputError(
                f"y_test must hold one integer class code per row of X_test "
                f"({self._Xt.shape[0]}); got shape {yt.shape}, dtype {yt.dtype}."
            )
        if yt.size and (yt.min() < 0 or yt.max() >= self._k):
            raise InputError(f"y_test holds codes outside 0..{self._k - 1}.")
        self._yt = yt.astype(np.int64)
        if self._Xt.shape[1] != self._X.shape[1]:
            raise InputError(f"X_test has {self._Xt.shape[1]} features; X has {self._X.shape[1]}.")

    def _version_names(self, item_ids: ArrayLike | None, classes: ArrayLike | None) -> Any:
        names: dict[str, list[str] | None] = {"items": None, "classes": None}
        for key, given, size in (("items", item_ids, self._n), ("classes", classes, self._k)):
            if given is None:
                continue
            arr = [str(v) for v in np.asarray(given, dtype=object).ravel()]
            if len(arr) != size:
                raise InputError(
                    f"{'item_ids' if key == 'items' else 'class_names'} has {len(arr)} "
                    f"names; the run has {size} {'pool rows' if key == 'items' else 'classes'}."
                )
            names[key] = arr
        self._names = names
        return names

    def _read_version_names(self) -> None:
        import json

        assert self._dir is not None
        path = self._dir / "config.json"
        saved = json.loads(path.read_text()) if path.exists() else {}
        names = saved.get("version_names") or {}
        self._names = {"items": names.get("items"), "classes": names.get("classes")}

    def _new_learner(self) -> None:
        cfg = self.config
        seals = SEALS(k=20) if self._n > cfg.seals_above else None
        strategy = "margin" if cfg.strategy == "random" else cfg.strategy
        self._learner = ActiveLearner(
            self.estimator, strategy, cfg.batch_size, candidates=seals,
            self_training=cfg.self_training, random_state=cfg.random_state,
        ).fit(self._X)  # fmt: skip

    def _rng(self, round_: int, stream: int, *more: int) -> np.random.Generator:
        return np.random.default_rng([self.config.random_state, round_, stream, *more])

    # ---------------------------------------------------------------- loop
    def _loop(self) -> EngineResult:
        st = self._state
        while st.stop_reason == "continue":
            st.round += 1
            self._one_round(st.round)
        result = self._result()
        if st.stop_reason == "target unreachable":
            raise TargetUnreachableError(st.message, result)
        return result

    def _one_round(self, r: int) -> None:
        cfg, st = self.config, self._state
        self._reasked = list(st.audit)
        new = self._select(r)
        self._route(r, new, np.asarray(st.audit, dtype=np.int64))
        items, post = self._aggregate()
        labels = post.argmax(axis=1)
        conf = post.max(axis=1)
        audit = self._audit(items, labels)
        weights = conf.copy() if cfg.confidence_weights else np.ones(items.size)
        weights[np.isin(items, audit)] = 0.0
        self._retrain(items, labels, weights, post)
        acc = self._score()
        spent = self._ledger.spent
        row: dict[str, Any] = {
            "round": r, "money": spent, "answers": len(self._ledger), "items": int(items.size),
            "trained": int((weights > 0).sum()), "audited": len(audit), "accuracy": acc,
            "forecast_money": math.nan, "forecast_low": math.nan, "forecast_high": math.nan,
            "budget_items": math.nan, "budget_accuracy": math.nan,
            "budget_accuracy_low": math.nan, "budget_accuracy_high": math.nan,
        }  # fmt: skip
        st.history.append(row)
        decision, message = self._decide(row)
        row["decision"] = decision
        st.audit = [int(i) for i in audit]
        st.stop_reason, st.message = decision, message
        self._save(r, items, labels, weights, post)
        if self._on_round is not None:
            self._on_round(dict(row, message=message))

    # -------------------------------------------------------------- select
    def _unlabeled(self) -> IntArray:
        asked = np.zeros(self._n, dtype=bool)
        asked[self._ledger.item] = True
        return np.flatnonzero(~asked).astype(np.int64)

    def _select(self, r: int) -> IntArray:
        cfg = self.config
        rng = self._rng(r, 1)
        free = self._unlabeled()
        # items selected before but never answered (budget ran out) stay in the pool
        n = min(max(cfg.batch_size, round(cfg.growth * (self._n - free.size))), free.size)
        if n == 0:
            return free
        if cfg.strategy == "random":
            sel = rng.choice(free, size=n, replace=False).astype(np.int64)
        else:
            self._learner._rng = rng  # per-round stream: resume reproduces the choice
            sel = self._learner.query(n)
        ok = self._oracle.available(sel)
        if not ok.all():
            bad = sel[~ok][:5].tolist()
            raise OracleExhaustedError(
                f"the {self._oracle.kind} oracle has no answer for selected item(s) {bad} "
                f"({int((~ok).sum())} of {sel.size}); give the engine only items the oracle "
                "can answer."
            )
        return sel

    # --------------------------------------------------------------- route
    def _campaign_state(self, em_iter: int = 3) -> tuple[CampaignState, Any]:
        cfg, o = self.config, self._oracle
        cap = cfg.overlap if cfg.routing == "fixed" else cfg.max_answers
        cap = min(cap, o.n_workers)
        policy = (
            FixedOverlap(cap) if cfg.routing == "fixed"
            else DynamicOverlap(target=cfg.confidence, cap=cap, min_answers=1)
        )  # fmt: skip
        state = CampaignState(
            self._n, o.n_workers, self._k, max_answers=cap,
            known_confusions=o.known_confusions, random_state=0,
        )  # fmt: skip
        policy.bind(state)
        led = self._ledger
        state.record(led.item, led.worker, led.label)
        if cfg.model_prior and self._proba is not None:
            state.set_item_log_prior(np.log(np.clip(self._proba, 1e-3, 1.0)))
        if len(led) and o.known_confusions is None:
            state.refresh(em_iter)
        return state, policy

    def _block(self, state: CampaignState) -> None:
        cfg = self.config
        if cfg.block_below <= 0 or state.fixed_confusions:
            return
        chance = 1.0 / self._k
        bad = (state.worker_answers >= cfg.block_after) & (state.skill() < chance + cfg.block_below)
        state.blocked |= bad

    def _route(self, r: int, new: IntArray, audit: IntArray) -> None:
        cfg, led, o = self.config, self._ledger, self._oracle
        state, policy = self._campaign_state()
        self._block(state)
        want = np.zeros(self._n, dtype=bool)
        want[new] = True
        force = np.zeros(self._n, dtype=bool)
        audit = audit[state.n_answers[audit] < state.max_answers]
        want[audit] = True
        force[audit] = True
        dead = np.zeros(self._n, dtype=bool)
        wave = -1
        while True:
            wave += 1
            open_ = ((self._is_open(state, policy) | force) & want & ~dead
                     & (state.n_answers < state.max_answers))  # fmt: skip
            idx = np.flatnonzero(open_)
            if idx.size == 0:
                break
            # answers paid in an interrupted run of this round count as spent already
            prepaid = self._take_prepaid(r, wave)
            room = cfg.budget - led.spent - float(self._prepaid["cost"].sum() + prepaid.costs.sum())
            affordable = math.floor(room / o.max_cost + 1e-9) if o.max_cost > 0 else idx.size
            if affordable <= 0 and len(prepaid) == 0:
                break
            pr = policy.priority(state)[idx] + 1e3 * force[idx]
            order = idx[np.argsort(-pr, kind="stable")][: max(affordable, 0)]
            ask = np.setdiff1d(order, prepaid.items, assume_unique=True)
            ask = order[np.isin(order, ask)]
            if ask.size:
                # one generator per request: a request served from the journal on resume
                # draws nothing, and the ones after it draw what they drew the first time
                bought = o.ask(ask, self._rng(r, 2, wave), state.blocked.copy())
                if bought.costs.sum() > room + 1e-9:
                    raise InputError(
                        f"the {o.kind} oracle charged {bought.costs.sum():g} for {len(bought)} "
                        f"answers; only {room:g} was left (max_cost {o.max_cost:g} is wrong)."
                    )
                if self._journal is not None:
                    self._journal.append(r, wave, bought)
            else:
                bought = _no_answers()
            got = _concat_answers(prepaid, bought)
            missing = np.setdiff1d(ask, bought.items)
            dead[missing] = True  # no answer left for these
            force[order] = False
            force[prepaid.items] = False
            if len(got) == 0:
                break
            led.add(r, got)
            state.record(got.items, got.workers, got.labels)
            if o.known_confusions is None:
                state.refresh(1)
                self._block(state)
        rest = self._prepaid[self._prepaid["round"] == r]
        if len(rest):
            # paid in the interrupted run but not asked for this time (the run took
            # another path): still bought, so they go into the ledger
            self._prepaid = self._prepaid[self._prepaid["round"] != r]
            led.add(r, _frame_answers(rest))

    def _is_open(self, state: CampaignState, policy: Any) -> NDArray[np.bool_]:
        """Items that want another answer. ``routing="disagreement"``: one answer, and
        more only while the model pulls the item's posterior below what the answers
        alone say (the model and the crowd disagree) and it is under ``confidence``."""
        is_open: NDArray[np.bool_] = policy.is_open(state)
        if self.config.routing != "disagreement":
            return is_open
        crowd = state.answer_posterior().max(axis=1)
        pulls = state.confidence < crowd - self.config.disagreement
        return is_open & ((state.n_answers == 0) | pulls)

    def _take_prepaid(self, r: int, wave: int) -> OracleAnswers:
        """The journal's answers of request ``wave`` in round ``r`` (removed from the
        answers paid in advance)."""
        pre = self._prepaid
        if len(pre) == 0:
            return _no_answers()
        hit = (pre["round"] == r) & (pre["wave"] == wave)
        self._prepaid = pre[~hit].reset_index(drop=True)
        return _frame_answers(pre[hit])

    # ----------------------------------------------------------- aggregate
    def _aggregate(self) -> tuple[IntArray, NDArray[np.float64]]:
        """(answered pool rows, their posterior (m, K))."""
        cfg, led = self.config, self._ledger
        items, compact = np.unique(led.item, return_inverse=True)
        per_item = np.bincount(compact)
        prior = None
        if cfg.model_prior and self._proba is not None and cfg.aggregator not in ("mv", "wmv"):
            prior = self._proba[items]
        n_workers = max(np.unique(led.worker).size, 1)
        thin = len(led) / n_workers < 2 * self._k  # too few answers per annotator for EM
        self._agg_used = cfg.aggregator
        if cfg.aggregator not in ("mv", "wmv") and (
            self._oracle.known_confusions is not None or per_item.max(initial=0) < 2 or thin
        ):
            self._agg_used = "campaign posterior"
            # skills known, or too few answers to estimate them by maximum likelihood
            # (an EM on a few answers per annotator can swap classes): the campaign's
            # posterior decides, whose confusions have a Dirichlet prior toward
            # accuracy 0.7, with the model as the item prior
            state, _ = self._campaign_state(em_iter=10)
            return items, state.post[items].copy()
        ann = Annotations.from_codes(
            compact, led.worker, led.label,
            n_items=items.size, n_workers=self._oracle.n_workers, n_classes=self._k,
        )  # fmt: skip
        agg = make_aggregator(cfg.aggregator)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            agg.fit(ann, prior=prior) if prior is not None else agg.fit(ann)
        return items, np.asarray(agg.proba_, dtype=np.float64)

    # --------------------------------------------------------------- audit
    def _audit(self, items: IntArray, labels: IntArray) -> IntArray:
        """Items whose consensus the model (out of fold) strongly contradicts."""
        cfg = self.config
        if cfg.audit_threshold <= 0 or self._proba is None:
            return np.zeros(0, dtype=np.int64)
        p = self._proba[items]
        contradicted = (p[np.arange(items.size), labels] < cfg.audit_threshold) & (
            p.max(axis=1) > 0.8
        )
        n_ans = self._ledger.answers_per_item(self._n)[items]
        cap = cfg.overlap if cfg.routing == "fixed" else cfg.max_answers
        cand = items[contradicted & (n_ans < cap)]
        if cand.size == 0:
            return cand
        return cand[self._oracle.available(cand)]

    # ------------------------------------------------------------- retrain
    def _retrain(
        self, items: IntArray, labels: IntArray, weights: NDArray[Any], post: NDArray[Any]
    ) -> None:
        """Teach the learner the aggregated labels and refresh the model's
        probabilities for every pool row (out of fold on the trained rows)."""
        if items.size == 0:
            return
        self._learner.teach(items, labels, weights)
        cfg = self.config
        if not (cfg.model_prior or cfg.audit_threshold > 0) or not self._learner.is_trained_:
            self._proba = None
            return
        k, est = self._k, self._learner.estimator_
        out = np.zeros((self._n, k))
        out[:, np.asarray(est.classes_, dtype=np.int64)] = est.predict_proba(self._X)
        keep = weights > 0
        tr = items[keep]
        if tr.size >= 4:
            out[tr] = out_of_fold_proba(self.estimator, self._X[tr], post[keep], cv=5)
        self._proba = out

    def _score(self) -> float:
        if not self._learner.is_trained_:
            return math.nan
        pred = self._learner.estimator_.predict(self._Xt)
        return float((np.asarray(pred) == self._yt).mean())

    # -------------------------------------------------------------- decide
    def _decide(self, row: dict[str, Any]) -> tuple[str, str]:
        cfg = self.config
        acc, spent = row["accuracy"], row["money"]
        if not math.isnan(acc) and acc >= cfg.target_accuracy:
            return "target reached", (
                f"target {cfg.target_accuracy:.3f} reached: accuracy {acc:.3f} for "
                f"{spent:,.2f} ({row['items']} items, {row['answers']} answers)."
            )
        h = pd.DataFrame(self._state.history).dropna(subset=["accuracy"])
        h = h.drop_duplicates("items", keep="last")
        row["verdict"] = ""
        if len(h) >= cfg.min_forecast_rounds and h["items"].min() > 0:
            per_item = spent / max(row["items"], 1)
            # learning curves rise in expectation: the running maximum keeps one unlucky
            # round from bending the fit down (an optimistic curve: it stops no run early
            # that the measured points would not)
            best = np.maximum.accumulate(h["accuracy"].to_numpy())
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit = CurveFit(n_bootstrap=50, random_state=0).fit(h["items"].to_numpy(), best)
                req = fit.n_needed(cfg.target_accuracy)
            if req.reachable and req.n is not None:
                row["forecast_money"] = req.n * per_item
            row["forecast_low"] = req.low * per_item
            row["forecast_high"] = req.high * per_item
            if not math.isfinite(req.low) or req.low > self._n:
                # "the whole pool cannot get there" needs a curve over a good share of the
                # pool; from a few small early rounds it is noise, not evidence
                # and the same honest forecast as for the budget: the upper end of the
                # interval at the whole pool below the target, within max_extrapolation
                # (on LabelMe the curve fit alone called a pool short that was not)
                whole = self._forecast_at(h, float(self._n))
                if (row["items"] >= 0.25 * self._n and len(h) >= 6 and whole is not None
                        and whole.high < cfg.target_accuracy
                        and not self._still_rising_to(h, float(self._n))):  # fmt: skip
                    row["verdict"] = "unreachable"
            else:
                fc = self._forecast_budget(h, row)
                if (fc is not None and fc.high < cfg.target_accuracy
                        and not self._still_rising_to(h, row["budget_items"])):  # fmt: skip
                    row["verdict"] = "short"
            prev = (
                self._state.history[-2].get("verdict", "") if len(self._state.history) > 1 else ""
            )
            # a verdict must hold two rounds in a row before it stops the run
            if row["verdict"] == "unreachable" and prev == "unreachable":
                return "target unreachable", (
                    f"target {cfg.target_accuracy:.3f} is above what the whole pool of "
                    f"{self._n} items can reach by the learning curve ({req.reason} "
                    f"asymptote {req.asymptote:.3f}); lower the target or add data."
                )
            # the whole pool's verdict is not the first round of the budget's: on LabelMe
            # replay a pool verdict one round and a budget verdict the next stopped a run
            # that its own unlimited run shows reaching the target with the money
            if row["verdict"] == "short" and prev == "short":
                return "budget cannot reach target", (
                    f"the budget {cfg.budget:,.2f} cannot reach {cfg.target_accuracy:.3f}: it "
                    f"buys about {row['budget_items']:,.0f} items, where the learning curve "
                    f"forecasts {row['budget_accuracy']:.3f} (interval "
                    f"{row['budget_accuracy_low']:.3f} to {row['budget_accuracy_high']:.3f}); "
                    f"to reach the target it needs about {_fmt(row['forecast_money'])} "
                    f"(interval {_fmt(row['forecast_low'])} to {_fmt(row['forecast_high'])}); "
                    f"spent {spent:,.2f}, accuracy {acc:.3f}."
                )
        if cfg.budget - spent < self._oracle.max_cost:
            return "budget spent", f"budget spent ({spent:,.2f}); accuracy {acc:.3f}."
        if self._unlabeled().size == 0 and not self._state.audit:
            return "pool exhausted", f"every item is labeled; accuracy {acc:.3f}."
        return "continue", ""

    def _forecast_budget(self, h: pd.DataFrame, row: dict[str, Any]) -> AccuracyForecast | None:
        """The learning curve's accuracy (with interval) at the items the whole budget
        buys, at the price per new item of the last two rounds; None when that is
        further than ``max_extrapolation`` times the items measured."""
        cfg = self.config
        money, items = h["money"].to_numpy(), h["items"].to_numpy()
        back = min(2, len(h) - 1)
        d_items = items[-1] - items[-1 - back]
        per_item = (money[-1] - money[-1 - back]) / d_items if d_items > 0 else 0.0
        if per_item <= 0:
            per_item = money[-1] / max(items[-1], 1)
        n_budget = min(items[-1] + (cfg.budget - money[-1]) / per_item, float(self._n))
        row["budget_items"] = n_budget
        fc = self._forecast_at(h, n_budget)
        if fc is None:
            return None
        row["budget_accuracy"] = fc.accuracy
        row["budget_accuracy_low"], row["budget_accuracy_high"] = fc.low, fc.high
        return fc

    def _still_rising_to(self, h: pd.DataFrame, n: float) -> bool:
        """Whether the curve is still speeding up and its straight-line continuation in
        log items reaches the target at ``n`` (then no "cannot reach" verdict: the power
        law reads an acceleration as a ceiling; see
        :func:`~labelwise.engine.forecast.accelerating_line`)."""
        items = h["items"].to_numpy()
        recent = items >= items[-1] / 4
        line = accelerating_line(items[recent], h["accuracy"].to_numpy()[recent], n)
        return line is not None and line >= self.config.target_accuracy

    def _forecast_at(self, h: pd.DataFrame, n: float) -> AccuracyForecast | None:
        """The learning curve's accuracy at ``n`` items, or None when ``n`` is further than
        ``max_extrapolation`` times the items measured."""
        items = h["items"].to_numpy()
        # the curve from rounds with at least a quarter of the items: the first tiny
        # rounds (a cold start of a few items per class) are not on the power law
        recent = items >= items[-1] / 4
        if n > self.config.max_extrapolation * items[-1] or recent.sum() < 4:
            return None
        return forecast_accuracy(items[recent], h["accuracy"].to_numpy()[recent],
                                 max(n, items[-1]), n_test=self._yt.size,
                                 random_state=self.config.random_state)  # fmt: skip

    # ----------------------------------------------------------------- save
    def _labels_frame(self, items: IntArray, labels: IntArray, post: NDArray[Any]) -> pd.DataFrame:
        return pd.DataFrame({
            "item": items, "label": labels, "confidence": post.max(axis=1),
            "answers": self._ledger.answers_per_item(self._n)[items],
        })  # fmt: skip

    def _save(self, r: int, items: IntArray, labels: IntArray, weights: NDArray[Any],
              post: NDArray[Any]) -> None:  # fmt: skip
        self._labels = self._labels_frame(items, labels, post)
        if self._dir is None:
            return
        st = self._state
        self._version = self._write_version(r)
        state = {
            "round": r, "audit": st.audit, "history": st.history, "stop_reason": st.stop_reason,
            "message": st.message, "train_items": items.tolist(),
            "train_labels": labels.tolist(), "train_weights": weights.tolist(),
        }  # fmt: skip
        save_round(self._dir, r, state, self._ledger, self._proba, labels=self._labels,
                   history=pd.DataFrame(st.history), model=self._model())  # fmt: skip

    def _write_version(self, r: int) -> Path:
        """The round's dataset version (written before the round is committed)."""
        from labelwise.engine.versioning import write_round_version

        assert self._dir is not None
        cfg = self.config
        params = {
            "aggregator": cfg.aggregator, "model_prior": cfg.model_prior,
            "routing": cfg.routing, "overlap": cfg.overlap, "confidence": cfg.confidence,
            "max_answers": cfg.max_answers, "audit_threshold": cfg.audit_threshold,
            "oracle": self._oracle.kind,
        }  # fmt: skip
        return write_round_version(
            self._dir, r, self._labels, self._ledger, audit=self._state.audit,
            reasked=getattr(self, "_reasked", []),
            aggregation={"method": getattr(self, "_agg_used", cfg.aggregator), "params": params},
            decision=self._state.stop_reason, selected_by=self._selected_by(r),
            item_ids=self._names["items"],
            class_names=self._names["classes"],
        )  # fmt: skip

    def _selected_by(self, r: int) -> str:
        strategy = self.config.strategy
        if strategy == "random":
            return "a uniform random draw"
        if r == 1:
            return "a diverse k-means cold start"
        return f"{strategy} active learning"

    def _model(self) -> Any:
        return self._learner.estimator_ if self._learner.is_trained_ else None

    def _result(self) -> EngineResult:
        st = self._state
        labels = getattr(self, "_labels", None)
        if labels is None:
            labels = pd.DataFrame(columns=["item", "label", "confidence", "answers"])
        return EngineResult(
            history=pd.DataFrame(st.history), ledger=self._ledger, labels=labels,
            model=self._model(), stop_reason=st.stop_reason, oracle=self._oracle.kind,
            message=st.message, version=self._last_version(),
        )  # fmt: skip

    def _last_version(self) -> Path | None:
        from labelwise.engine.versioning import round_version_name

        if self._dir is None or self._state.round == 0:
            return None
        path = self._dir / "versions" / round_version_name(self._state.round)
        return path if (path / "manifest.json").is_file() else None


def _no_answers() -> OracleAnswers:
    e = np.zeros(0, dtype=np.int64)
    return OracleAnswers(e, e, e, np.zeros(0))


def _frame_answers(frame: pd.DataFrame) -> OracleAnswers:
    return OracleAnswers(*(frame[c].to_numpy(dtype=np.float64 if c == "cost" else np.int64)
                           for c in ("item", "worker", "label", "cost")))  # fmt: skip


def _concat_answers(a: OracleAnswers, b: OracleAnswers) -> OracleAnswers:
    if len(a) == 0:
        return b
    if len(b) == 0:
        return a
    return OracleAnswers(*(np.concatenate([getattr(a, f), getattr(b, f)])
                           for f in ("items", "workers", "labels", "costs")))  # fmt: skip


def _fmt(x: float) -> str:
    return "no bound" if not math.isfinite(x) else f"{x:,.2f}"
