"""Calibration of every aggregator on the real crowds, before and after tempering.

For each dense real crowd in ../shared/data/crowd/ and each aggregator: accuracy,
mean claimed confidence, expected calibration error (10 equal bins) and Brier score
against gold for

- ``raw``: the aggregator's own posterior (all answers, no gold);
- ``answers``: :class:`CalibratedAggregator` fitted without gold (temperature from
  held-out answers);
- ``gold (before)``: round 1's :class:`CalibratedAggregator` (``n_folds=2``,
  ``top_label=False``: a temperature and a floor) given half of the gold, scored on
  the other half (2-fold cross-fit, :func:`gold_calibration`), so no item is scored on
  its own known answer. The accuracy here is with half the gold anchoring the skills;
- ``gold (after)``: today's default (5-fold inner cross-fit, temperature, floor and the
  top-label logistic map), same 2-fold split of the gold;
- ``gold (after, 5 folds)``: the same, scored by a 5-fold cross-fit of the gold, so
  every gold item is scored once by a map fitted on the other 80%.

With ``--seeds N`` the gold rows are means over N random splits of the gold (``ECE
worst split``: the largest of the N), since one split's ECE moves by about as much as
the goal's margin.

``ECE floor`` is the ECE a perfectly calibrated posterior shows on the same items and
bins (:func:`ece_noise_floor`: labels drawn from the posterior's own confidence, 200
draws; mean and 95th percentile): the estimator's own noise at this sample size.

The accuracy column of today's Dawid-Skene (``DawidSkene raw``) is the reference of
the "no more than 0.5 points of accuracy lost" goal. crowd-kit's Dawid-Skene posterior
is scored beside it when crowd-kit is installed (``make bench-env``).

Run: .venv/bin/python benchmarks/calibration_aggregators.py [--sets rte,temp] [--seeds 3]
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
from labelwise.calibration import (
    calibration_report,
    ece_noise_floor,
    gold_cross_fit,
)
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


CALIBRATIONS = ("raw", "answers", "gold (before)", "gold (after)", "gold (after, 5 folds)")


def row(name, mname, cal, proba, truth):
    r = calibration_report(proba, truth)
    floor, floor95 = ece_noise_floor(proba[truth >= 0])
    return {"set": name, "aggregator": mname, "calibration": cal, "accuracy": r.accuracy,
            "claimed": r.confidence, "ECE": r.ece, "ECE floor": floor,
            "floor p95": floor95, "Brier": r.brier}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument(
        "--seeds", type=int, default=1,
        help="splits of the gold for the gold rows; ECE etc. are means over splits",
    )  # fmt: skip
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
            rows.append(row(name, "crowd-kit DawidSkene", "raw", ck, y))
        for model in (cls() for cls in classes):
            mname = type(model).__name__
            for cal in CALIBRATIONS:
                if cal == "raw":
                    proba, truth = model.fit(ann).proba_, y
                elif cal == "answers":
                    proba = CalibratedAggregator(model, method="answers").fit(ann).proba_
                    truth = y
                else:
                    kw = {"n_folds": 2, "top_label": False} if cal == "gold (before)" else {}
                    folds = 5 if cal == "gold (after, 5 folds)" else 2
                    agg = CalibratedAggregator(model, method="gold", **kw)
                    per_seed = pd.DataFrame(
                        row(name, mname, cal, *gold_cross_fit(agg, ann, y, n_folds=folds,
                                                              random_state=seed))
                        for seed in range(args.seeds)
                    )  # fmt: skip
                    r = {**per_seed.iloc[0].to_dict(), **per_seed.mean(numeric_only=True)}
                    rows.append({**r, "ECE worst split": per_seed["ECE"].max()})
                    print(f"{name} {mname} {cal}: acc {r['accuracy']:.4f} ECE {r['ECE']:.4f}"
                          f" (splits: {', '.join(f'{e:.4f}' for e in per_seed['ECE'])})",
                          flush=True)  # fmt: skip
                    continue
                rows.append(row(name, mname, cal, proba, truth))
                r = rows[-1]
                print(
                    f"{name} {mname} {cal}: acc {r['accuracy']:.4f} ECE {r['ECE']:.4f}", flush=True
                )
    table = pd.DataFrame(rows)
    if args.seeds == 1:
        table = table.drop(columns="ECE worst split")
    print_table(table, "Calibration of every aggregator against gold (before / after)")
    ds = table[(table.aggregator == "DawidSkene") & (table.calibration == "raw")].set_index("set")
    summary = []
    for (s, cal), g in table[table.aggregator != "crowd-kit DawidSkene"].groupby(
        ["set", "calibration"], sort=False
    ):
        summary.append({"set": s, "calibration": cal, "worst ECE": g["ECE"].max(),
                        **({"worst split": g["ECE worst split"].max()} if args.seeds > 1 else {}),
                        "ECE floor": g["ECE floor"].mean(), "mean Brier": g["Brier"].mean(),
                        "aggregators with ECE <= 0.03": f"{int((g['ECE'] <= 0.03).sum())}/{len(g)}",
                        "DS accuracy (raw)": ds.loc[s, "accuracy"],
                        "lowest accuracy": g["accuracy"].min()})  # fmt: skip
    print_table(pd.DataFrame(summary), "Goal check: ECE <= 0.03 for every aggregator")


if __name__ == "__main__":
    main()
