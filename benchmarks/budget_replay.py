"""The budget planner's crowd figures against replaying real crowds.

``labelwise plan`` / ``plan_budget`` price each labeling strategy from a *simulated*
crowd of a given annotator accuracy (answers independent given the class): the label
accuracy of 3 and 5 answers per item with majority vote, and dynamic overlap's label
accuracy and answers per item at target 0.95 (``fixed_overlap_quality``,
``routed_overlap_quality``). Here each dense real crowd's own mean annotator accuracy
(against gold, weighted by answers) is fed to those functions, and the same strategies
are replayed on the real recorded answers (``ReplayOracle``, 5 seeds, means): what the
planner would have promised against what the real crowd gives. Dynamic overlap is
replayed twice: raw posterior (what the planner simulates) and with 5% gold questions
and the gold-checked stop rule (``calibrate="gold"``, gold items not scored).

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/budget_replay.py [--seeds 5] [--sets rte,temp]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd

from _common import machine, print_table
from labelwise.datasets import load_crowd
from labelwise.routing import DynamicOverlap, FixedOverlap, GoldQuestions, run_campaign
from labelwise.scaling.budget import fixed_overlap_quality, routed_overlap_quality
from labelwise.simulate import ReplayOracle

SETS = ("rte", "temp", "wsd", "sentiment_polarity", "web")
TARGET = 0.95


def replay(crowd, strategy: str, seed: int) -> tuple[float, float]:
    ann, truth = crowd.annotations, crowd.truth.astype(np.int64)
    cap = int(ann.annotations_per_item().max())
    scored = truth >= 0
    if strategy.startswith("fixed"):
        policy, agg, cal = FixedOverlap(int(strategy.split()[1])), "majority", "none"
    else:
        policy, agg, cal = DynamicOverlap(target=TARGET, cap=cap), "online", "none"
        if strategy.endswith("gold"):
            rng = np.random.default_rng([seed, 11])
            known = np.flatnonzero(truth >= 0)
            gold = rng.choice(known, size=max(5, round(0.05 * known.size)), replace=False)
            policy = GoldQuestions(policy, gold, truth[gold], skill_floor=0.0)
            cal = "gold"
            scored[gold] = False
    res = run_campaign(
        truth, ReplayOracle(ann, random_state=seed), policy, agg, calibrate=cal, random_state=seed
    )
    return (
        float(np.mean(res.labels[scored] == truth[scored])),
        float(res.answers_per_item[scored].mean()),
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--sets", default=",".join(SETS))
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    print(f"machine: {machine()}")
    rows = []
    for name in args.sets.split(","):
        crowd = load_crowd(name)
        ann, truth = crowd.annotations, crowd.truth.astype(np.int64)
        ok = truth[ann.item] >= 0
        acc = float(np.mean(ann.label[ok] == truth[ann.item[ok]]))
        k = ann.n_classes
        q_dyn, r_dyn = routed_overlap_quality(acc, k, target=TARGET, cap=9)
        planned = {
            "fixed 3": (fixed_overlap_quality(acc, k, 3), 3.0),
            "fixed 5": (fixed_overlap_quality(acc, k, 5), 5.0),
            "dynamic 0.95": (q_dyn, r_dyn),
            "dynamic 0.95 + 5% gold": (q_dyn, r_dyn),
        }
        for strategy, (q_plan, r_plan) in planned.items():
            runs = np.array([replay(crowd, strategy, s) for s in range(args.seeds)])
            rows.append(
                {
                    "set": name,
                    "annotator acc": acc,
                    "strategy": strategy,
                    "planned acc (sim)": q_plan,
                    "planned answers/item (sim)": r_plan,
                    "replayed acc": runs[:, 0].mean(),
                    "replayed answers/item": runs[:, 1].mean(),
                    "acc: planned - replayed (pts)": (q_plan - runs[:, 0].mean()) * 100,
                }
            )
            print(rows[-1], flush=True)
    print_table(pd.DataFrame(rows), "Budget planner (simulated crowd) against replayed real crowds")


if __name__ == "__main__":
    main()
