"""The data engine on digits: resume after a kill, budget, perfect oracle, bad inputs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from labelwise.annotations import Annotations
from labelwise.engine import (
    BudgetError,
    DataEngine,
    EngineConfig,
    LabelArrayOracle,
    LabelingServiceOracle,
    OracleExhaustedError,
    ReplayedCrowdOracle,
    SimulatedCrowdOracle,
    TargetUnreachableError,
)
from labelwise.engine.journal import Journal, read_journal
from labelwise.engine.oracles import OracleAnswers
from labelwise.errors import InputError
from labelwise.simulate import make_pool


def _digits(n_pool: int = 600):
    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    X, y = X[order] / 16.0, y[order].astype(np.int64)
    return X[:n_pool], y[:n_pool], X[1400:], y[1400:]


X, Y, XT, YT = _digits()
POOL = make_pool(
    20, 10, random_state=0, proportions={"reliable": 0.7, "sloppy": 0.2, "spammer": 0.1}
)


def _engine(**kw):
    cfg = dict(budget=250.0, target_accuracy=0.99, batch_size=30, random_state=3)
    cfg.update(kw)
    return DataEngine(LogisticRegression(max_iter=300), EngineConfig(**cfg))


# ------------------------------------------------------------------ resume
KILL_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    import numpy as np
    sys.path.insert(0, {tests!r})
    import test_engine as t
    from labelwise.engine import SimulatedCrowdOracle

    class Dying(SimulatedCrowdOracle):
        calls = 0
        def ask(self, items, rng, blocked):
            Dying.calls += 1
            if Dying.calls == {kill_at}:  # mid-round: some answers of this round bought
                os.kill(os.getpid(), signal.SIGKILL)
            return super().ask(items, rng, blocked)

    t._engine().run(t.X, Dying(t.Y, t.POOL), X_test=t.XT, y_test=t.YT, directory={out!r})
    """
)


def test_resume_after_kill_mid_round_gives_the_same_ledger(tmp_path):
    straight = _engine().run(X, SimulatedCrowdOracle(Y, POOL), X_test=XT, y_test=YT)
    assert straight.ledger.round.max() >= 3
    out = tmp_path / "run"
    script = KILL_SCRIPT.format(tests=str(Path(__file__).parent), kill_at=9, out=str(out))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    saved = pd.read_csv(out / "ledger.csv")
    last = int((out / "LATEST").read_text())
    assert 1 <= last < straight.ledger.round.max()
    assert saved["round"].max() == last  # only complete rounds are on disk
    assert not list(out.glob(".staging-*")) or all(p.is_dir() for p in out.glob(".staging-*"))
    resumed = _engine().resume(out, X, SimulatedCrowdOracle(Y, POOL), X_test=XT, y_test=YT)
    pd.testing.assert_frame_equal(resumed.ledger.to_frame(), straight.ledger.to_frame())
    assert resumed.stop_reason == straight.stop_reason
    pd.testing.assert_frame_equal(pd.read_csv(out / "ledger.csv"), straight.ledger.to_frame())
    # nothing bought twice: no annotator answered an item twice
    frame = resumed.ledger.to_frame()
    assert not frame.duplicated(["item", "worker"]).any()


def test_resume_of_a_folder_without_a_run_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="no complete engine round"):
        _engine().resume(tmp_path, X, SimulatedCrowdOracle(Y, POOL), X_test=XT, y_test=YT)


def test_run_refuses_a_folder_that_holds_a_run(tmp_path):
    _engine(budget=40.0).run(X, SimulatedCrowdOracle(Y, POOL), X_test=XT, y_test=YT,
                             directory=tmp_path)  # fmt: skip
    with pytest.raises(InputError, match="already holds an engine run"):
        _engine().run(X, SimulatedCrowdOracle(Y, POOL), X_test=XT, y_test=YT, directory=tmp_path)


