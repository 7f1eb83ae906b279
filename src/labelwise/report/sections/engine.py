"""Report section: the data engine against the common ways of buying labels."""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from labelwise.engine import DataEngine, EngineConfig, EngineResult, SimulatedCrowdOracle
from labelwise.report._blocks import Section, Table, Text, figure_from_matplotlib
from labelwise.simulate import make_pool

if TYPE_CHECKING:
    from labelwise.report.demo import DemoContext

__all__ = ["ARMS", "build_section", "plot_money_accuracy"]

_BASE = dict(model_prior=False, audit_threshold=0.0, confidence_weights=False, aggregator="mv")
#: The ways of buying labels compared (EngineConfig settings).
ARMS: dict[str, dict[str, Any]] = {
    "(a) random items, 3 answers, majority vote": dict(
        strategy="random", routing="fixed", overlap=3, **_BASE
    ),
    "(b) random items, 1 answer": dict(strategy="random", routing="fixed", overlap=1, **_BASE),
    "(c) active learning, 3 answers, majority vote": dict(
        strategy="margin", routing="fixed", overlap=3, **_BASE
    ),
    "(d) the engine": {},
}

COST = 0.04


def plot_money_accuracy(runs: dict[str, EngineResult], target: float) -> Any:
    """Held-out accuracy against money spent, one line per way of buying labels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for i, (name, res) in enumerate(runs.items()):
        h = res.history.dropna(subset=["accuracy"])
        ax.plot(h["money"], h["accuracy"], marker="o", ms=3, color=f"C{i}", label=name)
    ax.axhline(target, color="grey", ls="--", lw=0.8, label=f"target {target:.3f}")
    ax.set_xlabel(f"money spent (at {COST:g} per answer)")
    ax.set_ylabel("held-out model accuracy")
    ax.set_title("Accuracy against money")
    ax.legend(fontsize=7, loc="lower right")
    return fig


def build_section(ctx: DemoContext) -> Section:
    """Run the four ways of buying labels on the digits with a simulated crowd."""
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression

    if ctx.crowd.X is None:
        raise ValueError("the engine section needs item features (ctx.crowd.X).")
    X = ctx.crowd.X / 16.0
    y = ctx.crowd.truth.astype(np.int64)
    order = np.random.default_rng(ctx.random_state).permutation(len(y))
    n_test = len(y) // 4
    test, pool = order[:n_test], order[n_test:]
    est = LogisticRegression(max_iter=300, tol=1e-3)
    full = float((clone(est).fit(X[pool], y[pool]).predict(X[test]) == y[test]).mean())
    target = round(0.95 * full, 3)
    crowd = make_pool(40, 10, random_state=ctx.random_state, cost=COST,
                      proportions={"reliable": 0.6, "sloppy": 0.3, "spammer": 0.1})  # fmt: skip
    budget = (0.4 if ctx.fast else 0.8) * len(pool) * 3 * COST
    runs: dict[str, EngineResult] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, arm in ARMS.items():
            cfg = EngineConfig(
                budget=budget, target_accuracy=target, batch_size=20, growth=0.15,
                min_forecast_rounds=1000, random_state=ctx.random_state, **arm,
            )  # fmt: skip
            oracle = SimulatedCrowdOracle(y[pool], crowd)
            runs[name] = DataEngine(est, cfg).run(X[pool], oracle, X_test=X[test], y_test=y[test])
    rows = []
    for name, res in runs.items():
        money = res.money_to_reach(target)
        per_item = len(res.ledger) / max(res.ledger.n_items, 1)
        rows.append({"way of buying labels": name, "money to target": money,
                     "answers per item": per_item, "final accuracy": res.accuracy})  # fmt: skip
    table = pd.DataFrame(rows)
    ref = float(table["money to target"].iloc[0])
    table["vs (a)"] = table["money to target"] / ref
    eng = runs["(d) the engine"]
    ctx.shared["engine_runs"] = runs
    d = float(table["money to target"].iloc[-1])
    summary = (
        f"Target {target:.3f} (95% of the model's {full:.3f} with all clean labels): the engine "
        f"reached it for {d:.2f}, {d / ref:.2f}x the money of random items with three answers "
        f"and majority vote ({ref:.2f}); oracle: simulated crowd."
        if math.isfinite(d) and math.isfinite(ref)
        else f"Target {target:.3f}; money to reach it per way of buying labels below."
    )
    return Section(
        key="engine",
        title="The data engine: from an unlabeled pool to a trained model",
        summary=summary,
        blocks=(
            Text(
                "Each round the engine selects items by active learning, routes them with "
                "dynamic overlap (the model's prediction is the item prior: an item the model "
                "and a reliable answer agree on is done after one answer), aggregates with "
                "Dawid-Skene using the model's out-of-fold predictions as the per-item prior, "
                "retrains on the labels weighted by their confidence, sends items whose "
                "label the model strongly contradicts back for another answer, and re-fits "
                "the learning curve to decide whether the budget can reach the target. "
                "All four ways below run in the same loop with the same model, pool, "
                f"held-out set and simulated crowd ({crowd.n_workers} annotators: reliable, "
                "sloppy and spammers); every figure comes from that simulated crowd, which "
                "flatters all four compared with replaying real answers."
            ),
            figure_from_matplotlib(plot_money_accuracy(runs, target), "Money against accuracy."),
            Table(table, caption="Money to reach the target (linear between rounds)", digits=2),
            Table(eng.ledger.summary(), caption="The engine's ledger, per round", digits=2),
            Table(
                eng.history.drop(columns=["verdict"], errors="ignore"),
                caption="The engine's rounds: money, answers, items, held-out accuracy, "
                "forecast money to the target and the decision",
                digits=3,
            ),
        ),
    )
