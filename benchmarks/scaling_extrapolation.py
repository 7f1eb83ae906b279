"""Extrapolation accuracy of labelwise's learning-curve fits on real data sets.

For each data set: four independent learning curves (each: nested subsets drawn anew,
3 seeds) on sizes up to 25% of the training pool; each is fitted on the points up to 10%
and up to 25%, and predicts the test accuracy with 100% of the pool, compared with the
accuracy measured there. Compared: ``CurveFit(model="auto")`` (before: family chosen on
one held-out split, interval = bootstrap + held-out margin), the plain power law, the third
round's stack ``StackedCurveFit(tail_weights=(1.0,), interval="sum", z=2.0)`` (power law,
floorless power law and arctan weighed by backtests on the same curve, residuals weighted
by n; interval = 2 backtest spreads per log-unit + the families' disagreement + a seed
bootstrap, added), and ``StackedCurveFit()`` (after: each family fitted with tail weights
1 and 2, six members weighed by their backtests; interval = 1.645 standard deviations of
the stack's own backtest error per log-unit, the disagreement and the bootstrap, in
quadrature). ``--first-draw 4`` draws four other curves per set (development curves, on
which the method was chosen); the default draws are the reported ones.

Run: nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/scaling_extrapolation.py \
    --only digits,fashion,ag_news,sst2,trec [--cache /tmp/curves] [--draws 4] [--first-draw 4]
"""

from __future__ import annotations

import argparse
import pickle
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from _common import machine, print_table
from labelwise.datasets import load_fashion_mnist, load_text_embeddings
from labelwise.scaling import CurveFit, ExtrapolationWarning, learning_curve
from labelwise.scaling.stack import StackedCurveFit


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


FIT_ONLY: list[str] = []
FITS = {
    "auto (before)": lambda: CurveFit(model="auto", n_bootstrap=200),
    "power law": lambda: CurveFit(model="power_law", n_bootstrap=200),
    "stack (third round)": lambda: StackedCurveFit(tail_weights=(1.0,), interval="sum", z=2.0),
    "stack (after)": lambda: StackedCurveFit(),
}


def measure(
    name: str, draws: int, seeds: int, cache: str, first: int = 0
) -> tuple[int, float, list[Any]]:
    """(pool size, accuracy on 100%, one LearningCurve per draw), from ``cache`` if there.

    Draw ``d`` uses ``random_state=100 + first + d``: ``first=4`` gives four curves
    independent of the reported ones, to choose a method on."""
    tag = f"{name.split()[0]}-{draws}x{seeds}" + (f"-from{first}" if first else "")
    path = Path(cache) / f"{tag}.pkl" if cache else None
    if path is not None and path.exists():
        with path.open("rb") as fh:
            return pickle.load(fh)  # type: ignore[no-any-return]
    load, make = DATASETS[name]
    Xtr, ytr, Xte, yte = load()
    n = len(ytr)
    k = len(np.unique(ytr))
    low = max(5 * k, 0.004 * n) / n
    fracs = np.unique(np.concatenate([np.geomspace(low, 0.25, 10), [0.10]]))
    full = learning_curve(make(), Xtr, ytr, [n], seeds=1, X_test=Xte, y_test=yte)
    # independent curves: new nested subsets for every seed of every draw
    curves = [
        learning_curve(
            make(),
            Xtr,
            ytr,
            fracs,
            seeds=seeds,
            X_test=Xte,
            y_test=yte,
            random_state=100 + first + d,
        )
        for d in range(draws)
    ]
    out = (n, float(full.mean[0]), curves)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            pickle.dump(out, fh)
    return out


def run_one(
    name: str, draws: int, cache: str, seeds: int = 3, first: int = 0
) -> list[dict[str, object]]:
    start = time.perf_counter()
    n, measured, curves = measure(name, draws, seeds, cache, first)
    rows = []
    for draw, curve in enumerate(curves):
        for cut in (0.10, 0.25):
            part = curve.truncate(round(cut * n))
            for method, build in FITS.items():
                if FIT_ONLY and method not in FIT_ONLY:
                    continue
                fit = build().fit(part)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ExtrapolationWarning)
                    pred = float(fit.predict([n])[0])
                    lo, hi = (float(v[0]) for v in fit.predict_interval([n]))
                rows.append(
                    {
                        "data set": name,
                        "draw": draw,
                        "fit on": f"<= {cut:.0%}",
                        "labels": int(part.sizes[-1]),
                        "method": method,
                        "measured": measured,
                        "predicted": pred,
                        "error (pts)": 100 * (pred - measured),
                        "inside": lo <= measured <= hi,
                        "width (pts)": 100 * (hi - lo),
                        "last point error (pts)": 100 * (float(part.mean[-1]) - measured),
                    }
                )
    print(f"{name}: {time.perf_counter() - start:.0f} s", flush=True)
    return rows


def summarize(frame: pd.DataFrame) -> pd.DataFrame:
    """Per data set, cut and method: mean |error|, mean signed error, coverage, width."""
    g = frame.groupby(["data set", "fit on", "method"], sort=False)
    return g.agg(
        draws=("draw", "nunique"),
        measured=("measured", "first"),
        mean_abs_error=("error (pts)", lambda e: float(np.abs(e).mean())),
        mean_error=("error (pts)", "mean"),
        inside=("inside", lambda b: f"{int(b.sum())}/{len(b)}"),
        mean_width=("width (pts)", "mean"),
    ).reset_index()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fits", default="", help="comma-separated fit methods (all)")
    parser.add_argument("--only", default="", help="comma-separated data set name prefixes")
    parser.add_argument("--draws", type=int, default=4, help="independent curves per set")
    parser.add_argument("--save", default="", help="also write the per-draw rows to this CSV")
    parser.add_argument("--cache", default="", help="keep the measured curves in this folder")
    parser.add_argument(
        "--first-draw",
        type=int,
        default=0,
        help="draw curves 100+first.. (4: the development curves, not the reported ones)",
    )
    args = parser.parse_args()
    names = [
        n for n in DATASETS if not args.only or any(n.startswith(p) for p in args.only.split(","))
    ]
    FIT_ONLY.extend(m for m in args.fits.split(",") if m)
    print(machine())
    rows = [
        r for name in names for r in run_one(name, args.draws, args.cache, first=args.first_draw)
    ]
    frame = pd.DataFrame(rows)
    if args.save:
        frame.to_csv(args.save, index=False)
    print_table(summarize(frame).round(3), f"Extrapolation to 100% ({args.draws} curve draws)")
    for cut in ("10%", "25%"):
        sel = frame[frame["fit on"].str.contains(cut)]
        for method, part in sel.groupby("method", sort=False):
            worst = part.groupby("data set")["error (pts)"].apply(lambda e: e.abs().mean()).max()
            print(
                f"fit on <= {cut}, {method}: mean |error| {part['error (pts)'].abs().mean():.2f}"
                f" pts, worst set {worst:.2f}"
                f", inside {int(part['inside'].sum())}/{len(part)}, mean width "
                f"{part['width (pts)'].mean():.2f} pts"
            )


if __name__ == "__main__":
    main()