# ------------------------------------------------------------------ budget
@settings(max_examples=8, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(budget=st.floats(1.0, 120.0), spread=st.floats(0.0, 3.0), seed=st.integers(0, 50))
def test_budget_is_never_exceeded(budget, spread, seed):
    rng = np.random.default_rng(seed)
    pool = make_pool(12, 10, random_state=seed)
    costs = 0.5 + spread * rng.random(pool.n_workers)
    priced = type(pool)(pool.confusions, pool.kinds, pool.rates, costs)
    if budget < costs.max():
        with pytest.raises(BudgetError, match="below the price of one answer"):
            _engine(budget=budget).run(X, SimulatedCrowdOracle(Y, priced), X_test=XT, y_test=YT)
        return
    res = _engine(budget=budget, batch_size=10, random_state=seed, min_forecast_rounds=100).run(
        X, SimulatedCrowdOracle(Y, priced), X_test=XT, y_test=YT
    )
    assert res.ledger.spent <= budget + 1e-9
    assert res.history["money"].is_monotonic_increasing
    assert np.allclose(res.ledger.cost, costs[res.ledger.worker])


# -------------------------------------------------------------- perfect oracle
def test_perfect_oracle_with_dynamic_overlap_buys_one_answer_per_item():
    res = _engine(budget=200.0, target_accuracy=0.999, min_forecast_rounds=100).run(
        X, LabelArrayOracle(Y), X_test=XT, y_test=YT
    )
    per_item = res.ledger.answers_per_item(len(Y))
    labeled = per_item > 0
    assert labeled.sum() == 200 and res.ledger.spent == 200
    assert (per_item[labeled] == 1).all()
    lab = res.labels
    assert (lab["label"].to_numpy() == Y[lab["item"].to_numpy()]).all()
    assert res.stop_reason == "budget spent"


def test_engine_beats_common_practice_on_a_simulated_crowd():
    """Same pool, oracle, seed and money: the engine's model is more accurate than
    random items with three answers and majority vote (the common practice)."""
    common = dict(strategy="random", routing="fixed", overlap=3, aggregator="mv",
                  model_prior=False, audit_threshold=0.0, confidence_weights=False)  # fmt: skip
    acc_common = (
        _engine(budget=240.0, **common)
        .run(X, SimulatedCrowdOracle(Y, POOL), X_test=XT, y_test=YT)
        .accuracy
    )
    eng = _engine(budget=240.0).run(X, SimulatedCrowdOracle(Y, POOL), X_test=XT, y_test=YT)
    assert eng.accuracy > acc_common + 0.03
    per_item = eng.ledger.answers_per_item(len(Y))
    assert per_item[per_item > 0].mean() < 3.0  # dynamic overlap: fewer than fixed 3


# ------------------------------------------------------------------ replay
def test_replay_serves_only_recorded_answers_never_twice(crowd):
    ann, truth = crowd
    rng = np.random.default_rng(0)
    Xc = np.eye(ann.n_classes)[truth] + rng.normal(0, 0.8, (ann.n_items, ann.n_classes))
    split = ann.n_items * 3 // 4
    keep = ann.item < split
    sub = Annotations.from_codes(ann.item[keep], ann.worker[keep], ann.label[keep],
                                 n_items=split, n_workers=ann.n_workers,
                                 n_classes=ann.n_classes)  # fmt: skip
    res = _engine(budget=150.0, batch_size=20, target_accuracy=0.999).run(
        Xc[:split], ReplayedCrowdOracle(sub), X_test=Xc[split:], y_test=truth[split:]
    )
    got = res.ledger.to_frame()
    recorded = set(zip(sub.item.tolist(), sub.worker.tolist(), sub.label.tolist(), strict=True))
    assert set(zip(got["item"], got["worker"], got["label"], strict=True)) <= recorded
    assert not got.duplicated(["item", "worker"]).any()
    assert res.oracle == "replay" and 0 < res.money <= 150


# -------------------------------------------------------------- bad inputs
def test_oracle_without_answers_for_selected_items_is_a_clear_error(crowd):
    ann, truth = crowd
    keep = ann.item % 2 == 0  # odd items have no recorded answer
    sub = ann.subset(keep)
    Xc = np.eye(ann.n_classes)[truth] + np.random.default_rng(0).normal(0, 1, (ann.n_items, 4))
    with pytest.raises(OracleExhaustedError, match=r"replay oracle has no answer for selected"):
        _engine(batch_size=20).run(Xc, ReplayedCrowdOracle(sub), X_test=Xc, y_test=truth)


def test_target_above_what_the_full_data_reaches_is_a_clear_error():
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(240, 8))  # features that say nothing about the label
    with pytest.raises(TargetUnreachableError, match="above what the whole pool") as info:
        _engine(budget=2000.0, target_accuracy=0.9, batch_size=15).run(
            noise, LabelArrayOracle(Y[:240]), X_test=rng.normal(size=(200, 8)), y_test=YT[:200]
        )
    assert info.value.result.money < 2000.0 / 2


