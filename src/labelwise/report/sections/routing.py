"""Report section: who labels what next (routing policies on a simulated crowd)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from labelwise.report._blocks import Section, Table, Text, figure_from_matplotlib
from labelwise.routing import (
    POLICIES,
    compare_policies,
    make_policy,
    reach_table,
    run_campaign,
)
from labelwise.simulate import TestBed, testbed_from_crowd

if TYPE_CHECKING:
    from labelwise.report.demo import DemoContext

__all__ = ["build_section", "plot_policy_curves"]


def plot_policy_curves(curves: pd.DataFrame, *, title: str = "") -> Any:
    """Label accuracy against annotations per item, one line per policy (median over
    seeds, on a common grid)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for i, (name, g) in enumerate(curves.groupby("policy", sort=False)):
        # up to where the shortest seed's campaign ended, so no point is extrapolated
        end = float(g.groupby("seed")["per_item"].max().min())
        grid = np.linspace(0, end, 150)
        runs = [np.interp(grid, s["per_item"], s["accuracy"]) for _, s in g.groupby("seed")]
        style = "--" if name == "fixed" else "-"
        ax.plot(grid, np.median(np.vstack(runs), axis=0), style, color=f"C{i}", label=str(name))
    for level in (0.95, 0.99):
        ax.axhline(level, color="grey", lw=0.7, ls=":")
    ax.set_xlabel("annotations per item")
    ax.set_ylabel("label accuracy against the truth")
    ax.set_ylim(max(0.0, float(curves["accuracy"].min()) - 0.02), 1.0)
    ax.set_title(title or "Routing policies: accuracy for the answers bought")
    ax.legend(fontsize=8, loc="lower right")
    return fig


def _pool_table(
    bed: TestBed, kinds: np.ndarray, worker_ids: np.ndarray, blocked: np.ndarray
) -> pd.DataFrame:
    """Simulated annotators by the kind of the real (demo) annotator they copy."""
    by_id = dict(zip(worker_ids.astype(str), kinds, strict=True))
    src = np.asarray([by_id[str(k).split(":", 1)[1]] for k in bed.pool.kinds], dtype=object)
    acc = bed.pool.accuracy()
    is_blocked = np.isin(np.arange(bed.pool.n_workers), blocked)
    rows = []
    for kind in pd.unique(src):
        m = src == kind
        rows.append(
            {
                "kind copied": kind,
                "annotators": int(m.sum()),
                "mean accuracy": float(acc[m].mean()),
                "blocked by the skill floor": int((m & is_blocked).sum()),
            }
        )
    return pd.DataFrame(rows).sort_values("mean accuracy", ascending=False)


def build_section(ctx: DemoContext) -> Section:
    """Curves of every routing policy on a pool fitted to the demo's crowd."""
    crowd = ctx.crowd
    seed = ctx.random_state
    bed = testbed_from_crowd(crowd, n_workers=crowd.annotations.n_workers, random_state=seed)
    if bed.X is not None:
        bed = TestBed(name=bed.name, truth=bed.truth, pool=bed.pool, X=bed.X / 16.0)
    seeds = (seed,) if ctx.fast else (seed, seed + 1, seed + 2)
    names = ("fixed", "dynamic", "eig", "model-eig") if ctx.fast else tuple(POLICIES)
    target, cap = 0.999, 12
    curves = compare_policies(bed, names, target=target, cap=cap, seeds=seeds)
    reach = reach_table(curves)
    ctx.shared["routing_curves"] = curves
    gold = np.random.default_rng([seed, 7]).choice(bed.n_items, size=36, replace=False)
    policy, agg = make_policy("gold", target=target, cap=cap, gold_items=gold,
                              gold_labels=bed.truth[gold])  # fmt: skip
    gold_run = run_campaign(bed.truth, bed.pool, policy, agg, random_state=seed)
    kinds = (
        crowd.worker_kind
        if crowd.worker_kind is not None
        else np.full(crowd.annotations.n_workers, "?")
    )
    pool_tab = _pool_table(bed, np.asarray(kinds), crowd.annotations.worker_ids, gold_run.blocked)

    r = reach.set_index("policy")
    fixed95 = float(r.loc["fixed", "to 0.95"])
    best = r["to 0.95"].drop("fixed").idxmin()
    ratio = float(r.loc[best, "to 0.95"]) / fixed95 if np.isfinite(fixed95) else float("nan")
    summary = (
        f"To reach 95% label accuracy fixed overlap with majority vote needs "
        f"{fixed95:.2f} answers per item, {best} {float(r.loc[best, 'to 0.95']):.2f} "
        f"({ratio:.2f}x); the skill floor blocked "
        f"{len(gold_run.blocked)} of {bed.pool.n_workers} annotators."
    )
    fig = plot_policy_curves(curves, title=f"Routing on the demo crowd ({bed.n_items:,} digits)")
    return Section(
        key="routing",
        title="Who labels what next",
        summary=summary,
        blocks=(
            Text(
                "A pool of simulated annotators fitted to the demo crowd (each copies a real "
                "annotator's Dawid-Skene confusion matrix, shrunk towards the crowd's and "
                "redrawn) labels the digits again, one request at a time, under each routing "
                f"policy. Adaptive policies finish an item when its posterior reaches {target:g} "
                f"(at most {cap} answers); fixed overlap asks {cap} and reads the majority. "
                f"Medians over {len(seeds)} seed(s)."
            ),
            figure_from_matplotlib(
                fig,
                "Label accuracy against annotations per item, all policies (fixed overlap dashed).",
            ),
            Table(reach, caption="Annotations per item to reach 95% and 99% label accuracy."),
            Table(
                pool_tab,
                caption="The simulated pool by the kind of demo annotator each one copies, "
                "and who the gold-question skill floor stopped.",
            ),
        ),
    )
