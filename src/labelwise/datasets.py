"""The embedded default data and loaders for the real data sets beside the project.

``load_digits_crowd`` is the demo's default: scikit-learn's digits (it ships with
scikit-learn, so no download) labeled by a simulated crowd of mixed quality whose
mistakes follow the digits' real confusions (a 3 is taken for an 8 more often
than for a 1). The other loaders read the shared data folder (see
``shared_data_dir``) or Debian's Fashion-MNIST package; none downloads anything.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from labelwise._validation import check_random_state
from labelwise.annotations import Annotations, read_gold
from labelwise.errors import InputError
from labelwise.simulate import (
    adversary_confusion,
    confusion_from_accuracy,
    constant_confusion,
    simulate_annotations,
    spammer_confusion,
)

__all__ = [
    "FASHION_MNIST_DIR",
    "CrowdDataset",
    "load_crowd",
    "load_digits_crowd",
    "load_fashion_mnist",
    "load_text_embeddings",
    "shared_data_dir",
]

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")


@dataclass(frozen=True)
class CrowdDataset:
    """Crowd annotations with the truth, and item features when there are any.

    ``truth`` holds class codes aligned with ``annotations.item_ids`` (-1 unknown);
    ``X`` rows are aligned with ``annotations.item_ids`` too; ``worker_kind``
    names each simulated annotator's type (empty for real data).
    """

    name: str
    annotations: Annotations
    truth: NDArray[np.int32]
    X: NDArray[np.float64] | None = None
    worker_kind: NDArray[Any] | None = None
    images: NDArray[Any] | None = None


def shared_data_dir() -> Path:
    """The folder of real data sets: ``$LABELWISE_DATA``, else ``../shared/data`` from
    the working directory or from the source tree. Raises if none exists."""
    candidates = []
    if os.environ.get("LABELWISE_DATA"):
        candidates.append(Path(os.environ["LABELWISE_DATA"]))
    candidates.append(Path.cwd().parent / "shared" / "data")
    candidates.extend(p / "shared" / "data" for p in Path(__file__).resolve().parents)
    for c in candidates:
        if c.is_dir():
            return c
    raise InputError(
        "the shared data folder was not found; set LABELWISE_DATA to the folder that holds "
        "crowd/, images/ and text/."
    )


def _digit_confusability(X: NDArray[np.float64], y: NDArray[np.int64]) -> NDArray[np.float64]:
    """Relative confusability of the digit classes: the softmax of negative distances
    between class centroids, which puts 3 next to 8 and 9, and 0 far from 1."""
    k = int(y.max()) + 1
    cent = np.stack([X[y == c].mean(axis=0) for c in range(k)])
    d = np.sqrt(((cent[:, None, :] - cent[None, :, :]) ** 2).sum(-1))
    scale = np.median(d[d > 0]) / 4
    sim = np.exp(-d / scale)
    np.fill_diagonal(sim, 0.0)
    return sim


def load_digits_crowd(
    *, n_workers: int = 30, per_item: int = 3, random_state: Any = 0
) -> CrowdDataset:
    """scikit-learn's digits labeled by a simulated crowd of mixed quality.

    The pool (in proportion to ``n_workers``): half reliable (accuracy 0.75-0.95),
    a fifth sloppy (0.45-0.65), the rest uniform spammers, annotators who always
    answer the same digit, and one adversary; the mistakes of reliable and sloppy
    annotators follow the digits' real confusability. ``per_item`` distinct
    annotators label each of the 1,797 items. Same seed, same crowd.
    """
    from sklearn.datasets import load_digits

    rng = check_random_state(random_state)
    digits = load_digits()
    X = digits.data.astype(np.float64)
    y = digits.target.astype(np.int64)
    k = 10
    errors = _digit_confusability(X, y)
    n_good = max(1, n_workers // 2)
    n_sloppy = max(1, n_workers // 5)
    n_rest = max(0, n_workers - n_good - n_sloppy)
    n_adv = 1 if n_rest >= 3 else 0
    n_const = n_rest // 3
    n_spam = n_rest - n_adv - n_const
    confs: list[NDArray[np.float64]] = []
    kinds: list[str] = []
    for acc in rng.uniform(0.75, 0.95, n_good):
        confs.append(confusion_from_accuracy(float(acc), k, errors=errors))
        kinds.append("reliable")
    for acc in rng.uniform(0.45, 0.65, n_sloppy):
        confs.append(confusion_from_accuracy(float(acc), k, errors=errors))
        kinds.append("sloppy")
    for _ in range(n_spam):
        confs.append(spammer_confusion(k))
        kinds.append("spammer")
    for _ in range(n_const):
        confs.append(constant_confusion(k, int(rng.integers(k))))
        kinds.append("constant")
    for _ in range(n_adv):
        confs.append(adversary_confusion(k))
        kinds.append("adversary")
    order = rng.permutation(len(confs))
    conf_arr = np.stack(confs)[order]
    kind_arr = np.asarray(kinds, dtype=object)[order]
    ann = simulate_annotations(y, conf_arr, per_item=per_item, random_state=rng)
    worker_ids = np.asarray([f"w{i:02d}" for i in range(conf_arr.shape[0])], dtype=object)
    ann = Annotations(
        item=ann.item,
        worker=ann.worker,
        label=ann.label,
        item_ids=ann.item_ids,
        worker_ids=worker_ids,
        classes=ann.classes,
    )
    return CrowdDataset(
        name="digits-crowd",
        annotations=ann,
        truth=y.astype(np.int32),
        X=X,
        worker_kind=kind_arr,
        images=digits.images,
    )


def load_crowd(path: str | Path) -> CrowdDataset:
    """A real crowd data set: a folder with ``annotations.csv`` and ``gold.csv``.

    A bare name (``"labelme"``) is looked up under ``shared_data_dir()/crowd``.
    ``truth`` is -1 for items without gold.
    """
    p = Path(path)
    if not p.is_dir():
        p = shared_data_dir() / "crowd" / str(path)
    if not (p / "annotations.csv").exists():
        raise InputError(f"crowd data set {str(path)!r}: no annotations.csv in {str(p)!r}.")
    ann = Annotations.read(p / "annotations.csv")
    truth = np.full(ann.n_items, -1, dtype=np.int32)
    if (p / "gold.csv").exists():
        gold = read_gold(p / "gold.csv")
        gold = gold[gold["item"].astype(str).isin(pd.Index(ann.item_ids.astype(str)))]
        truth = ann.encode_gold(gold)
    return CrowdDataset(name=p.name, annotations=ann, truth=truth)


def _read_idx(path: Path) -> NDArray[np.uint8]:
    with gzip.open(path, "rb") as fh:
        data = fh.read()
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_fashion_mnist(
    split: str = "train", *, directory: str | Path = FASHION_MNIST_DIR
) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """Fashion-MNIST images (n, 28, 28) uint8 and labels, from Debian's package.

    Install it with ``apt-get install -y dataset-fashion-mnist``.
    """
    d = Path(directory)
    prefix = {"train": "train", "test": "t10k"}.get(split)
    if prefix is None:
        raise InputError(f"split must be 'train' or 'test'; got {split!r}.")
    img, lab = d / f"{prefix}-images-idx3-ubyte.gz", d / f"{prefix}-labels-idx1-ubyte.gz"
    if not img.exists():
        raise InputError(
            f"Fashion-MNIST not found in {str(d)!r}; install it with "
            "'apt-get install -y dataset-fashion-mnist'."
        )
    return _read_idx(img), _read_idx(lab).astype(np.int64)


def load_text_embeddings(
    name: str, split: str = "train"
) -> tuple[NDArray[np.float32], NDArray[Any], pd.DataFrame]:
    """Precomputed MiniLM sentence embeddings of a shared text set (ag_news, sst2, trec).

    Returns ``(embeddings as float32, labels, the CSV table)``.
    """
    d = shared_data_dir() / "text" / name
    csv, emb = d / f"{split}.csv", d / f"{split}.minilm.npy"
    if not csv.exists() or not emb.exists():
        raise InputError(f"text data set {name!r} split {split!r} not found in {str(d)!r}.")
    table = pd.read_csv(csv)
    X = np.load(emb).astype(np.float32)
    return X, table["label"].to_numpy(), table
