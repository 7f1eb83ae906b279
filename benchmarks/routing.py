"""Routing policies: annotations per item to reach 95% and 99% label accuracy, and speed.

Test beds: the 5-class 2-D toy bed (2,000 items, 50 annotators, 10% spammers) and a
pool fitted to each real crowd data set in ../shared/data/crowd/ (Dawid-Skene
confusion matrices of the real annotators, shrunk and resampled to 100 annotators;
2,000 items drawn from the gold class distribution; and, where the set ships images,
its real items with their gold labels and crude pixel features for the model-assisted
policies). Every policy runs 5 seeds;
the table gives the median annotations per item at which the label accuracy (against
the truth) first reaches 95% / 99%, the min-max spread, and the ratio to fixed
overlap with majority vote (the baseline as practised: k answers per item, served
breadth-first, so its curve is majority vote at overlap 1, 2, ... k). There is no
peer library with routing policies to run beside it; the baseline is the peer.

Speed: one campaign of 100,000 items and 1,000 simulated annotators (toy bed pool)
run until the labels are 99% accurate, dynamic overlap and information gain.

Run: .venv/bin/python benchmarks/routing.py [--seeds 5] [--skip-speed]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from _common import machine, print_table
from labelwise.datasets import load_crowd, shared_data_dir
from labelwise.routing import (
    POLICIES,
    DynamicOverlap,
    InformationGain,
    compare_policies,
    reach_table,
    run_campaign,
)
from labelwise.simulate import TestBed, make_toy_testbed, testbed_from_crowd

# (posterior target, cap): the fitted pools share the real crowd's systematic
# confusions, so they need a stricter target and a higher cap to reach 99%
SETTINGS = {"toy5": (0.999, 15)}
FITTED = (0.9995, 25)


def _with_ratios(reach: pd.DataFrame) -> pd.DataFrame:
    out = reach.copy()
    base = out.set_index("policy").loc["fixed"]
    for acc in ("0.95", "0.99"):
        col = f"to {acc}"
        out[f"ratio {acc} vs fixed"] = out[col] / base[col]
    cols = ["policy", "to 0.95", "spread 0.95", "ratio 0.95 vs fixed", "to 0.99",
            "spread 0.99", "ratio 0.99 vs fixed", "final acc", "final per item"]  # fmt: skip
    return out[cols]


def pixel_features(name: str, item_ids: np.ndarray) -> np.ndarray | None:
    """Crude image features for a crowd set that ships images (``images_64.npz``): the
    image averaged down to 8 x 8 x 3 plus an 8-bin histogram per colour channel,
    rows in ``item_ids`` order. None when the set has no images."""
    path = shared_data_dir() / "crowd" / name / "images_64.npz"
    if not path.exists():
        return None
    z = np.load(path, allow_pickle=True)
    row = {str(v): i for i, v in enumerate(z["item"])}
    imgs = z["images"][[row[str(v)] for v in item_ids]].astype(np.float32) / 255
    n = imgs.shape[0]
    small = imgs.reshape(n, 8, 8, 8, 8, 3).mean(axis=(2, 4)).reshape(n, -1)
    hist = np.stack([
        np.stack([np.histogram(im[..., c], bins=8, range=(0, 1))[0] for c in range(3)])
        for im in imgs
    ]).reshape(n, -1) / (64 * 64)  # fmt: skip
    return np.hstack([small, hist]).astype(np.float64)


def quality(seeds: int) -> None:
    beds = [make_toy_testbed(2000, 50, random_state=0)]
    for d in sorted(p.name for p in (shared_data_dir() / "crowd").iterdir() if p.is_dir()):
        crowd = load_crowd(d)
        beds.append(testbed_from_crowd(crowd, n_items=2000, n_workers=100, random_state=0))
        X = pixel_features(d, crowd.annotations.item_ids)
        if X is not None:
            # the real items with their gold labels, and features for the model
            real = testbed_from_crowd(crowd, n_workers=100, random_state=0)
            known = crowd.truth >= 0
            beds.append(TestBed(f"{d}-real-items+pixels", real.truth, real.pool, X[known]))
    for bed in beds:
        target, cap = SETTINGS.get(bed.name, FITTED)
        start = time.perf_counter()
        curves = compare_policies(bed, tuple(POLICIES), target=target, cap=cap,
                                  seeds=tuple(range(seeds)))  # fmt: skip
        took = time.perf_counter() - start
        print_table(
            _with_ratios(reach_table(curves)),
            f"{bed.name}: {bed.n_items} items, {bed.pool.n_workers} annotators, "
            f"{bed.pool.n_classes} classes, {seeds} seeds, target {target}, cap {cap} "
            f"({took:.0f} s)",
        )


def known_skills(seeds: int) -> None:
    """Liao's comparison on the toy bed: information gain (BALD) against greedy
    (uncertainty) and random assignment, with skills estimated or known from the start."""
    bed = make_toy_testbed(2000, 50, random_state=0)
    target, cap = SETTINGS["toy5"]
    rows = []
    for known in (False, True):
        curves = compare_policies(bed, ("random", "uncertainty", "eig"), target=target, cap=cap,
                                  seeds=tuple(range(seeds)), known_skills=known)  # fmt: skip
        reach = reach_table(curves)
        reach.insert(1, "skills", "known" if known else "estimated")
        rows.append(reach[["policy", "skills", "to 0.95", "to 0.99", "final per item"]])
    print_table(pd.concat(rows, ignore_index=True), "toy5: skills estimated vs known")


def speed() -> None:
    bed = make_toy_testbed(100_000, 1000, random_state=0)
    rows = []
    for name, policy in (("dynamic", DynamicOverlap(0.995, cap=15)),
                         ("eig", InformationGain(0.995, cap=15))):  # fmt: skip
        start = time.perf_counter()
        res = run_campaign(bed.truth, bed.pool, policy, batch_size=256, stop_accuracy=0.99,
                           random_state=0)  # fmt: skip
        took = time.perf_counter() - start
        rows.append({
            "policy": name, "items": bed.n_items, "annotators": bed.pool.n_workers,
            "stop": res.stop_reason, "accuracy": res.accuracy,
            "annotations": int(res.trajectory.annotations[-1]),
            "per item": float(res.trajectory.per_item[-1]), "seconds": took,
        })  # fmt: skip
    print_table(pd.DataFrame(rows), "Speed: 100,000 items, 1,000 annotators, to 99% accuracy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    print(machine())
    np.seterr(all="ignore")
    quality(args.seeds)
    known_skills(args.seeds)
    if not args.skip_speed:
        speed()


if __name__ == "__main__":
    main()
