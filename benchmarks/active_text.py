"""Labels to reach full-label accuracy minus 1 point: margin top-k against cluster-aware
strategies, paired over seeds, on text (MiniLM embeddings) and images.

Every arm starts from 20 labels and buys batches of 20 up to 3,000 labels; the model is
LogisticRegression(C=10) for text (C=1 for images), warm-started between rounds, on
float32 features. The target is the test accuracy of the same model on the whole pool
minus 1 point. A seed fixes the random start of margin top-k and the k-means draws of
the other arms. Arms:

- ``margin top-k``: 20 random labels, then the 20 smallest margins
  (``ActiveLearner(strategy="margin", self_training=None)``);
- ``default``: ``ActiveLearner()``'s defaults: margin top-k on the self-training arm
  (pseudo-labels at 0.9, none, 0.7, every row) whose model predicted the batches bought
  since best (``self_training="auto"``, :mod:`labelwise.active.prequential`);
- ``margin + self-training 0.9`` (the previous default), ``margin + graph pseudo-labels``,
  and any ``--custom NAME=JSON`` arm of ``ActiveLearner`` options;
- ``typiclust + margin``: a typical-cluster cold start (:func:`typical_clusters`), then
  margin top-k;
- ``typiclust + cluster-margin``: the same start, then :func:`cluster_margin` batches
  (200 lowest-margin candidates round-robin over 50 k-means clusters of the pool).

Reported: median labels per arm, the ratio of medians to margin top-k with a paired
bootstrap 95% interval (seeds resampled together), and wins/ties/losses per seed. A run
that never reaches the target counts as 3,000 (shown as ">=").

Run: nice -n 10 .venv/bin/python benchmarks/active_text.py --only trec --seeds 20
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from _common import machine, print_table  # noqa: E402
from labelwise.active import ActiveLearner  # noqa: E402
from labelwise.active.clusters import cluster_margin, pool_clusters, typical_clusters  # noqa: E402
from labelwise.active.strategies import margin  # noqa: E402
from labelwise.datasets import load_text_embeddings  # noqa: E402

START, BATCH, BUDGET = 20, 20, 3000
FASHION_POOL = 10_000


def _text(name: str) -> tuple[np.ndarray, ...]:
    Xp, yp, _ = load_text_embeddings(name, "train")
    Xt, yt, _ = load_text_embeddings(name, "test")
    classes = np.unique(yp)  # class names -> codes 0..K-1 (ActiveLearner takes integers)
    return Xp, np.searchsorted(classes, yp), Xt, np.searchsorted(classes, yt), 10.0


def _digits() -> tuple[np.ndarray, ...]:
    X, y = load_digits(return_X_y=True)
    Xp, Xt, yp, yt = train_test_split(
        (X / 16.0).astype(np.float32), y, test_size=0.3, random_state=0, stratify=y
    )
    return Xp, yp, Xt, yt, 1.0


def _fashion() -> tuple[np.ndarray, ...]:
    from sklearn.decomposition import PCA

    from labelwise.datasets import load_fashion_mnist

    Xtr, ytr = load_fashion_mnist("train")
    Xte, yte = load_fashion_mnist("test")
    A, B = Xtr.reshape(len(Xtr), -1) / 255.0, Xte.reshape(len(Xte), -1) / 255.0
    pca = PCA(50, random_state=0).fit(A[::3])
    Za, Zb = pca.transform(A), pca.transform(B)
    sd = Za.std(axis=0)
    # a 10,000-image pool keeps each round cheap on two shared cores
    pick = np.random.default_rng(0).choice(len(Za), FASHION_POOL, replace=False)
    return (Za[pick] / sd).astype(np.float32), ytr[pick], (Zb / sd).astype(np.float32), yte, 1.0


DATASETS: dict[str, Callable[[], tuple[np.ndarray, ...]]] = {
    "ag_news": lambda: _text("ag_news"),
    "trec": lambda: _text("trec"),
    "sst2": lambda: _text("sst2"),
    "digits": _digits,
    "fashion": _fashion,
}


def _model(C: float) -> LogisticRegression:
    return LogisticRegression(C=C, max_iter=300, warm_start=True)


#: Learner options per arm; ``None`` marks the older hand-written loops kept for comparison.
LEARNER_ARMS: dict[str, dict[str, object]] = {
    "margin top-k": {"strategy": "margin", "self_training": None},
    "default": {},
    "margin + self-training 0.9": {"strategy": "margin", "self_training": 0.9},
    "margin + graph pseudo-labels": {
        "strategy": "margin",
        "self_training": 0.9,
        "pseudo_labels": "agree",
    },
}


def run_learner(
    options: dict[str, object], data: tuple[np.ndarray, ...], target: float, seed: int
) -> int:
    """Labels at which ``ActiveLearner(**options)``'s model first reaches ``target``."""
    Xp, yp, Xt, yt, C = data
    rng = np.random.default_rng(seed)
    known = np.full(len(yp), -1)
    first = rng.choice(len(yp), START, replace=False)
    known[first] = yp[first]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        al = ActiveLearner(_model(C), batch_size=BATCH, random_state=seed, **options)  # type: ignore[arg-type]
        al.fit(Xp, known)
        while True:
            n = len(al.labeled_)
            if al.is_trained_ and (al.estimator_.predict(Xt) == yt).mean() >= target:
                return n
            if n >= BUDGET:
                return BUDGET
            ids = al.query()
            al.teach(ids, yp[ids])


