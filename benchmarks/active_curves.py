"""Learning curves of labelwise's strategies against random sampling on real data sets.

For each data set: a pool (training split, possibly a random subset), a test split, and
the target = 95% of the test accuracy of the same model trained on the whole pool.
Every strategy starts from the same 20 random labels per seed and buys labels in
batches; we report the labels needed to first reach the target (median over seeds)
and the ratio to random. A second table compares plain top-k with the diversity-aware
batch (k-means on the 10x best candidates, best per cluster) at batch 50.

Run: .venv/bin/python benchmarks/active_curves.py [--only digits] [--seeds 5]
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
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from _common import machine, print_table  # noqa: E402
from labelwise.active import ActiveLearner  # noqa: E402
from labelwise.datasets import load_fashion_mnist  # noqa: E402

#: (strategy, batch mode) pairs run at the small batch size
ARMS = [
    ("random", "topk"),
    ("least_confidence", "topk"),
    ("margin", "topk"),
    ("entropy", "topk"),
    ("margin", "diverse"),
    ("badge", "topk"),
    ("coreset", "topk"),
]


def _lr() -> LogisticRegression:
    return LogisticRegression(max_iter=1000)


def digits(seed: int) -> tuple[np.ndarray, ...]:
    X, y = load_digits(return_X_y=True)
    Xp, Xt, yp, yt = train_test_split(X / 16.0, y, test_size=0.3, random_state=seed, stratify=y)
    return Xp, yp, Xt, yt


_FASHION: dict[str, np.ndarray] = {}


def fashion(seed: int, pool: int = 10_000, test: int = 3_000) -> tuple[np.ndarray, ...]:
    if not _FASHION:
        Xtr, ytr = load_fashion_mnist("train")
        Xte, yte = load_fashion_mnist("test")
        Xtr = Xtr.reshape(len(Xtr), -1) / 255.0
        Xte = Xte.reshape(len(Xte), -1) / 255.0
        # unlabeled pixels are free: PCA fitted on the training images, no labels used;
        # whitening makes lbfgs converge in ~4x fewer iterations (same accuracy)
        pca = PCA(n_components=50, whiten=True, random_state=0).fit(Xtr[:20_000])
        _FASHION.update(Xtr=pca.transform(Xtr), ytr=ytr, Xte=pca.transform(Xte), yte=yte)
    rng = np.random.default_rng(seed)
    ip = rng.choice(len(_FASHION["ytr"]), size=pool, replace=False)
    it = rng.choice(len(_FASHION["yte"]), size=test, replace=False)
    return _FASHION["Xtr"][ip], _FASHION["ytr"][ip], _FASHION["Xte"][it], _FASHION["yte"][it]


DATASETS = {"digits": (digits, 10, 400), "fashion-mnist": (fashion, 20, 1800)}


def curve(
    strategy: str, batch: str, size: int, budget: int, data: tuple[np.ndarray, ...], seed: int
) -> tuple[pd.Series, float]:
    Xp, yp, Xt, yt = data
    y0 = np.full(len(yp), -1)
    start = np.random.default_rng(seed).choice(len(yp), size=20, replace=False)
    y0[start] = yp[start]
    t0 = time.perf_counter()
    al = ActiveLearner(_lr(), strategy, size, batch=batch, random_state=seed).fit(Xp, y0)
    run = al.run(yp, budget, X_test=Xt, y_test=yt)
    return pd.Series(run.accuracy, index=run.n_labels), time.perf_counter() - t0


def reach(c: pd.Series, target: float) -> float:
    hit = c.index[c.to_numpy() >= target]
    return float(hit[0]) if len(hit) else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default=",".join(DATASETS))
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--budget", type=int, default=None, help="labels to buy (default per set)")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    print(f"machine: {machine()}")
    for name in args.only.split(","):
        load, size, budget = DATASETS[name]
        budget = args.budget or budget
        t0 = time.perf_counter()
        rows, big = [], []
        for seed in range(args.seeds):
            data = load(seed)
            full = float((_lr().fit(data[0], data[1]).predict(data[2]) == data[3]).mean())
            target = 0.95 * full
            for strategy, batch in ARMS:
                c, took = curve(strategy, batch, size, budget, data, seed)
                rows.append(
                    {
                        "strategy": f"{strategy} ({batch})",
                        "seed": seed,
                        "full acc": full,
                        "target": target,
                        "labels to target": reach(c, target),
                        "acc at budget": float(c.iloc[-1]),
                        "s": took,
                    }
                )
            for batch in ("topk", "diverse"):
                c, took = curve("margin", batch, 50, budget, data, seed)
                big.append(
                    {
                        "arm": f"margin ({batch}), batch 50",
                        "seed": seed,
                        "labels to target": reach(c, target),
                        "mean acc over curve": float(c.iloc[1:].mean()),
                        "s": took,
                    }
                )
            print(f"  {name} seed {seed} done at {time.perf_counter() - t0:.0f} s", flush=True)
        df = pd.DataFrame(rows)
        # a seed that never reached the target counts as "more than the budget" (inf),
        # so that the median is not taken over the lucky seeds only
        df["labels to target"] = df["labels to target"].fillna(np.inf)
        summ = df.groupby("strategy", sort=False).agg(
            labels_median=("labels to target", "median"),
            labels_mean=("labels to target", "mean"),
            not_reached=("labels to target", lambda s: int(np.isinf(s).sum())),
            acc_at_budget=("acc at budget", "mean"),
            seconds=("s", "median"),
        )
        rnd = summ.loc["random (topk)", "labels_median"]
        summ["ratio to random"] = summ["labels_median"] / rnd
        print(
            f"\n{name}: pool {len(data[1])}, test {len(data[3])}, start 20, batch {size}, "
            f"budget {budget} more labels; full-pool accuracy {df['full acc'].mean():.4f} "
            f"(target 95% of it: {df['target'].mean():.4f}), {args.seeds} seeds"
        )
        print_table(summ.reset_index(), f"{name}: labels to reach 95% of full-data accuracy")
        b = pd.DataFrame(big)
        b["labels to target"] = b["labels to target"].fillna(np.inf)
        print_table(
            b.groupby("arm", sort=False)
            .agg(
                labels_median=("labels to target", "median"),
                per_seed=("labels to target", lambda s: ", ".join(f"{v:.0f}" for v in s)),
                mean_acc_over_curve=("mean acc over curve", "mean"),
            )
            .reset_index(),
            f"{name}: top-k against diversity-aware batches at batch 50",
        )
        print(f"{name} took {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
