"""Do labelwise's uncertainty strategies pick the same items as scikit-activeml's?

Digits, LogisticRegression, 20 random starting labels, batches of 10, up to 300 labels,
5 seeds (each seed: its own 70/30 pool/test split and starting set). Two measures:

1. lock-step agreement: at every round both libraries query from the *same* labeled
   state (labelwise's trajectory); the share of scikit-activeml's batch that labelwise
   also chose, and the share of rounds where the two batches are identical;
2. independent runs: each library follows its own choices; labels needed to reach 93%
   test accuracy, and whether the two trajectories ever diverged.

Run: .bench-venv/bin/python benchmarks/active_agreement.py
"""

from __future__ import annotations

import os

# small lbfgs fits are ~50x slower with BLAS threads fighting over 2 shared cores
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from skactiveml.classifier import SklearnClassifier  # noqa: E402
from skactiveml.pool import UncertaintySampling  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from _common import machine, print_table  # noqa: E402
from labelwise.active import ActiveLearner  # noqa: E402

PAIRS = {"entropy": "entropy", "margin": "margin_sampling", "least_confidence": "least_confident"}
START, BATCH, UP_TO, TARGET = 20, 10, 300, 0.93


def _lr() -> LogisticRegression:
    return LogisticRegression(max_iter=2000)


def _split(seed: int) -> tuple[np.ndarray, ...]:
    X, y = load_digits(return_X_y=True)
    Xp, Xt, yp, yt = train_test_split(X / 16.0, y, test_size=0.3, random_state=seed, stratify=y)
    start = np.random.default_rng(seed).choice(len(yp), size=START, replace=False)
    return Xp, yp, Xt, yt, start


def _peer_query(method: str, Xp: np.ndarray, y_missing: np.ndarray, seed: int) -> np.ndarray:
    clf = SklearnClassifier(_lr(), classes=np.arange(10), missing_label=-1, random_state=seed)
    qs = UncertaintySampling(method=method, missing_label=-1, random_state=seed)
    return np.asarray(qs.query(X=Xp, y=y_missing, clf=clf, batch_size=BATCH))


def lockstep(strategy: str, seed: int) -> dict[str, float]:
    Xp, yp, _, _, start = _split(seed)
    y0 = np.full(len(yp), -1)
    y0[start] = yp[start]
    al = ActiveLearner(_lr(), strategy, BATCH, random_state=seed).fit(Xp, y0)
    shared, same, rounds = 0, 0, 0
    while len(al.labeled_) < UP_TO:
        ours = al.query()
        theirs = _peer_query(PAIRS[strategy], Xp, al.y_.copy(), seed)
        common = len(np.intersect1d(ours, theirs))
        shared += common
        same += int(common == BATCH)
        rounds += 1
        al.teach(ours, yp[ours])
    return {
        "items agreed": shared / (rounds * BATCH),
        "identical batches": same / rounds,
        "rounds": rounds,
    }


def independent(strategy: str, seed: int) -> dict[str, float]:
    Xp, yp, Xt, yt, start = _split(seed)
    y0 = np.full(len(yp), -1)
    y0[start] = yp[start]
    run = (
        ActiveLearner(_lr(), strategy, BATCH, random_state=seed)
        .fit(Xp, y0)
        .run(yp, UP_TO - START, X_test=Xt, y_test=yt)
    )
    ours = run.labels_to_reach(TARGET)
    # the peer's own trajectory
    y_cur = y0.copy()
    curve: list[tuple[int, float]] = []
    order: list[np.ndarray] = []
    while True:
        lab = y_cur != -1
        m = _lr().fit(Xp[lab], y_cur[lab])
        curve.append((int(lab.sum()), float((m.predict(Xt) == yt).mean())))
        if lab.sum() >= UP_TO:
            break
        ids = _peer_query(PAIRS[strategy], Xp, y_cur, seed)
        order.append(np.sort(ids))
        y_cur[ids] = yp[ids]
    theirs = next((n for n, a in curve if a >= TARGET), None)
    diverged = any(
        not np.array_equal(np.sort(a), b) for a, b in zip(run.queried, order, strict=False)
    )
    return {
        "labelwise labels to 93%": ours,
        "peer labels to 93%": theirs,
        "trajectories diverged": diverged,
        "final acc labelwise": float(run.accuracy[-1]),
        "final acc peer": curve[-1][1],
    }


def random_baseline(seed: int) -> int | None:
    Xp, yp, Xt, yt, start = _split(seed)
    y0 = np.full(len(yp), -1)
    y0[start] = yp[start]
    run = (
        ActiveLearner(_lr(), "random", BATCH, random_state=seed)
        .fit(Xp, y0)
        .run(yp, UP_TO - START, X_test=Xt, y_test=yt)
    )
    return run.labels_to_reach(TARGET)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")  # the peer warns on every lbfgs near-convergence
    t0 = time.perf_counter()
    rows = []
    for strategy in PAIRS:
        for seed in range(args.seeds):
            rows.append(
                {
                    "strategy": strategy,
                    "seed": seed,
                    **lockstep(strategy, seed),
                    **independent(strategy, seed),
                }
            )
    df = pd.DataFrame(rows)
    print(f"machine: {machine()}")
    print_table(df, "Per seed")
    summary = df.groupby("strategy", sort=False).agg(
        items_agreed=("items agreed", "mean"),
        identical_batches=("identical batches", "mean"),
        diverged_runs=("trajectories diverged", "sum"),
        labelwise_to_93=("labelwise labels to 93%", "median"),
        peer_to_93=("peer labels to 93%", "median"),
    )
    rnd = [random_baseline(s) for s in range(args.seeds)]
    print_table(summary.reset_index(), "Agreement with scikit-activeml UncertaintySampling")
    print(f"\nrandom sampling, labels to 93% per seed: {rnd}")
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
