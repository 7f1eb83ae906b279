"""Noise versus volume on Fashion-MNIST (after Prendki's CIFAR-10 study, 2020).

Logistic regression on whitened PCA-50 features of all 60,000 training images, scored
on the 10,000 test images: 0-30% of the training labels flipped (uniformly, and
class-conditionally along the baseline model's own confusions), and 10-100% of the
training set, 3 repeats each. Prints the per-condition and per-class tables and the
impact indexes, writes the plots, and times the whole study (goal: under 10 minutes
on 2 cores).

Run: .venv/bin/python benchmarks/scaling_noise_volume.py [--data digits] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from _common import machine, print_table
from labelwise.datasets import load_fashion_mnist
from labelwise.report.sections.planning import plot_noise_volume
from labelwise.scaling import noise_volume_study

FASHION_CLASSES = np.array(
    [
        "T-shirt",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]
)


def load(name: str) -> tuple[np.ndarray, ...]:
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        Xtr, Xte, ytr, yte = train_test_split(X / 16, y, test_size=0.25, stratify=y, random_state=0)
        return Xtr, ytr, Xte, yte
    Xtr, ytr = load_fashion_mnist("train")
    Xte, yte = load_fashion_mnist("test")
    pca = PCA(50, random_state=0).fit(Xtr.reshape(len(Xtr), -1)[::3] / 255.0)
    Ztr = pca.transform(Xtr.reshape(len(Xtr), -1) / 255.0)
    Zte = pca.transform(Xte.reshape(len(Xte), -1) / 255.0)
    scale = Ztr.std(axis=0)
    return Ztr / scale, FASHION_CLASSES[ytr], Zte / scale, FASHION_CLASSES[yte]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="fashion-mnist", choices=["fashion-mnist", "digits"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--figure", default="benchmarks/figures/scaling_noise_volume.png")
    args = parser.parse_args()
    print(machine())
    start = time.perf_counter()
    Xtr, ytr, Xte, yte = load(args.data)
    study = noise_volume_study(
        LogisticRegression(max_iter=500),
        Xtr,
        ytr,
        X_test=Xte,
        y_test=yte,
        noise_levels=(0.0, 0.05, 0.1, 0.2, 0.3),
        fractions=(1.0, 0.5, 0.25, 0.1),
        repeats=args.repeats,
        random_state=0,
    )
    total = time.perf_counter() - start
    print(
        f"\n{args.data}: {study.n_train} training items, {args.repeats} repeats; study "
        f"{study.seconds:.0f} s, with loading and PCA {total:.0f} s"
    )
    print_table(study.summary(), "Accuracy by share of labels wrong or missing")
    print_table(study.impact(), "Impact: accuracy points lost per 10% of labels wrong or missing")
    print_table(study.sensitivity(), "Per class (drops in points, indexes per 10%)")
    print_table(study.per_class("uniform"), "Per-class accuracy by uniform noise level")
    print_table(
        study.per_class("class_conditional"), "Per-class accuracy by class-conditional noise level"
    )
    print_table(study.per_class("volume"), "Per-class accuracy by share of the training set")
    conf = study.mean_confusion("class_conditional", len(study.noise_levels) - 1)
    off = conf - np.diag(np.diag(conf))
    i, j = np.unravel_index(off.argmax(), off.shape)
    print(
        f"\nlargest confusion at the worst class-conditional noise: {study.classes[i]} -> "
        f"{study.classes[j]} {off[i, j]:.3f}, reverse {off[j, i]:.3f}"
    )
    fig = plot_noise_volume(study)
    out = Path(args.figure)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100, bbox_inches="tight")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
