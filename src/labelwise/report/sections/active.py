"""Report section: what to label next (active learning curves against random sampling)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from labelwise.active import ActiveLearner
from labelwise.report._blocks import Section, Table, Text, figure_from_matplotlib

if TYPE_CHECKING:
    from labelwise.report.demo import DemoContext

__all__ = ["active_curves", "build_section", "plot_active_curves"]

#: (label, strategy, batch mode) compared in the section
ARMS = (
    ("random", "random", "topk"),
    ("margin", "margin", "topk"),
    ("entropy", "entropy", "topk"),
    ("margin, diverse batches", "margin", "diverse"),
    ("BADGE", "badge", "topk"),
    ("margin + self-training (default)", "margin", "topk"),
)
#: The arm that keeps ActiveLearner's default self-training; the others run without it
DEFAULT_ARM = "margin + self-training (default)"


def _estimator() -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000)


def active_curves(
    X: np.ndarray,
    y: np.ndarray,
    *,
    arms: tuple[tuple[str, str, str], ...] = ARMS,
    seeds: int = 3,
    start: int = 20,
    batch_size: int = 10,
    budget: int = 200,
    random_state: int = 0,
) -> tuple[pd.DataFrame, float]:
    """Learning curves of each arm: a long table ``arm, seed, labels, accuracy``.

    Each seed draws its own 70/30 pool/test split and ``start`` random labels shared by
    every arm. Also returns the test accuracy of the model trained on the whole pool
    (mean over seeds).
    """
    from sklearn.model_selection import train_test_split
    from threadpoolctl import threadpool_limits

    rows, full = [], []
    # many small lbfgs fits: one BLAS thread is much faster than several fighting
    with threadpool_limits(1):
        for seed in range(seeds):
            s = random_state + seed
            Xp, Xt, yp, yt = train_test_split(X, y, test_size=0.3, random_state=s, stratify=y)
            full.append(float((_estimator().fit(Xp, yp).predict(Xt) == yt).mean()))
            y0 = np.full(len(yp), -1)
            first = np.random.default_rng(s).choice(len(yp), size=start, replace=False)
            y0[first] = yp[first]
            for label, strategy, batch in arms:
                al = ActiveLearner(
                    _estimator(),
                    strategy,
                    batch_size,
                    batch=batch,
                    self_training="auto" if label == DEFAULT_ARM else None,
                    random_state=s,
                ).fit(Xp, y0)
                run = al.run(yp, budget, X_test=Xt, y_test=yt)
                rows.append(
                    pd.DataFrame(
                        {
                            "arm": label,
                            "seed": seed,
                            "labels": run.n_labels,
                            "accuracy": run.accuracy,
                        }
                    )
                )
    return pd.concat(rows, ignore_index=True), float(np.mean(full))


def _labels_to(curves: pd.DataFrame, target: float) -> pd.DataFrame:
    out = []
    for (arm, seed), grp in curves.groupby(["arm", "seed"], sort=False):
        hit = grp["labels"][grp["accuracy"] >= target]
        out.append({"arm": arm, "seed": seed, "n": float(hit.iloc[0]) if len(hit) else np.nan})
    per = pd.DataFrame(out).groupby("arm", sort=False)["n"].agg(["median", "count"])
    return per


def plot_active_curves(curves: pd.DataFrame, target: float) -> Any:
    """Mean test accuracy against labels bought, one line per arm, the target dotted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4))
    for i, (arm, grp) in enumerate(curves.groupby("arm", sort=False)):
        mean = grp.groupby("labels")["accuracy"].mean()
        style = "--" if arm == "random" else "-"
        ax.plot(
            mean.index,
            mean.to_numpy(),
            style,
            color="k" if arm == "random" else f"C{i}",
            label=arm,
            lw=1.6,
        )
    ax.axhline(target, color="grey", lw=0.8, ls=":", label="95% of full-data accuracy")
    ax.set_xlabel("labeled items")
    ax.set_ylabel("test accuracy")
    ax.set_title("Active learning on digits (LogisticRegression)")
    ax.legend(fontsize=8, loc="lower right")
    return fig


def build_section(ctx: DemoContext) -> Section:
    """Learning curves of several strategies against random on the demo's digits."""
    if ctx.crowd.X is None:
        raise ValueError("the active-learning section needs item features (ctx.crowd.X).")
    X = np.asarray(ctx.crowd.X, dtype=np.float64) / 16.0
    y = np.asarray(ctx.crowd.truth)
    keep = y >= 0
    X, y = X[keep], y[keep]
    fast = ctx.fast
    arms = ARMS[:3] if fast else ARMS
    seeds, budget = (1, 80) if fast else (3, 200)
    curves, full = active_curves(
        X, y, arms=arms, seeds=seeds, budget=budget, random_state=ctx.random_state
    )
    target = 0.95 * full
    per = _labels_to(curves, target)
    rnd = per.loc["random", "median"]
    table = pd.DataFrame(
        {
            "strategy": per.index,
            "labels to reach target (median)": per["median"].to_numpy(),
            "ratio to random": (per["median"] / rnd).to_numpy() if np.isfinite(rnd) else np.nan,
            f"accuracy at {20 + budget} labels": [
                float(
                    curves[
                        (curves.arm == a) & (curves.labels == curves.labels.max())
                    ].accuracy.mean()
                )
                for a in per.index
            ],
        }
    )
    ctx.shared["active_curves"] = curves
    best = table.iloc[1:]["ratio to random"].min() if len(table) > 1 else np.nan
    summary = (
        f"The best strategy reached {target:.3f} test accuracy (95% of the full-data "
        f"{full:.3f}) with {best:.2f}x the labels random sampling needed."
        if np.isfinite(best)
        else f"Target {target:.3f} (95% of the full-data {full:.3f}) not reached by random "
        f"sampling within {20 + budget} labels."
    )
    text = (
        f"Each curve starts from the same {20} random labels and buys {10} at a time, "
        f"choosing by the strategy's score; {seeds} seed(s), each with its own 70/30 pool/test "
        "split. Margin asks for items whose two likeliest classes are close; entropy for "
        "the flattest predictions; diverse batches cluster the ten-times-larger top set and "
        "take the best item of each cluster; BADGE spreads the batch over gradient "
        "embeddings. The same loop runs over millions of items with SEALS candidate pools "
        "(labelwise select --seals-k)."
    )
    return Section(
        key="active",
        title="What to label next: active learning",
        summary=summary,
        blocks=(
            Text(text),
            figure_from_matplotlib(
                plot_active_curves(curves, target),
                "Mean test accuracy per labels bought; the dotted line is the target.",
            ),
            Table(table, caption=f"Labels needed to reach {target:.3f} test accuracy"),
        ),
    )
