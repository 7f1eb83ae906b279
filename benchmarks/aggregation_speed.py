"""Dawid-Skene speed and peak memory: labelwise against crowd-kit, in one run.

    .bench-venv/bin/python benchmarks/aggregation_speed.py            # 1M annotations, both
    .venv/bin/python benchmarks/aggregation_speed.py --sizes 10000000 --no-peer

Synthetic crowd: items x 5 distinct annotators drawn from a pool of 1,000, 5 classes,
annotator accuracies uniform in [0.5, 0.95] with uniform errors. Both libraries start
from the same long DataFrame (item, worker, label); labelwise's time includes encoding
it into ``Annotations``.
"""

from __future__ import annotations

import argparse
import gc
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, peak_memory_mb, print_table, timed
from labelwise import Annotations, DawidSkene


def synthetic_crowd(
    n_annotations: int, *, per_item: int = 5, n_workers: int = 1000, k: int = 5, seed: int = 0
):
    """Return (DataFrame item, worker, label; true labels) with distinct workers per item."""
    rng = np.random.default_rng(seed)
    n_items = n_annotations // per_item
    truth = rng.integers(0, k, n_items)
    workers = rng.integers(0, n_workers, (n_items, per_item))
    # redraw rows that repeat a worker until every row is distinct
    while True:
        s = np.sort(workers, axis=1)
        bad = (s[:, 1:] == s[:, :-1]).any(axis=1)
        if not bad.any():
            break
        workers[bad] = rng.integers(0, n_workers, (int(bad.sum()), per_item))
    acc = rng.uniform(0.5, 0.95, n_workers)
    item = np.repeat(np.arange(n_items), per_item)
    worker = workers.ravel()
    right = rng.random(item.shape[0]) < acc[worker]
    wrong = (truth[item] + rng.integers(1, k, item.shape[0])) % k
    label = np.where(right, truth[item], wrong)
    frame = pd.DataFrame({"task": item, "worker": worker, "label": label})
    return frame, truth


def run_labelwise(frame: pd.DataFrame):
    ann = Annotations.from_frame(frame, item="task")
    model = DawidSkene().fit(ann)
    return pd.Series(model.labels_, index=model.items_), model.n_iter_


def run_crowdkit(frame: pd.DataFrame):
    from crowdkit.aggregation import DawidSkene as CKDawidSkene

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = CKDawidSkene(n_iter=100)
        labels = model.fit_predict(frame)
    return labels, len(getattr(model, "loss_history_", [])) or None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument(
        "--write", metavar="PATH", help="only write the synthetic crowd (item, worker, label) here"
    )
    args = parser.parse_args()
    if args.write:
        frame, _ = synthetic_crowd(args.sizes[0])
        frame = frame.rename(columns={"task": "item"})
        if args.write.endswith(".parquet"):
            frame.to_parquet(args.write, index=False)
        else:
            frame.to_csv(args.write, index=False)
        print(f"wrote {len(frame)} annotations to {args.write}")
        return
    rows = []
    for n in args.sizes:
        frame, truth = synthetic_crowd(n)
        gc.collect()
        (lw_labels, lw_iter), lw_t, lw_all = timed(lambda f=frame: run_labelwise(f), args.repeats)
        lw_acc = float((lw_labels.sort_index().to_numpy() == truth).mean())
        _, lw_mem = peak_memory_mb(lambda f=frame: run_labelwise(f))
        row = {
            "annotations": n,
            "labelwise s (median)": lw_t,
            "labelwise runs": ", ".join(f"{t:.2f}" for t in lw_all),
            "labelwise iters": lw_iter,
            "labelwise acc": lw_acc,
            "labelwise peak MiB": lw_mem,
        }
        if not args.no_peer:
            gc.collect()
            (ck_labels, ck_iter), ck_t, ck_all = timed(
                lambda f=frame: run_crowdkit(f), args.repeats
            )
            ck_acc = float((ck_labels.sort_index().to_numpy() == truth).mean())
            _, ck_mem = peak_memory_mb(lambda f=frame: run_crowdkit(f))
            row.update(
                {
                    "crowd-kit s (median)": ck_t,
                    "crowd-kit runs": ", ".join(f"{t:.2f}" for t in ck_all),
                    "crowd-kit iters": ck_iter,
                    "crowd-kit acc": ck_acc,
                    "crowd-kit peak MiB": ck_mem,
                    "speed-up (x)": ck_t / lw_t,
                    "memory ratio (x)": ck_mem / lw_mem,
                }
            )
        rows.append(row)
    print(f"machine: {machine()}")
    print_table(pd.DataFrame(rows), "Dawid-Skene: labelwise vs crowd-kit")


if __name__ == "__main__":
    main()
