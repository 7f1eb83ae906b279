"""Report section: how much data, at what cost (learning curve, noise vs volume, budget)."""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from labelwise.report._blocks import Section, Table, Text, figure_from_matplotlib
from labelwise.scaling import (
    BudgetPlan,
    CurveFit,
    ExtrapolationWarning,
    LearningCurve,
    NoiseVolumeStudy,
    class_gains,
    learning_curve,
    noise_volume_study,
    plan_budget,
)

if TYPE_CHECKING:
    from labelwise.report.demo import DemoContext

__all__ = ["build_section", "plot_budget", "plot_learning_curve", "plot_noise_volume"]


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_learning_curve(curve: LearningCurve, fit: CurveFit, *, reach: float = 4.0) -> Any:
    """The measured curve (mean and range over seeds), the fit and its interval."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.8, 4))
    ax.errorbar(
        curve.sizes,
        curve.mean,
        yerr=curve.std,
        fmt="o",
        color="k",
        ms=4,
        label="measured (mean ± sd over seeds)",
    )
    grid = np.geomspace(curve.sizes.min(), curve.sizes.max() * reach, 120)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExtrapolationWarning)
        ax.plot(grid, fit.predict(grid), color="C0", label=f"fit ({fit.model_})")
    lo, hi = fit.predict_interval(grid)
    ax.fill_between(grid, lo, hi, color="C0", alpha=0.2, label=f"{fit.confidence:.0%} interval")
    ax.axvline(curve.sizes.max(), color="grey", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_xlabel("training labels")
    ax.set_ylabel(curve.metric)
    ax.set_title("Learning curve and extrapolation")
    ax.legend(fontsize=8, loc="lower right")
    return fig


def plot_noise_volume(study: NoiseVolumeStudy) -> Any:
    """Both effects on one axis (share of labels wrong or missing), and per-class drops."""
    plt = _plt()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    summ = study.summary()
    for i, (effect, grp) in enumerate(summ.groupby("effect", sort=False)):
        ax.errorbar(
            grp["share wrong or missing"],
            grp["accuracy"],
            yerr=grp["std"],
            marker="o",
            ms=4,
            label=effect,
            color=f"C{i}",
        )
    ax.set_xlabel("share of training labels wrong (noise) or missing (less data)")
    ax.set_ylabel("test accuracy")
    ax.set_title("Noise versus volume")
    ax.legend(fontsize=8)
    sens = study.sensitivity()
    x = np.arange(len(sens))
    cols = [c for c in sens.columns if c.startswith("drop")]
    width = 0.8 / len(cols)
    for j, c in enumerate(cols):
        ax2.bar(x + j * width, sens[c], width, label=c)
    ax2.set_xticks(x + 0.4 - width / 2, [str(c) for c in sens["class"]], rotation=40, ha="right")
    ax2.set_ylabel("per-class accuracy drop (points)")
    ax2.set_title("Which classes suffer")
    ax2.legend(fontsize=7)
    return fig


def plot_budget(plan: BudgetPlan) -> Any:
    """Expected model accuracy against money per strategy, with the Pareto frontier."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for i, (name, grp) in enumerate(plan.curves.groupby("strategy", sort=False)):
        ax.plot(grp["money"], grp["accuracy"], color=f"C{i}", label=str(name))
    ax.plot(
        plan.frontier["money"],
        plan.frontier["accuracy"],
        color="k",
        lw=2.5,
        alpha=0.3,
        label="Pareto frontier",
    )
    ax.axhline(plan.target, color="grey", ls="--", lw=0.8, label=f"target {plan.target:g}")
    ax.set_xscale("log")
    ax.set_xlabel(f"total money (at {plan.cost_per_label:g} per label)")
    ax.set_ylabel("expected model accuracy")
    ax.set_title("Budget frontier")
    ax.legend(fontsize=7, loc="lower right")
    return fig


def _estimator() -> Any:
    from sklearn.linear_model import LogisticRegression

    # tol 1e-3 converges on digits/16 in ~0.2 s a fit; the demo makes a hundred fits
    return LogisticRegression(max_iter=300, tol=1e-3)


