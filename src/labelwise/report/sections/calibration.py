"""Report section: does each aggregator's confidence mean what it says?"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from labelwise.aggregate import CalibratedAggregator, make_aggregator
from labelwise.calibration import calibration_report, gold_calibration
from labelwise.report._blocks import Section, Table, Text, figure_from_matplotlib

if TYPE_CHECKING:
    from labelwise.report.demo import DemoContext

__all__ = ["build_section", "calibration_table"]


def calibration_table(
    annotations: Any, truth: np.ndarray, methods: tuple[str, ...] = ("mv", "ds", "onecoin")
) -> pd.DataFrame:
    """Per aggregator: accuracy, mean claimed confidence, ECE and Brier against the
    truth, raw and calibrated (temperature from held-out answers, no gold), and
    calibrated on half the gold scored on the other half."""
    rows = []
    for code in methods:
        model = make_aggregator(code)
        raw = calibration_report(model.fit(annotations).proba_, truth)
        ans = calibration_report(
            CalibratedAggregator(make_aggregator(code), method="answers").fit(annotations).proba_,
            truth,
        )
        gold = gold_calibration(
            CalibratedAggregator(make_aggregator(code), method="gold"),
            annotations,
            truth,
            random_state=0,
        )
        rows.append(
            {
                "method": type(model).__name__,
                "accuracy": raw.accuracy,
                "claimed (raw)": raw.confidence,
                "ECE raw": raw.ece,
                "ECE calibrated on answers": ans.ece,
                "ECE calibrated on gold": gold.ece,
                "Brier raw": raw.brier,
                "Brier on gold": gold.brier,
            }
        )
    return pd.DataFrame(rows)


def build_section(ctx: DemoContext) -> Section:
    """Reliability of the consensus posteriors: on the demo crowd and, where the shared
    data sets are present, on a real crowd (RTE)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ann, truth = ctx.crowd.annotations, ctx.crowd.truth.astype(np.int64)
    # each model is refitted 8 times here: the report keeps to the fast models
    table = calibration_table(ann, truth, ("mv", "ds") if ctx.fast else ("mv", "ds", "onecoin"))
    blocks: list[Any] = [
        Text(
            "A posterior of 0.99 should be right 99 times in 100. The expected calibration "
            "error (ECE) is the share-weighted gap between claimed confidence and accuracy "
            "over ten confidence bins; Brier is the mean squared distance to the truth. "
            "'Calibrated' tempers the answers' evidence (a temperature, and on gold also a "
            "floor: the share of items the crowd gets wrong however many agree), fitted "
            "without gold by predicting held-out answers or on half the gold and scored on "
            "the other half. On gold a logistic map of 'top label right' (the tempered "
            "confidence, the share of answers agreeing, their number and entropy) then sets "
            "each item's confidence without changing its label."
        ),
        Table(table, caption="Demo crowd (simulated, independent answers)"),
    ]
    real = None
    try:
        if ctx.fast:  # the tests' report: the demo crowd only
            raise LookupError
        from labelwise.datasets import load_crowd

        real = load_crowd("rte")
    except Exception:  # the shared data sets are optional
        real = None
    fig, ax = plt.subplots(figsize=(4.5, 4))
    if real is not None:
        y = real.truth.astype(np.int64)
        blocks.append(
            Table(
                calibration_table(real.annotations, y),
                caption="RTE (real crowd, 800 items, 10 answers each)",
            )
        )
        raw = calibration_report(make_aggregator("ds").fit(real.annotations).proba_, y)
        cal = gold_calibration(CalibratedAggregator(), real.annotations, y, random_state=0)
        for name, rep in (("Dawid-Skene", raw), ("calibrated on gold", cal)):
            keep = rep.table.count > 0
            ax.plot(rep.table.confidence[keep], rep.table.accuracy[keep], marker="o", label=name)
        ax.set_title("RTE: claimed vs real")
    else:
        rep = calibration_report(make_aggregator("ds").fit(ann).proba_, truth)
        keep = rep.table.count > 0
        ax.plot(rep.table.confidence[keep], rep.table.accuracy[keep], marker="o", label="DS")
        ax.set_title("Demo crowd: claimed vs real")
    ax.plot([0.5, 1], [0.5, 1], color="grey", lw=0.8, ls="--")
    ax.set_xlabel("claimed confidence")
    ax.set_ylabel("accuracy")
    ax.legend(fontsize=8)
    blocks.append(figure_from_matplotlib(fig, "The dashed line is a calibrated posterior."))
    worst = table.loc[table["ECE raw"].idxmax()]
    summary = (
        f"On the demo crowd the worst raw ECE is {worst['ECE raw']:.3f} ({worst['method']}); "
        f"calibrated on gold the worst is {table['ECE calibrated on gold'].max():.3f}."
    )
    return Section(key="calibration", title="Calibration", summary=summary, blocks=tuple(blocks))
