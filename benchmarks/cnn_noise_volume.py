"""Noise versus volume in the cost-optimised labeling study's own setting: its small CNN
on CIFAR-10 images.

    .venv/bin/python benchmarks/cnn_noise_volume.py                 # GPU if present
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/cnn_noise_volume.py --setting cpu

``labelwise.scaling.noise_volume_study`` with ``labelwise.models.SmallCNNClassifier``
(7 weight layers, 307,834 parameters) on ``../shared/data/images/cifar10/`` (the first
20,000 training images and the 10,000 test images, JPEG-decoded).

- ``--setting gpu`` (the default when torch sees a CUDA GPU): all 20,000 training
  images, all 10,000 test images, 30 epochs per fit, noise 0/5/10/20/30% uniform and
  class-conditional, training shares 100/50/25/10%, 3 repeats (33 fits).
- ``--setting cpu`` (the default without a GPU): the same code on a reduced grid,
  printed in full at the start: 1,000 training and 1,000 test images, 3 epochs,
  uniform noise 0/20% only, shares 100/50%, 1 repeat (3 fits), one torch thread.
  Its accuracies say nothing about the study's 89%; it shows the path runs end to end
  and what a fit costs on this machine.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, print_table
from labelwise.models import SmallCNNClassifier
from labelwise.scaling import noise_volume_study

SETTINGS = {
    "gpu": {
        "n_train": 20_000,
        "n_test": 10_000,
        "epochs": 30,
        "noise_levels": (0.0, 0.05, 0.1, 0.2, 0.3),
        "noise_kinds": ("uniform", "class_conditional"),
        "fractions": (1.0, 0.5, 0.25, 0.1),
        "repeats": 3,
        "device": "cuda",
    },
    "cpu": {
        "n_train": 1_000,
        "n_test": 1_000,
        "epochs": 3,
        "noise_levels": (0.0, 0.2),
        "noise_kinds": ("uniform",),
        "fractions": (1.0, 0.5),
        "repeats": 1,
        "device": "cpu",
    },
}


def default_data() -> Path:
    here = Path(__file__).resolve()
    for p in here.parents:
        cand = p / "shared" / "data" / "images" / "cifar10"
        if cand.is_dir():
            return cand
    raise SystemExit("CIFAR-10 folder (../shared/data/images/cifar10) not found")


def load_cifar10(root: Path, n_train: int, n_test: int):
    """(X_train, y_train, X_test, y_test): images flattened to (n, 32*32*3) in [0, 1]."""
    from PIL import Image

    labels = pd.read_csv(root / "labels.csv")
    out = []
    with zipfile.ZipFile(root / "cifar10_jpg.zip") as zf:
        for split, n in (("train", n_train), ("test", n_test)):
            rows = labels[labels["split"] == split].sort_values("index").head(n)
            decoded = [Image.open(io.BytesIO(zf.read(f))).convert("RGB") for f in rows["file"]]
            imgs = np.stack([np.asarray(im) for im in decoded])
            flat = imgs.reshape(len(rows), -1).astype(np.float32) / 255.0
            out += [flat, rows["label"].to_numpy()]
    return out


def main() -> None:
    import torch

    parser = argparse.ArgumentParser()
    parser.add_argument("--setting", choices=list(SETTINGS), default=None)
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    setting = args.setting or ("gpu" if torch.cuda.is_available() else "cpu")
    cfg = SETTINGS[setting]
    if setting == "cpu":
        torch.set_num_threads(1)
    print(f"machine: {machine()}; torch {torch.__version__}; setting {setting!r}")
    if setting == "cpu":
        full = SETTINGS["gpu"]
        print("reduced from the study's setting (GPU):")
        for key, value in cfg.items():
            if value != full[key]:
                print(f"  {key}: {value} instead of {full[key]}")
    start = time.perf_counter()
    Xtr, ytr, Xte, yte = load_cifar10(args.data or default_data(), cfg["n_train"], cfg["n_test"])
    print(f"loaded {len(ytr)} + {len(yte)} images in {time.perf_counter() - start:.0f} s")
    model = SmallCNNClassifier(epochs=cfg["epochs"], device=cfg["device"])
    study = noise_volume_study(
        model,
        Xtr,
        ytr,
        X_test=Xte,
        y_test=yte,
        noise_levels=cfg["noise_levels"],
        fractions=cfg["fractions"],
        noise_kinds=cfg["noise_kinds"],
        repeats=cfg["repeats"],
        random_state=0,
    )
    n_fits = cfg["repeats"] * (
        len(cfg["fractions"]) + len(cfg["noise_kinds"]) * (len(cfg["noise_levels"]) - 1)
    )
    print(
        f"\nstudy wall time {study.seconds:.0f} s for {n_fits} fits "
        f"({study.seconds / n_fits:.0f} s per fit), {study.n_train} training images"
    )
    print_table(study.summary(), f"SmallCNN on CIFAR-10 ({setting} setting): accuracy")
    print_table(study.impact(), "Impact: accuracy points lost per 10% of labels wrong or missing")


if __name__ == "__main__":
    main()
