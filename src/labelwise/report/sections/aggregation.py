"""Report section: consensus methods against the known truth, and annotator quality."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from labelwise.aggregate import METHODS, BaseAggregator, make_aggregator
from labelwise.agreement import annotator_quality, fleiss_kappa, krippendorff_alpha
from labelwise.report._blocks import Section, Table, Text, figure_from_matplotlib

if TYPE_CHECKING:
    from labelwise.report.demo import DemoContext

__all__ = ["build_section", "method_accuracy_table"]

METHOD_NAMES = {
    "mv": "majority vote",
    "wmv": "weighted majority vote",
    "ds": "Dawid-Skene",
    "onecoin": "one-coin Dawid-Skene",
    "glad": "GLAD",
    "mace": "MACE",
    "calibrated": "calibrated Dawid-Skene",
}


def method_accuracy_table(ctx: DemoContext) -> tuple[pd.DataFrame, dict[str, BaseAggregator]]:
    """Accuracy of every aggregation method against the truth; also the fitted models."""
    ann, truth = ctx.crowd.annotations, ctx.crowd.truth
    known = truth >= 0
    rows, fitted = [], {}
    for name in METHODS:
        model = make_aggregator(name)
        model.fit(ann)
        fitted[name] = model
        codes = model.label_codes_
        rows.append(
            {
                "method": METHOD_NAMES[name],
                "code": name,
                "accuracy": float((codes[known] == truth[known]).mean()),
                "mean confidence": float(model.to_frame()["confidence"].mean()),
                "iterations": getattr(model, "n_iter_", 1),
            }
        )
    frame = pd.DataFrame(rows).sort_values("accuracy", ascending=False).reset_index(drop=True)
    return frame, fitted


def build_section(ctx: DemoContext) -> Section:
    """The first section of the report: which consensus method recovers the truth best."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ann = ctx.crowd.annotations
    table, fitted = method_accuracy_table(ctx)
    ctx.shared["aggregation_table"] = table
    ctx.shared["aggregators"] = fitted
    ds = fitted["ds"]
    quality = annotator_quality(ann, ds.label_codes_, min_items=10)
    true_acc = np.full(ann.n_workers, np.nan)
    truth = ctx.crowd.truth
    hits = np.bincount(ann.worker, weights=ann.label == truth[ann.item], minlength=ann.n_workers)
    true_acc = hits / np.maximum(ann.annotations_per_worker(), 1)
    by_id = pd.DataFrame(
        {
            "worker": ann.worker_ids,
            "kind": ctx.crowd.worker_kind if ctx.crowd.worker_kind is not None else "",
            "true accuracy": true_acc,
            "Dawid-Skene skill": ds.skill_,
        }
    )
    quality = quality.merge(by_id, on="worker", how="left")
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for kind, grp in by_id.groupby("kind"):
        ax.scatter(grp["true accuracy"], grp["Dawid-Skene skill"], label=str(kind), s=30)
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
    ax.set_xlabel("true accuracy (known truth)")
    ax.set_ylabel("estimated skill (Dawid-Skene)")
    ax.legend(fontsize=8)
    ax.set_title("Annotator skill: estimated vs true")
    best = table.iloc[0]
    mv_acc = float(table.loc[table["code"] == "mv", "accuracy"].iloc[0])
    summary = (
        f"{ann.n_items} items, {ann.n_workers} annotators, {ann.n_annotations} annotations. "
        f"Best method: {best['method']} at {best['accuracy']:.1%} accuracy against the truth, "
        f"majority vote {mv_acc:.1%}. Fleiss' kappa {fleiss_kappa(ann):.3f}, "
        f"Krippendorff's alpha {krippendorff_alpha(ann):.3f}."
    )
    cols = [
        "worker",
        "kind",
        "n_items",
        "agreement",
        "true accuracy",
        "Dawid-Skene skill",
        "scored",
        "note",
    ]
    return Section(
        key="aggregation",
        title="Crowd label aggregation",
        summary=summary,
        blocks=(
            Text(
                "Each method turns the crowd's disagreeing answers into one label per item. "
                "The simulated crowd mixes reliable and sloppy annotators with spammers, "
                "annotators who always give the same answer and an adversary, so the truth is "
                "known."
            ),
            Text(
                "How to read it: full Dawid-Skene learns K x K = "
                f"{ann.n_classes**2} numbers per annotator from about "
                f"{int(np.median(ann.annotations_per_worker()))} answers each, so with few "
                "answers per annotator the models with fewer parameters (one-coin, MACE, GLAD) "
                "can beat it; with more answers per annotator, or annotators who confuse "
                "specific classes, the full confusion matrices pay off."
            ),
            Table(
                table.drop(columns=["code"]),
                caption="Accuracy of each method against the known truth",
            ),
            figure_from_matplotlib(
                fig, "Each dot is an annotator; the dashed line is a perfect estimate."
            ),
            Table(
                quality[cols],
                caption="Annotator quality, worst first (agreement with the Dawid-Skene consensus)",
            ),
        ),
    )
