"""Annotator contributions: do they follow true skill, does the one-fit approximation
agree with exact leave-one-out, and does dropping the lowest-ranked annotators help?

Part 1 (simulated answers on real items): AG News training items with their real
labels as the truth, a crowd with known accuracies (uniform 0.35-0.95, three answers
per item) plus careless annotators answering at chance on many items; MiniLM
embeddings as features for the downstream measure (logistic regression trained on the
consensus, scored on held-out AG News test items).
Part 2 (real answers): the dense crowds rte, temp, web, sentiment_polarity; ranking
against each annotator's accuracy on gold, and the consensus accuracy after removing
the lowest-ranked annotators, against removing as many at random.

Run: OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/contrib_crowd.py
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from _common import machine, print_table
from labelwise.aggregate import OneCoinDawidSkene
from labelwise.annotations import Annotations
from labelwise.contrib import approximate_contributions, leave_one_out_contributions

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def simulated(seed: int, n_items: int, n_workers: int, careless: int, k: int, truth: np.ndarray):
    rng = np.random.default_rng(seed)
    acc = np.concatenate([rng.uniform(0.35, 0.95, n_workers), np.full(careless, 1.0 / k)])
    per_item = 3
    items = np.repeat(np.arange(n_items), per_item)
    workers = np.concatenate(
        [rng.choice(n_workers, per_item, replace=False) for _ in range(n_items)]
    )
    for c in range(careless):
        sel = np.flatnonzero(rng.random(n_items) < 0.3)
        items = np.concatenate([items, sel])
        workers = np.concatenate([workers, np.full(sel.shape[0], n_workers + c)])
    right = rng.random(items.shape[0]) < acc[workers]
    label = np.where(right, truth[items], (truth[items] + rng.integers(1, k, items.shape[0])) % k)
    ann = Annotations.from_codes(
        items, workers, label, n_items=n_items, n_workers=acc.shape[0], n_classes=k
    )
    return ann, acc


def part1(seeds: int, n_items: int, n_workers: int, downstream_seeds: int) -> None:
    train = pd.read_csv(DATA / "text" / "ag_news" / "train.csv")
    test = pd.read_csv(DATA / "text" / "ag_news" / "test.csv")
    classes = sorted(train["label"].unique())
    code = {c: j for j, c in enumerate(classes)}
    xtr = np.load(DATA / "text" / "ag_news" / "train.minilm.npy").astype(np.float32)
    xte = np.load(DATA / "text" / "ag_news" / "test.minilm.npy").astype(np.float32)
    rows = []
    for seed in range(seeds):
        rng = np.random.default_rng(100 + seed)
        pick = rng.choice(len(train), n_items, replace=False)
        hold_pick = rng.choice(len(test), 1000, replace=False)
        truth = train["label"].map(code).to_numpy()[pick]
        ann, acc = simulated(seed, n_items, n_workers, 5, len(classes), truth)
        t = time.perf_counter()
        approx = approximate_contributions(ann, gold=truth.astype(np.int32))
        t_approx = time.perf_counter() - t
        down = seed < downstream_seeds
        # the downstream measure trains on the crowd's items and scores held-out test items
        if down:
            n_hold = hold_pick.shape[0]
            ext = Annotations(
                item=ann.item,
                worker=ann.worker,
                label=ann.label,
                item_ids=np.arange(n_items + n_hold),
                worker_ids=ann.worker_ids,
                classes=ann.classes,
            )
            gold_ext = np.concatenate(
                [truth, test["label"].map(code).to_numpy()[hold_pick]]
            ).astype(np.int32)
            hold = np.zeros(n_items + n_hold, dtype=bool)
            hold[n_items:] = True
            feats = np.vstack([xtr[pick], xte[hold_pick]])
            t = time.perf_counter()
            loo = leave_one_out_contributions(
                ext,
                gold=gold_ext,
                features=feats,
                holdout=hold,
            )
            t_loo = time.perf_counter() - t
        else:
            t = time.perf_counter()
            loo = leave_one_out_contributions(ann, gold=truth.astype(np.int32))
            t_loo = time.perf_counter() - t
        m = approx.merge(loo.drop(columns="n_answers"), on="worker")
        m = m.set_index("worker").loc[np.arange(acc.shape[0])]
        rank = m["information"].rank()
        row = {
            "seed": seed,
            "annotators": acc.shape[0],
            "answers": ann.n_annotations,
            "Spearman(information, true acc)": spearmanr(m["information"], acc)[0],
            "Spearman(approx contribution, true acc)": spearmanr(m["contribution"], acc)[0],
            "Spearman(exact LOO, true acc)": spearmanr(m["loo_contribution"], acc)[0],
            "Spearman(approx, exact LOO)": spearmanr(m["contribution"], m["loo_contribution"])[0],
            f"careless: worst rank by information (of {acc.shape[0]})": rank.iloc[-5:].max(),
            "careless: mean answers / others'": m["n_answers"].iloc[-5:].mean()
            / m["n_answers"].iloc[:-5].mean(),
            "approx s": t_approx,
            "exact s": t_loo,
        }
        if down:
            row["Spearman(downstream delta, true acc)"] = spearmanr(m["downstream_delta"], acc)[0]
        rows.append(row)
    frame = pd.DataFrame(rows)
    print_table(frame, "Simulated crowd on AG News items (known accuracies)")
    print(
        f"mean Spearman(information, true accuracy) {frame.iloc[:, 3].mean():.3f}; "
        f"approx vs exact LOO {frame['Spearman(approx, exact LOO)'].mean():.3f}; "
        f"exact/approx time ratio {(frame['exact s'] / frame['approx s']).median():.0f}x"
    )
    # scale: thousands of annotators
    rng = np.random.default_rng(7)
    big_truth = rng.integers(0, 4, 200_000)
    big, _ = simulated(7, 200_000, 5000, 0, 4, big_truth)
    t = time.perf_counter()
    approximate_contributions(big, gold=big_truth.astype(np.int32))
    print(
        f"scale: approximate contributions of {big.n_workers:,} annotators over "
        f"{big.n_annotations:,} answers in {time.perf_counter() - t:.2f} s (one fit)"
    )


def part2(random_draws: int) -> None:
    rows = []
    for name in ("rte", "temp", "web", "sentiment_polarity"):
        ann = Annotations.read(DATA / "crowd" / name / "annotations.csv")
        gold = pd.read_csv(DATA / "crowd" / name / "gold.csv")
        gold = gold[gold["item"].isin(ann.item_ids)]
        g = ann.encode_gold(gold)
        approx = approximate_contributions(ann, gold=gold).set_index("worker")
        blind = approximate_contributions(ann).set_index("worker")  # no gold at all
        known = g[ann.item] >= 0
        n_gold = np.bincount(ann.worker[known], minlength=ann.n_workers)
        hits = np.bincount(
            ann.worker[known], weights=(ann.label == g[ann.item])[known], minlength=ann.n_workers
        )
        acc = pd.Series(hits / np.maximum(n_gold, 1), index=ann.worker_ids)
        enough = pd.Series(n_gold >= 10, index=ann.worker_ids)
        a = approx.loc[enough[enough].index]
        ga = acc[enough]
        per_answer = a["information"] / a["n_answers"]
        b = blind.loc[a.index]

        def consensus_acc(drop: set, ann: Annotations = ann, g: np.ndarray = g) -> float:
            keep = ~np.isin(ann.worker_ids[ann.worker], list(drop))
            model = OneCoinDawidSkene().fit(ann.subset(keep))
            sel = g >= 0
            return float((model.label_codes_[sel] == g[sel]).mean())

        base = consensus_acc(set())
        order = approx["information"].sort_values().index  # lowest first
        rng = np.random.default_rng(0)
        for share in (0.05, 0.10):
            n_drop = max(1, round(share * ann.n_workers))
            low = set(order[:n_drop])
            answers_dropped = int(approx.loc[list(low), "n_answers"].sum())
            rand = [
                consensus_acc(set(rng.choice(ann.worker_ids, n_drop, replace=False)))
                for _ in range(random_draws)
            ]
            rows.append(
                {
                    "set": name,
                    "annotators (>=10 gold)": f"{ann.n_workers} ({int(enough.sum())})",
                    "Spearman(information, gold acc)": spearmanr(a["information"], ga)[0],
                    "Spearman(information/answer, gold acc)": spearmanr(per_answer, ga)[0],
                    "Spearman(contribution, gold acc)": spearmanr(a["contribution"], ga)[0],
                    "no gold: Spearman(information/answer, gold acc)": spearmanr(
                        b["information"] / b["n_answers"], ga
                    )[0],
                    "removed": f"lowest {share:.0%} ({n_drop}, {answers_dropped} answers)",
                    "consensus acc all": base,
                    "after removing lowest": consensus_acc(low),
                    f"after removing random (mean of {random_draws})": float(np.mean(rand)),
                }
            )
    print_table(pd.DataFrame(rows), "Real dense crowds: ranking vs gold accuracy, removal")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--items", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=100)
    ap.add_argument("--downstream-seeds", type=int, default=1)
    ap.add_argument("--random-draws", type=int, default=10)
    args = ap.parse_args()
    print(f"machine: {machine()}")
    part1(args.seeds, args.items, args.workers, args.downstream_seeds)
    part2(args.random_draws)


if __name__ == "__main__":
    main()