def build_section(ctx: DemoContext) -> Section:
    """Learning curve with fit and interval, noise versus volume, and the budget plan."""
    if ctx.crowd.X is None:
        raise ValueError("the planning section needs item features (ctx.crowd.X).")
    X = ctx.crowd.X / 16.0
    y = ctx.crowd.truth
    fast = ctx.fast
    seed = ctx.random_state
    sizes = np.geomspace(0.02, 1.0, 5 if fast else 8)
    curve = learning_curve(_estimator(), X, y, sizes, seeds=2 if fast else 3, random_state=seed)
    fit = CurveFit(n_bootstrap=40 if fast else 200, random_state=seed).fit(curve)
    study = noise_volume_study(
        _estimator(),
        X,
        y,
        noise_levels=(0.0, 0.1, 0.3) if fast else (0.0, 0.05, 0.1, 0.2, 0.3),
        fractions=(1.0, 0.5, 0.2) if fast else (1.0, 0.5, 0.25, 0.1),
        repeats=1 if fast else 2,
        random_state=seed,
    )
    impact = study.impact()
    penalty = float(impact["points lost per 10% share"].iloc[1]) / 10.0
    ann = ctx.crowd.annotations
    crowd_acc = float((ann.label == ctx.crowd.truth[ann.item]).mean())
    # one point below today's accuracy: reachable with clean labels, a real question with
    # the crowd's noisy ones (which strategy gets there for the least money?)
    target = math.floor((float(curve.mean[-1]) - 0.01) * 200) / 200
    plan = plan_budget(
        fit,
        target=target,
        cost_per_label=0.04,
        annotator_accuracy=crowd_acc,
        n_classes=int(np.unique(y).shape[0]),
        noise_penalty=penalty,
        random_state=seed,
    )
    req = plan.requirement
    ctx.shared["planning_fit"] = fit
    ctx.shared["planning_plan"] = plan
    need = (
        f"{req.n:,.0f} clean labels (interval {req.low:,.0f} to "
        f"{'no bound' if math.isinf(req.high) else f'{req.high:,.0f}'})"
        if req.reachable and req.n is not None
        else "unreachable"
    )
    summary = (
        f"Accuracy {curve.mean[-1]:.1%} with {curve.sizes[-1]:,} labels; the {fit.model_} fit "
        f"levels off at {fit.asymptote_:.1%}. Target {target:.1%}: {need}. Cheapest strategy: "
        f"{plan.cheapest or 'none reaches it'}. A wrong label costs "
        f"{float(impact['vs missing'].iloc[1]):.1f}x as much accuracy as a missing one."
    )
    req_rows = pd.DataFrame(
        {
            "model": list(req.by_model),
            "labels needed": [math.nan if v is None else v for v in req.by_model.values()],
        }
    )
    return Section(
        key="planning",
        title="How much data, at what cost",
        summary=summary,
        blocks=(
            Text(
                "A classifier is trained on nested random subsets of the digits (the same "
                "seeds nest the subsets, so the curve shows the effect of more data), the "
                "error is fitted with A·n^-b + C and the other regressors of Mahmood et al. "
                "(2022), and the family that best predicts the held-out largest sizes from "
                "the smaller ones is used. The interval combines a bootstrap over seeds with "
                "the held-out extrapolation error, growing with the distance beyond the data."
            ),
            figure_from_matplotlib(
                plot_learning_curve(curve, fit),
                "The dotted line marks the "
                "largest measured size; beyond it the curve is extrapolated.",
            ),
            Table(fit.selection_, caption="Curve families: held-out extrapolation error"),
            Table(
                req_rows,
                caption=f"Labels needed for {target:.1%} by each plausible family"
                + (
                    f" (collect in rounds: {', '.join(f'{r:,}' for r in req.rounds)})"
                    if len(req.rounds)
                    else ""
                ),
                digits=0,
            ),
            Table(class_gains(curve), caption="Which classes still gain from more data"),
            Text(
                "Noise versus volume (after Prendki 2020): the same model trained with a "
                "share of labels flipped (uniformly, or along the classes the model itself "
                "confuses) or with a share of the training set left out."
            ),
            figure_from_matplotlib(
                plot_noise_volume(study),
                "Test accuracy as a share of training labels is flipped (uniformly or "
                "along the model's own confusions) or left out, and the accuracy lost per "
                f"class (the study trained its models in {study.seconds:.1f} s).",
            ),
            Table(impact, caption="Accuracy points lost per 10% of labels wrong or missing"),
            Table(
                study.sensitivity(),
                caption="Per-class sensitivity: baseline accuracy, drops "
                "in points, impact indexes in points per 10% wrong or missing",
                digits=2,
            ),
            Text(
                f"Budget: the crowd's single answers are {crowd_acc:.1%} accurate; redundancy "
                "and its label accuracy are simulated; each point of label error costs "
                f"{penalty:.2f} points of model accuracy (measured above); active learning is "
                f"assumed to need {plan.assumptions['active-learning share of items']:.0%} of "
                "the items."
            ),
            figure_from_matplotlib(
                plot_budget(plan),
                "Expected model accuracy against total money, one line per labeling "
                "strategy, the Pareto frontier in grey. Below the smallest measured "
                "training size the fitted curve is extrapolated and floored at chance.",
            ),
            Table(
                plan.strategies.drop(columns=["items low", "items high"]),
                caption="Money per strategy at 0.04 per label",
                digits=2,
            ),
        ),
    )
