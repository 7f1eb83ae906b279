"""Label-issue detection: labelwise's default against cleanlab's find_label_issues.

Digits (1,797 x 64) and a Fashion-MNIST subset (3,000 train images, PCA to 40
dimensions), 10% and 20% of labels flipped, uniformly (to a random other class)
or class-conditionally (each class to its most confused class, read from a
clean-label out-of-fold confusion matrix), 5 seeds. Both libraries get the SAME
out-of-fold probabilities (StandardScaler + LogisticRegression, 5 folds); the flagged
sets are scored against the truly flipped items. Probabilities are cached under
``--cache`` (the logistic regressions dominate the run time).

Held-out check (the default rule was chosen on digits and Fashion-MNIST): the MiniLM
sentence embeddings of TREC, SST-2 and AG News (5,000-item samples) with
``--datasets trec,sst2,ag_news``.

Run: OMP_NUM_THREADS=1 .bench-venv/bin/python benchmarks/audit_label_issues.py
"""

from __future__ import annotations

import argparse
import pickle
import time
from pathlib import Path

import numpy as np
import pandas as pd

from labelwise.curate import find_label_issues, out_of_fold_proba

SETTINGS = [("uniform", 0.1), ("uniform", 0.2), ("class-cond", 0.1), ("class-cond", 0.2)]
CL_FILTERS = [
    "prune_by_noise_rate",
    "prune_by_class",
    "both",
    "confident_learning",
    "predicted_neq_given",
]


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    if name in ("trec", "sst2", "ag_news"):
        # held-out checks: the default rule was chosen on digits and Fashion-MNIST only
        from labelwise.datasets import load_text_embeddings

        X, labels, _ = load_text_embeddings(name, "train")
        codes = pd.factorize(labels, sort=True)[0].astype(np.int64)
        if len(codes) > 5000:
            idx = np.random.default_rng(0).choice(len(codes), 5000, replace=False)
            X, codes = X[idx], codes[idx]
        return X.astype(np.float64), codes
    if name == "digits":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        return X.astype(np.float64), y.astype(np.int64)
    from sklearn.decomposition import PCA

    from labelwise.datasets import load_fashion_mnist

    imgs, y = load_fashion_mnist("train")
    idx = np.random.default_rng(0).choice(len(y), 3000, replace=False)
    X = imgs[idx].reshape(len(idx), -1) / 255.0
    return PCA(40, random_state=0).fit_transform(X), y[idx]


def flip(y: np.ndarray, kind: str, rate: float, to: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    k = int(y.max()) + 1
    idx = rng.choice(len(y), round(rate * len(y)), replace=False)
    noisy = y.copy()
    noisy[idx] = (y[idx] + rng.integers(1, k, len(idx))) % k if kind == "uniform" else to[y[idx]]
    return noisy


def prf(flag: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    tp = float((flag & truth).sum())
    p = tp / max(int(flag.sum()), 1)
    r = tp / max(int(truth.sum()), 1)
    return p, r, 2 * p * r / max(p + r, 1e-12)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default="digits,fashion")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--cache", default="/tmp/labelwise-bench-oof")
    args = ap.parse_args()
    from cleanlab.filter import find_label_issues as cl_find

    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    rows = []
    for ds in args.datasets.split(","):
        X, y = load(ds)
        clean = out_of_fold_proba(X, y, random_state=0)
        conf = np.zeros((10, 10))
        np.add.at(conf, (y, clean.argmax(1)), 1)
        np.fill_diagonal(conf, 0)
        to = conf.argmax(1)
        for kind, rate in SETTINGS:
            for seed in range(args.seeds):
                noisy = flip(y, kind, rate, to, seed)
                f = cache / f"{ds}-{kind}-{rate}-{seed}.pkl"
                if f.exists():
                    P = pickle.loads(f.read_bytes())
                else:
                    P = out_of_fold_proba(X, noisy, random_state=seed)
                    f.write_bytes(pickle.dumps(P))
                truth = noisy != y
                t0 = time.perf_counter()
                lw = find_label_issues(noisy, P).is_issue
                t_lw = time.perf_counter() - t0
                rows.append((ds, kind, rate, seed, "labelwise", *prf(lw, truth), t_lw))
                for fb in CL_FILTERS:
                    t0 = time.perf_counter()
                    cl = cl_find(noisy, P, filter_by=fb)
                    t_cl = time.perf_counter() - t0
                    rows.append((ds, kind, rate, seed, f"cleanlab {fb}", *prf(cl, truth), t_cl))
    df = pd.DataFrame(
        rows, columns=["data", "noise", "rate", "seed", "method", "P", "R", "F1", "s"]
    )
    mean = df.groupby(["data", "noise", "rate", "method"])[["P", "R", "F1", "s"]].mean()
    out = []
    for (ds, kind, rate), g in mean.groupby(level=[0, 1, 2]):
        g = g.droplevel([0, 1, 2])
        cl = g.drop(index="labelwise")
        best = cl["F1"].idxmax()
        lw = g.loc["labelwise"]
        d = g.loc["cleanlab prune_by_noise_rate"]
        b = g.loc[best]
        out.append(
            {
                "data": ds,
                "noise": kind,
                "flipped": f"{rate:.0%}",
                "labelwise P/R/F1": f"{lw.P:.3f}/{lw.R:.3f}/{lw.F1:.3f}",
                "cleanlab default P/R/F1": f"{d.P:.3f}/{d.R:.3f}/{d.F1:.3f}",
                "cleanlab best (filter_by)": f"{b.F1:.3f} ({best.replace('cleanlab ', '')})",
                "F1 gain vs best": round(lw.F1 - b.F1, 3),
                "labelwise ms": round(lw.s * 1e3, 1),
                "cleanlab default ms": round(d.s * 1e3, 1),
            }
        )
    print(pd.DataFrame(out).to_markdown(index=False))
    print("\nF1 per method (mean of seeds):")
    print(mean["F1"].unstack([0, 1, 2]).round(3).to_markdown())


if __name__ == "__main__":
    main()
