"""Extrapolation accuracy of labelwise's learning-curve fits on real data sets.

For each data set: measure a learning curve (nested subsets, 3 seeds) on sizes up to
25% of the training pool, fit it on the points up to 10% and up to 25%, predict the
test accuracy with 100% of the pool, and compare with the accuracy measured there.
Compared: ``CurveFit(model="auto")`` (family chosen by held-out extrapolation, interval
= bootstrap + held-out margin), the plain power law, and the naive "no further gain"
baseline (the last measured point).

Run: .venv/bin/python benchmarks/scaling_extrapolation.py [--only digits,trec]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from _common import machine, print_table
from labelwise.datasets import load_fashion_mnist, load_text_embeddings
from labelwise.scaling import CurveFit, ExtrapolationWarning, learning_curve


def _digits() -> tuple[np.ndarray, ...]:
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X / 16.0, y, test_size=0.25, stratify=y, random_state=0)
    return Xtr, ytr, Xte, yte


def _fashion() -> tuple[np.ndarray, ...]:
    Xtr, ytr = load_fashion_mnist("train")
    Xte, yte = load_fashion_mnist("test")
    # unlabeled features are free: PCA is fitted on all training images (no labels)
    pca = PCA(50, random_state=0).fit(Xtr.reshape(len(Xtr), -1)[::3] / 255.0)
    Ztr = pca.transform(Xtr.reshape(len(Xtr), -1) / 255.0)
    Zte = pca.transform(Xte.reshape(len(Xte), -1) / 255.0)
    scale = Ztr.std(axis=0)  # whitened components: lbfgs converges in a few dozen steps
    return Ztr / scale, ytr, Zte / scale, yte


def _cifar() -> tuple[np.ndarray, ...]:
    import io
    import zipfile

    from PIL import Image

    from labelwise.datasets import shared_data_dir

    d = shared_data_dir() / "images" / "cifar10"
    table = pd.read_csv(d / "labels.csv")
    with zipfile.ZipFile(d / "cifar10_jpg.zip") as z:
        pix = np.stack(
            [np.asarray(Image.open(io.BytesIO(z.read(f))), dtype=np.float32) for f in table["file"]]
        ).reshape(len(table), -1)
    pix /= 255.0
    train = (table["split"] == "train").to_numpy()
    # colour pixels -> PCA-100, whitened, fitted without labels (a weak, fast feature)
    pca = PCA(100, random_state=0).fit(pix[train][::2])
    Z = pca.transform(pix)
    Z /= Z[train].std(axis=0)
    y = table["label"].to_numpy()
    return Z[train], y[train], Z[~train], y[~train]


def _text(name: str) -> tuple[np.ndarray, ...]:
    Xtr, ytr, _ = load_text_embeddings(name, "train")
    Xte, yte, _ = load_text_embeddings(name, "test")
    return Xtr.astype(np.float64), ytr, Xte.astype(np.float64), yte


DATASETS = {
    "digits": (_digits, lambda: LogisticRegression(max_iter=1000)),
    "fashion-mnist (PCA-50)": (_fashion, lambda: LogisticRegression(max_iter=300)),
    "ag_news (MiniLM)": (lambda: _text("ag_news"), lambda: LogisticRegression(C=10, max_iter=500)),
    "sst2 (MiniLM)": (lambda: _text("sst2"), lambda: LogisticRegression(C=10, max_iter=500)),
    "trec (MiniLM)": (lambda: _text("trec"), lambda: LogisticRegression(C=10, max_iter=500)),
    "cifar10 (pixels PCA-100)": (_cifar, lambda: LogisticRegression(max_iter=500)),
}


def run_one(name: str, seeds: int = 3) -> list[dict[str, object]]:
    load, make = DATASETS[name]
    Xtr, ytr, Xte, yte = load()
    n = len(ytr)
    k = len(np.unique(ytr))
    start = time.perf_counter()
    low = max(5 * k, 0.004 * n) / n
    fracs = np.unique(np.concatenate([np.geomspace(low, 0.25, 10), [0.10]]))
    curve = learning_curve(make(), Xtr, ytr, fracs, seeds=seeds, X_test=Xte, y_test=yte)
    full = learning_curve(make(), Xtr, ytr, [n], seeds=1, X_test=Xte, y_test=yte)
    measured = float(full.mean[0])
    rows = []
    for cut in (0.10, 0.25):
        part = curve.truncate(round(cut * n))
        auto = CurveFit(model="auto", n_bootstrap=200).fit(part)
        power = CurveFit(model="power_law", n_bootstrap=200).fit(part)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExtrapolationWarning)
            pred = float(auto.predict([n])[0])
            lo, hi = (float(v[0]) for v in auto.predict_interval([n]))
            p_pred = float(power.predict([n])[0])
            p_lo, p_hi = (float(v[0]) for v in power.predict_interval([n]))
        rows.append(
            {
                "data set": name,
                "fit on": f"<= {cut:.0%} ({part.sizes[-1]:,} labels, {len(part.sizes)} sizes)",
                "n at 100%": n,
                "measured": measured,
                "auto model": auto.model_,
                "auto predicted": pred,
                "auto interval": f"[{lo:.4f}, {hi:.4f}]",
                "auto error (pts)": 100 * (pred - measured),
                "inside": lo <= measured <= hi,
                "power-law predicted": p_pred,
                "power-law error (pts)": 100 * (p_pred - measured),
                "power-law inside": p_lo <= measured <= p_hi,
                "last point error (pts)": 100 * (float(part.mean[-1]) - measured),
            }
        )
    print(f"{name}: {time.perf_counter() - start:.0f} s", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="", help="comma-separated data set name prefixes")
    args = parser.parse_args()
    names = [
        n for n in DATASETS if not args.only or any(n.startswith(p) for p in args.only.split(","))
    ]
    print(machine())
    rows = [r for name in names for r in run_one(name)]
    frame = pd.DataFrame(rows)
    print_table(frame, "Extrapolation to 100% of the training pool")
    for cut in ("10%", "25%"):
        sel = frame[frame["fit on"].str.contains(cut)]
        print(
            f"fit on <= {cut}: auto mean |error| {sel['auto error (pts)'].abs().mean():.2f} pts, "
            f"inside interval {int(sel['inside'].sum())}/{len(sel)}; power law mean |error| "
            f"{sel['power-law error (pts)'].abs().mean():.2f} pts, inside "
            f"{int(sel['power-law inside'].sum())}/{len(sel)}; last-point mean |error| "
            f"{sel['last point error (pts)'].abs().mean():.2f} pts"
        )


if __name__ == "__main__":
    main()