@pytest.mark.parametrize("budget", [-1.0, float("nan"), float("inf")])
def test_bad_budget_is_a_clear_error(budget):
    with pytest.raises(BudgetError, match="budget"):
        _engine(budget=budget).run(X, LabelArrayOracle(Y), X_test=XT, y_test=YT)


def test_mismatched_inputs_are_clear_errors():
    with pytest.raises(InputError, match="answers for 599 items; X has 600"):
        _engine().run(X, LabelArrayOracle(Y[:-1]), X_test=XT, y_test=YT)
    with pytest.raises(InputError, match="y_test"):
        _engine().run(X, LabelArrayOracle(Y), X_test=XT, y_test=YT[:-1])
    with pytest.raises(InputError, match="Oracle"):
        _engine().run(X, Y, X_test=XT, y_test=YT)  # type: ignore[arg-type]


def test_labeling_service_answers_are_checked_before_paying():
    class Client:
        def request_answers(self, items):
            return [(i, 0, int(Y[i]), 0.5) for i in items] + [(items[0], 0, 1, 0.5)]

    orc = LabelingServiceOracle(Client(), n_items=len(Y), n_workers=3, n_classes=10, max_cost=1.0)
    with pytest.raises(InputError, match="out of range|twice"):
        _engine().run(X, orc, X_test=XT, y_test=YT)

    class Honest:  # the service never gives an item to the same annotator twice
        def __init__(self) -> None:
            self.seen: dict[int, int] = {}

        def request_answers(self, items):
            out = []
            for i in items:
                n = self.seen.get(i, 0)
                if n < 3:
                    out.append((i, n, int(Y[i]), 0.5))
                    self.seen[i] = n + 1
            return out

    orc = LabelingServiceOracle(Honest(), n_items=len(Y), n_workers=3, n_classes=10, max_cost=1.0)
    res = _engine(budget=30.0).run(X, orc, X_test=XT, y_test=YT)
    assert res.oracle == "labeling service" and res.money <= 30.0


def test_files_of_a_run(tmp_path):
    res = _engine(budget=60.0).run(X, SimulatedCrowdOracle(Y, POOL), X_test=XT, y_test=YT,
                                   directory=tmp_path)  # fmt: skip
    for name in ("config.json", "ledger.csv", "labels.csv", "history.csv", "model.pkl", "LATEST"):
        assert (tmp_path / name).exists(), name
    hist = pd.read_csv(tmp_path / "history.csv")
    assert hist["money"].iloc[-1] == pytest.approx(res.money)
    assert os.stat(tmp_path / "ledger.csv").st_mode & 0o644 == 0o644
    summary = res.ledger.summary()
    assert summary["total_money"].iloc[-1] == pytest.approx(res.money)
    assert summary["new_items"].sum() == res.ledger.n_items


# ------------------------------------------------------- nothing paid twice
class _Killed(BaseException):
    """Stands for a kill: nothing in the engine catches it."""


class _Service:
    """A labeling service that remembers whom it paid: annotator ``n`` gives an item's
    ``n``-th answer (right except for every fifth), at 0.5 + 0.1 * annotator."""

    def __init__(self) -> None:
        self.paid: list[tuple[int, int, float]] = []
        self.seen: dict[int, int] = {}
        self.kill_at: int | None = None
        self.calls = 0

    def request_answers(self, items):
        self.calls += 1
        if self.calls == self.kill_at:
            raise _Killed
        out = []
        for i in items:
            n = self.seen.get(i, 0)
            if n < 4:
                label = int(Y[i]) if (i + n) % 5 else (int(Y[i]) + 1) % 10
                out.append((i, n, label, 0.5 + 0.1 * n))
                self.paid.append((i, n, 0.5 + 0.1 * n))
                self.seen[i] = n + 1
        return out


def _service_oracle(service):
    return LabelingServiceOracle(service, n_items=len(Y), n_workers=4, n_classes=10,
                                 max_cost=1.0)  # fmt: skip