def run_arm(arm: str, data: tuple[np.ndarray, ...], target: float, seed: int) -> int:
    """Labels at which the test accuracy first reaches ``target`` (BUDGET if never)."""
    if arm in LEARNER_ARMS:
        return run_learner(LEARNER_ARMS[arm], data, target, seed)
    Xp, yp, Xt, yt, C = data
    rng = np.random.default_rng(seed)
    labeled = typical_clusters(Xp, START, random_state=seed)
    clusters = pool_clusters(Xp, 50, random_state=seed) if "cluster-margin" in arm else None
    mask = np.zeros(len(yp), dtype=bool)
    mask[labeled] = True
    model = _model(C)
    while True:
        if len(np.unique(yp[mask])) < 2:  # one class only: no model yet, add random items
            extra = rng.choice(np.flatnonzero(~mask), BATCH, replace=False)
            mask[extra] = True
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            if hasattr(model, "classes_") and len(model.classes_) != len(np.unique(yp[mask])):
                model = _model(C)  # a new class appeared: warm start cannot carry over
            model.fit(Xp[mask], yp[mask])
        if (model.predict(Xt) == yt).mean() >= target:
            return int(mask.sum())
        if mask.sum() >= BUDGET:
            return BUDGET
        pool = np.flatnonzero(~mask)
        scores = margin(model.predict_proba(Xp[pool]))
        if clusters is None:
            pick = pool[np.argsort(-scores, kind="stable")[:BATCH]]
        else:
            pick = pool[cluster_margin(scores, clusters[pool], BATCH)]
        mask[pick] = True


def paired(base: np.ndarray, other: np.ndarray, rng: np.random.Generator) -> tuple[float, ...]:
    """Ratio of medians (other / base) and its paired bootstrap 95% interval."""
    idx = rng.integers(0, len(base), size=(2000, len(base)))
    ratios = np.median(other[idx], axis=1) / np.median(base[idx], axis=1)
    lo, hi = np.quantile(ratios, [0.025, 0.975])
    return float(np.median(other) / np.median(base)), float(lo), float(hi)


ARMS = ("margin top-k", "default")
OTHER_ARMS = ("typiclust + margin", "typiclust + cluster-margin")


def main() -> None:
    global BUDGET
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="trec", help="comma-separated data sets")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument(
        "--first-seed", type=int, default=0, help="seeds first-seed .. first-seed+seeds-1"
    )
    parser.add_argument(
        "--arms",
        default=",".join(ARMS),
        help=f"comma-separated arms among {', '.join([*LEARNER_ARMS, *OTHER_ARMS])}",
    )
    parser.add_argument("--budget", type=int, default=BUDGET, help="labels at most per run")
    parser.add_argument(
        "--custom",
        action="append",
        default=[],
        metavar="NAME=JSON",
        help="an extra arm: ActiveLearner options as JSON, e.g. 'st0.7={\"self_training\": 0.7}'",
    )
    args = parser.parse_args()
    for spec in args.custom:
        arm_name, _, options = spec.partition("=")
        LEARNER_ARMS[arm_name] = json.loads(options)
    BUDGET = args.budget
    arms = [a for a in args.arms.split(",") if a]
    if arms[0] != "margin top-k":
        parser.error("the first arm must be 'margin top-k' (the baseline)")
    print(machine(), flush=True)
    summary = []
    for name in args.only.split(","):
        start = time.perf_counter()
        data = DATASETS[name]()
        Xp, yp, Xt, yt, C = data
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            full = float((_model(C).fit(Xp, yp).predict(Xt) == yt).mean())
        target = full - 0.01
        labels = {arm: np.empty(args.seeds) for arm in arms}
        for k, seed in enumerate(range(args.first_seed, args.first_seed + args.seeds)):
            for arm in arms:
                labels[arm][k] = run_arm(arm, data, target, seed)
            print(
                f"{name} seed {seed}: " + ", ".join(f"{a} {int(v[k])}" for a, v in labels.items()),
                flush=True,
            )
        rng = np.random.default_rng(0)
        base = labels["margin top-k"]
        for arm in arms:
            ratio, lo, hi = paired(base, labels[arm], rng)
            v = labels[arm]
            summary.append(
                {
                    "data set": name,
                    "pool": len(yp),
                    "target": round(target, 4),
                    "seeds": args.seeds,
                    "arm": arm,
                    "median labels": float(np.median(v)),
                    "min-max": f"{int(v.min())}-{int(v.max())}",
                    "never reached": int((v >= BUDGET).sum()),
                    "ratio to margin": round(ratio, 3),
                    "95% interval": f"[{lo:.3f}, {hi:.3f}]",
                    "wins/ties/losses": f"{int((v < base).sum())}/{int((v == base).sum())}/"
                    f"{int((v > base).sum())}",
                }
            )
        print(f"{name}: {time.perf_counter() - start:.0f} s", flush=True)
    print_table(pd.DataFrame(summary), "Labels to reach full-pool accuracy - 1 point")


if __name__ == "__main__":
    main()
