"""Accuracy cost of SEALS at equal labels, on the largest real set (Fashion-MNIST, 60,000).

Margin sampling over the whole 60,000-image pool against margin sampling over SEALS
candidate pools (the k nearest neighbours of the labeled images, one faiss index built
once), same 20 random starting labels per seed, batches of 20. Reported: test accuracy
(10,000 test images) at equal numbers of labels, mean over seeds, the difference in
points, the candidate-pool size, and the median time of one query.

Run: .venv/bin/python benchmarks/active_seals.py [--seeds 5] [--budget 1000] [--k 100]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from _common import machine, print_table  # noqa: E402
from labelwise.active import SEALS, ActiveLearner  # noqa: E402
from labelwise.datasets import load_fashion_mnist  # noqa: E402
from labelwise.index import NeighborIndex  # noqa: E402


class TimedLearner(ActiveLearner):
    """ActiveLearner that records how long each query took."""

    def query(self, n: int | None = None) -> np.ndarray:
        t0 = time.perf_counter()
        out = super().query(n)
        self.__dict__.setdefault("query_s", []).append(time.perf_counter() - t0)
        return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--budget", type=int, default=1000)
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--n-random", type=int, default=0)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    print(f"machine: {machine()}")
    Xtr, ytr = load_fashion_mnist("train")
    Xte, yte = load_fashion_mnist("test")
    pca = PCA(n_components=50, whiten=True, random_state=0).fit(
        Xtr.reshape(60_000, -1)[:20_000] / 255
    )
    Xp = pca.transform(Xtr.reshape(60_000, -1) / 255).astype(np.float32)
    Xt = pca.transform(Xte.reshape(10_000, -1) / 255).astype(np.float32)
    # the model learns on whitened components (fast lbfgs); neighbours are found on the
    # unwhitened ones (pixel-space geometry: whitening inflates the noisy components)
    emb = (Xp * np.sqrt(pca.explained_variance_)).astype(np.float32)
    t0 = time.perf_counter()
    index = NeighborIndex(metric="cosine", kind="flat").fit(emb)
    print(
        f"pool {len(ytr):,} x 50 (PCA), exact faiss index built in {time.perf_counter() - t0:.2f} s"
    )
    curves, times, sizes = {}, {"full": [], "seals": []}, []
    for seed in range(args.seeds):
        y0 = np.full(len(ytr), -1)
        start = np.random.default_rng(seed).choice(len(ytr), size=20, replace=False)
        y0[start] = ytr[start]
        for arm in ("full", "seals"):
            cand = SEALS(args.k, index=index, n_random=args.n_random) if arm == "seals" else None
            al = TimedLearner(
                LogisticRegression(max_iter=1000), "margin", 20, candidates=cand, random_state=seed
            ).fit(Xp, y0, embeddings=emb)
            run = al.run(ytr, args.budget, X_test=Xt, y_test=yte)
            curves[(arm, seed)] = pd.Series(run.accuracy, index=run.n_labels)
            times[arm] += al.query_s
            if arm == "seals":
                sizes.append(len(al.seals_.candidates_))
        print(f"  seed {seed} done", flush=True)
    marks = [m for m in (100, 200, 500, 1000, 2000) if m <= 20 + args.budget]
    rows = []
    for m in marks:
        full = np.mean([curves[("full", s)].get(m, np.nan) for s in range(args.seeds)])
        seals = np.mean([curves[("seals", s)].get(m, np.nan) for s in range(args.seeds)])
        rows.append(
            {
                "labels": m,
                "full-pool margin acc": full,
                f"SEALS k={args.k} acc": seals,
                "diff (points)": 100 * (seals - full),
            }
        )
    mean_full = np.mean([curves[("full", s)].iloc[1:].mean() for s in range(args.seeds)])
    mean_seals = np.mean([curves[("seals", s)].iloc[1:].mean() for s in range(args.seeds)])
    rows.append(
        {
            "labels": "mean over curve",
            "full-pool margin acc": mean_full,
            f"SEALS k={args.k} acc": mean_seals,
            "diff (points)": 100 * (mean_seals - mean_full),
        }
    )
    print_table(
        pd.DataFrame(rows), f"Fashion-MNIST, margin, {args.seeds} seeds: SEALS vs full pool"
    )
    print(
        f"\nmedian query time: full pool {np.median(times['full']) * 1e3:.1f} ms, "
        f"SEALS {np.median(times['seals']) * 1e3:.1f} ms "
        f"({np.median(times['full']) / np.median(times['seals']):.1f}x); "
        f"SEALS candidates at the end: {int(np.median(sizes)):,} of {len(ytr):,} "
        f"(median over seeds)"
    )


if __name__ == "__main__":
    main()