def test_resume_after_a_kill_pays_no_answer_twice(tmp_path):
    """Each answer is journaled as it is bought; a resumed run reuses the answers its
    interrupted round already paid for, so the service is paid once per answer (killed
    inside the first round, before any round is saved, and inside a later round)."""
    eng = dict(
        budget=90.0, batch_size=20, routing="dynamic", confidence=0.95, min_forecast_rounds=100
    )
    straight = _engine(**eng).run(X, _service_oracle(_Service()), X_test=XT, y_test=YT,
                                  directory=tmp_path / "straight")  # fmt: skip
    journal = read_journal(tmp_path / "straight" / "journal.csv")
    pd.testing.assert_frame_equal(journal.drop(columns="wave"), straight.ledger.to_frame())
    calls = journal.drop_duplicates(["round", "wave"]).reset_index(drop=True)
    for kill_round in (1, 2):
        mid = calls.index[(calls["round"] == kill_round) & (calls["wave"] == 1)]
        assert len(mid) == 1  # the round asks more than once: a kill can land inside it
        service = _Service()
        service.kill_at = int(mid[0]) + 1
        out = tmp_path / f"killed-in-{kill_round}"
        with pytest.raises(_Killed):
            _engine(**eng).run(X, _service_oracle(service), X_test=XT, y_test=YT, directory=out)
        saved = len(pd.read_csv(out / "ledger.csv")) if (out / "ledger.csv").exists() else 0
        assert len(service.paid) > saved  # the killed round had bought answers already
        service.kill_at = None
        resumed = _engine(**eng).resume(out, X, _service_oracle(service), X_test=XT, y_test=YT)
        pd.testing.assert_frame_equal(resumed.ledger.to_frame(), straight.ledger.to_frame())
        paid = pd.DataFrame(service.paid, columns=["item", "worker", "cost"])
        assert not paid.duplicated(["item", "worker"]).any()  # no answer paid twice
        assert len(paid) == len(resumed.ledger)
        assert paid["cost"].sum() == pytest.approx(resumed.money)
        assert resumed.money <= eng["budget"]
        pd.testing.assert_frame_equal(read_journal(out / "journal.csv"), journal)


def test_journal_ignores_a_line_cut_by_a_kill_and_refuses_other_files(tmp_path):
    path = tmp_path / "journal.csv"
    j = Journal(path)
    j.append(2, 0, OracleAnswers(np.array([4, 7]), np.array([1, 0]), np.array([3, 3]),
                                 np.array([0.1, 0.25])))  # fmt: skip
    with open(path, "a") as fh:
        fh.write("2,1,9,")  # the kill came while this line was written
    got = read_journal(path)
    assert got["item"].tolist() == [4, 7] and got["cost"].tolist() == [0.1, 0.25]
    path.write_text("round,wave,item,worker,label,cost\n1,0,x,1,2,0.5\n")
    with pytest.raises(InputError, match="line 2 is not an answer"):
        read_journal(path)


# ----------------------------------------------------------------- routing
@pytest.mark.parametrize(("disagreement", "reasked"), [(0.15, [2]), (0.05, [1, 2])])
def test_disagreement_routing_reasks_only_where_model_and_answer_nearly_cancel(
    disagreement, reasked
):
    """One answer (80% accurate) says class 0 for every item; the model says class 0 with
    0.9, 0.4, 0.25, 0.05. Posteriors: 0.97, 0.73, 0.57 and 0.83 for class 1 (the model
    overrules). At the default 0.15 only the item the model pulls to 0.57 is re-asked;
    at 0.05 the mild doubt (0.73) buys a second answer too."""
    from labelwise.routing import CampaignState, DynamicOverlap

    conf = np.array([[[0.8, 0.2], [0.2, 0.8]]] * 3)
    state = CampaignState(4, 3, 2, max_answers=5, known_confusions=conf, random_state=0)
    policy = DynamicOverlap(target=0.9, cap=5, min_answers=1)
    policy.bind(state)
    state.record(np.arange(4), np.zeros(4, dtype=np.int64), np.zeros(4, dtype=np.int64))
    p0 = np.array([0.9, 0.4, 0.25, 0.05])
    state.set_item_log_prior(np.log(np.stack([p0, 1 - p0], axis=1)))
    np.testing.assert_allclose(state.confidence, [0.973, 0.727, 0.571, 0.826], atol=1e-3)
    eng = _engine(disagreement=disagreement)
    assert np.flatnonzero(eng._is_open(state, policy)).tolist() == reasked
    assert EngineConfig(budget=1, target_accuracy=0.9).disagreement == 0.15
