"""Pruning curve on Fashion-MNIST: test accuracy after training on the kept fraction.

10,000 training images (PCA to 50 dimensions, fitted on them) and 5,000 test images;
a multinomial logistic regression trained on the items each strategy keeps, for
fractions 10%-90%, 3 seeds (the seed moves k-means, the random draws and the
training subset). Strategies: the prototype metric keeping easy items, keeping
hard items, and ``keep="auto"`` (easy below 30%, hard from there), each over the whole
set and per class (``prune(..., labels=y)``: the same share of every class), against
random and class-balanced random.

Run: .bench-venv/bin/python benchmarks/audit_pruning.py
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from labelwise.curate import prototype_scores, prune
from labelwise.curate.pruning import EASY_BELOW
from labelwise.datasets import load_fashion_mnist

FRACTIONS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--n-train", type=int, default=10_000)
    args = ap.parse_args()
    t_start = time.perf_counter()
    tr_img, tr_y = load_fashion_mnist("train")
    te_img, te_y = load_fashion_mnist("test")
    rows = []
    for seed in range(args.seeds):
        rng = np.random.default_rng(seed)
        idx = rng.choice(len(tr_y), args.n_train, replace=False)
        Xtr = tr_img[idx].reshape(len(idx), -1) / 255.0
        ytr = tr_y[idx]
        pca = PCA(50, random_state=seed).fit(Xtr)
        scaler = StandardScaler().fit(pca.transform(Xtr))
        Ztr = scaler.transform(pca.transform(Xtr))
        Zte = scaler.transform(pca.transform(te_img[:5000].reshape(5000, -1) / 255.0))
        yte = te_y[:5000]
        scores = prototype_scores(Ztr, n_clusters=10, random_state=seed)

        def acc(
            keep: np.ndarray,
            ytr: np.ndarray = ytr,
            Ztr: np.ndarray = Ztr,
            Zte: np.ndarray = Zte,
            yte: np.ndarray = yte,
        ) -> float:
            model = LogisticRegression(max_iter=300, tol=1e-3).fit(Ztr[keep], ytr[keep])
            return float((model.predict(Zte) == yte).mean())

        for f in FRACTIONS:
            res = {
                "easy": acc(prune(None, f, scores=scores, keep="easy", random_state=seed)),
                "hard": acc(prune(None, f, scores=scores, keep="hard", random_state=seed)),
                "easy per class": acc(
                    prune(None, f, scores=scores, labels=ytr, keep="easy", random_state=seed)
                ),
                "hard per class": acc(
                    prune(None, f, scores=scores, labels=ytr, keep="hard", random_state=seed)
                ),
                "random": acc(prune(Ztr, f, strategy="random", random_state=seed)),
                "class_balanced": acc(
                    prune(Ztr, f, strategy="class_balanced", labels=ytr, random_state=seed)
                ),
            }
            res["auto"] = res["easy"] if f < EASY_BELOW else res["hard"]
            res["auto per class"] = (
                res["easy per class"] if f < EASY_BELOW else res["hard per class"]
            )
            for k, v in res.items():
                rows.append((seed, f, k, v))
    df = pd.DataFrame(rows, columns=["seed", "fraction", "strategy", "accuracy"])
    table = df.groupby(["fraction", "strategy"])["accuracy"].mean().unstack()
    strategies = ["easy", "hard", "auto", "easy per class", "hard per class", "auto per class"]
    table = table[["random", "class_balanced", *strategies]]
    for col in [*strategies, "class_balanced"]:
        table[f"{col} - random"] = table[col] - table["random"]
    table.index = [f"{f:.0%}" for f in table.index]
    print(table.round(4).to_markdown())
    print(f"\n(seeds: {args.seeds}; {time.perf_counter() - t_start:.0f} s)")


if __name__ == "__main__":
    main()
