"""Calibration of every aggregator on the real crowds, before and after tempering.

For each dense real crowd in ../shared/data/crowd/ and each aggregator: accuracy,
mean claimed confidence, expected calibration error (10 equal bins) and Brier score
against gold for

- ``raw``: the aggregator's own posterior (all answers, no gold);
- ``answers``: :class:`CalibratedAggregator` fitted without gold (temperature from
  held-out answers);
- ``gold``: :class:`CalibratedAggregator` given half of the gold, scored on the
  other half (2-fold cross-fit, :func:`gold_calibration`), so no item is scored on
  its own known answer. The accuracy here is with half the gold anchoring the skills.

The accuracy column of today's Dawid-Skene (``DawidSkene raw``) is the reference of
the "no more than 0.5 points of accuracy lost" goal. crowd-kit's Dawid-Skene posterior
is scored beside it when crowd-kit is installed (``make bench-env``).

Run: .venv/bin/python benchmarks/calibration_aggregators.py [--sets rte,temp]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd

from _common import machine, print_table
from labelwise.aggregate import (
    GLAD,
    MACE,
    CalibratedAggregator,
    DawidSkene,
    MajorityVote,
    OneCoinDawidSkene,
    WeightedMajorityVote,
)
from labelwise.calibration import calibration_report, gold_calibration
from labelwise.datasets import load_crowd

SETS = ("rte", "temp", "wsd", "sentiment_polarity", "web", "labelme")


def crowdkit_proba(ann) -> np.ndarray | None:
    try:
        import crowdkit.aggregation as ck
    except ImportError:
        return None
    frame = pd.DataFrame({"task": ann.item, "worker": ann.worker, "label": ann.label})
    p = ck.DawidSkene(n_iter=100).fit(frame).probas_
    out = np.zeros((ann.n_items, ann.n_classes))
    out[p.index.to_numpy()] = p.reindex(columns=range(ann.n_classes), fill_value=0).to_numpy()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default=",".join(SETS))
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    print(f"machine: {machine()}")
    # a fresh estimator per set: a refitted one keeps the previous set's label codes
    # (BaseAggregator._finish only sets label_codes_ when absent; left to its owner)
    classes = (MajorityVote, WeightedMajorityVote, DawidSkene, OneCoinDawidSkene, GLAD, MACE)
    rows = []
    for name in args.sets.split(","):
        crowd = load_crowd(name)
        ann, y = crowd.annotations, crowd.truth.astype(np.int64)
        ck = crowdkit_proba(ann)
        if ck is not None:
            r = calibration_report(ck, y)
            rows.append({"set": name, "aggregator": "crowd-kit DawidSkene", "calibration": "raw",
                         "accuracy": r.accuracy, "claimed": r.confidence, "ECE": r.ece,
                         "Brier": r.brier})  # fmt: skip
        for model in (cls() for cls in classes):
            mname = type(model).__name__
            for cal in ("raw", "answers", "gold"):
                if cal == "raw":
                    r = calibration_report(model.fit(ann).proba_, y)
                elif cal == "answers":
                    fitted = CalibratedAggregator(model, method="answers").fit(ann)
                    r = calibration_report(fitted.proba_, y)
                else:
                    r = gold_calibration(
                        CalibratedAggregator(model, method="gold"), ann, y, random_state=0
                    )
                rows.append({"set": name, "aggregator": mname, "calibration": cal,
                             "accuracy": r.accuracy, "claimed": r.confidence, "ECE": r.ece,
                             "Brier": r.brier})  # fmt: skip
                print(f"{name} {mname} {cal}: acc {r.accuracy:.4f} ECE {r.ece:.4f}", flush=True)
    table = pd.DataFrame(rows)
    print_table(table, "Calibration of every aggregator against gold (before / after)")
    ds = table[(table.aggregator == "DawidSkene") & (table.calibration == "raw")].set_index("set")
    summary = []
    for (s, cal), g in table[table.aggregator != "crowd-kit DawidSkene"].groupby(
        ["set", "calibration"], sort=False
    ):
        summary.append({"set": s, "calibration": cal, "worst ECE": g["ECE"].max(),
                        "aggregators with ECE <= 0.03": f"{int((g['ECE'] <= 0.03).sum())}/{len(g)}",
                        "DS accuracy (raw)": ds.loc[s, "accuracy"],
                        "lowest accuracy": g["accuracy"].min()})  # fmt: skip
    print_table(pd.DataFrame(summary), "Goal check: ECE <= 0.03 for every aggregator")


if __name__ == "__main__":
    main()
