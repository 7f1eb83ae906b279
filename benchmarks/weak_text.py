"""Weak supervision on real text: labelwise's LabelModel vs majority vote of the functions
vs Snorkel 0.10's LabelModel on the same votes, and classifiers trained on the labels.

Functions per data set (AG News, TREC): the keyword/pattern functions of
``benchmarks/weak_lfs/<set>.py`` (written from general knowledge, not from the test
split) plus one nearest-centroid function per class from ``--shots`` labeled training
examples per class through the MiniLM embeddings (drawn anew for each seed). Both label
models are fitted on the training split's votes and predict the test split's votes.
The end classifier is a logistic regression (C=10) on the MiniLM embeddings of the
training split, trained on the label model's probabilistic labels of the covered items
(each item once per class, weighted by its probability), against the same model
trained on as many random gold labels, and on 500.

Run: OMP_NUM_THREADS=1 nice -n 10 .bench-venv/bin/python benchmarks/weak_text.py
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.linear_model import LogisticRegression

from _common import machine, print_table
from labelwise.weak import (
    LabelModel,
    apply_functions,
    function_summary,
    load_classes,
    load_functions,
    majority_vote,
    prototype_votes,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "text"
HERE = Path(__file__).resolve().parent


def soft_fit(x: np.ndarray, proba: np.ndarray, c: float = 10.0) -> LogisticRegression:
    """Logistic regression on probabilistic labels: each item once per class, weighted."""
    n, k = proba.shape
    xs = np.repeat(x, k, axis=0)
    ys = np.tile(np.arange(k), n)
    w = proba.ravel()
    keep = w > 1e-3
    return LogisticRegression(C=c, max_iter=2000).fit(xs[keep], ys[keep], sample_weight=w[keep])


def hard_fit(x: np.ndarray, y: np.ndarray, c: float = 10.0) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=2000).fit(x, y)


def snorkel_fit(l_train: np.ndarray, k: int, seed: int):
    from snorkel.labeling.model import LabelModel as SnorkelLabelModel

    model = SnorkelLabelModel(cardinality=k, verbose=False)
    model.fit(l_train, n_epochs=500, lr=0.01, log_freq=500, seed=seed, progress_bar=False)
    return model


def interval(diff: np.ndarray) -> str:
    if diff.shape[0] < 2:
        return f"{diff.mean():+.4f}"
    half = stats.t.ppf(0.975, diff.shape[0] - 1) * diff.std(ddof=1) / np.sqrt(diff.shape[0])
    return f"{diff.mean():+.4f} [{diff.mean() - half:+.4f}, {diff.mean() + half:+.4f}]"


def run(name: str, seeds: int, shots: int, margin: float) -> pd.DataFrame:
    lf_file = HERE / "weak_lfs" / f"{name}.py"
    fns, classes = load_functions(lf_file), load_classes(lf_file)
    train = pd.read_csv(DATA / name / "train.csv")
    test = pd.read_csv(DATA / name / "test.csv")
    xtr = np.load(DATA / name / "train.minilm.npy").astype(np.float32)
    xte = np.load(DATA / name / "test.minilm.npy").astype(np.float32)
    code = {c: j for j, c in enumerate(classes)}
    ytr = train["label"].map(code).to_numpy()
    yte = test["label"].map(code).to_numpy()
    t0 = time.perf_counter()
    kw_tr = apply_functions(train, fns, classes=classes)
    kw_te = apply_functions(test, fns, classes=classes)
    print(
        f"{name}: applied {len(fns)} functions to {len(train) + len(test):,} items in "
        f"{time.perf_counter() - t0:.1f} s"
    )
    summ = function_summary(kw_tr, gold=train["label"].to_numpy(dtype=object))
    print_table(
        summ[["function", "polarity", "coverage", "conflict", "accuracy"]],
        f"{name}: keyword/pattern functions on the training split (accuracy against its gold)",
    )
    rows = []
    k = len(classes)
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        ex = np.concatenate(
            [rng.choice(np.flatnonzero(ytr == j), shots, replace=False) for j in range(k)]
        )
        ex_labels = np.asarray(classes, dtype=object)[ytr[ex]]
        v_tr = kw_tr.hstack(
            prototype_votes(xtr, xtr[ex], ex_labels, classes=classes, margin=margin)
        )
        v_te = kw_te.hstack(
            prototype_votes(xte, xtr[ex], ex_labels, classes=classes, margin=margin)
        )
        cov_te = (v_te.codes >= 0).any(axis=1)
        t = time.perf_counter()
        lm = LabelModel().fit(v_tr)
        t_lw = time.perf_counter() - t
        p_lw_te = lm.predict_proba(v_te)
        t = time.perf_counter()
        sn = snorkel_fit(v_tr.codes, k, seed)
        t_sn = time.perf_counter() - t
        p_sn_te = sn.predict_proba(v_te.codes)
        mv_te = majority_vote(v_te, random_state=seed)
        covered = lm.covered_
        clf_lw = soft_fit(xtr[covered], lm.proba_[covered])
        p_sn_tr = sn.predict_proba(v_tr.codes)
        clf_sn = soft_fit(xtr[covered], p_sn_tr[covered])
        n_weak = int(covered.sum())
        gold_n = rng.choice(len(train), n_weak, replace=False)
        gold_500 = rng.choice(len(train), 500, replace=False)
        rows.append(
            {
                "seed": seed,
                "covered (test)": cov_te.mean(),
                "labelwise LM": (p_lw_te.argmax(1) == yte).mean(),
                "Snorkel LM": (p_sn_te.argmax(1) == yte).mean(),
                "MV of functions": (mv_te == yte).mean(),
                "labelwise LM (covered)": (p_lw_te.argmax(1) == yte)[cov_te].mean(),
                "Snorkel LM (covered)": (p_sn_te.argmax(1) == yte)[cov_te].mean(),
                "MV (covered)": (mv_te == yte)[cov_te].mean(),
                "clf on labelwise labels": (clf_lw.predict(xte) == yte).mean(),
                "clf on Snorkel labels": (clf_sn.predict(xte) == yte).mean(),
                "n weak labels": n_weak,
                "clf on as many gold": (
                    hard_fit(xtr[gold_n], ytr[gold_n]).predict(xte) == yte
                ).mean(),
                "clf on 500 gold": (
                    hard_fit(xtr[gold_500], ytr[gold_500]).predict(xte) == yte
                ).mean(),
                "fit s labelwise": t_lw,
                "fit s Snorkel": t_sn,
            }
        )
    frame = pd.DataFrame(rows)
    print_table(
        frame, f"{name}: per seed ({shots} labeled examples per class for the centroid functions)"
    )
    mean = frame.drop(columns="seed").mean()
    ratio = frame["fit s Snorkel"].median() / frame["fit s labelwise"].median()
    summary = pd.DataFrame(
        {
            "measure": [
                "label model accuracy (test, all items)",
                "label model accuracy (test, covered items)",
                "classifier on probabilistic labels",
                "fit seconds (median)",
            ],
            "labelwise": [
                mean["labelwise LM"],
                mean["labelwise LM (covered)"],
                mean["clf on labelwise labels"],
                frame["fit s labelwise"].median(),
            ],
            "Snorkel 0.10": [
                mean["Snorkel LM"],
                mean["Snorkel LM (covered)"],
                mean["clf on Snorkel labels"],
                frame["fit s Snorkel"].median(),
            ],
            "MV of functions": [mean["MV of functions"], mean["MV (covered)"], np.nan, np.nan],
            "labelwise - Snorkel (95% CI over seeds)": [
                interval((frame["labelwise LM"] - frame["Snorkel LM"]).to_numpy()),
                interval(
                    (frame["labelwise LM (covered)"] - frame["Snorkel LM (covered)"]).to_numpy()
                ),
                interval(
                    (frame["clf on labelwise labels"] - frame["clf on Snorkel labels"]).to_numpy()
                ),
                f"speed ratio {ratio:.1f}x",
            ],
        }
    )
    print_table(summary, f"{name}: mean over {seeds} seeds")
    print(
        f"{name}: classifier on {mean['n weak labels']:.0f} probabilistic labels "
        f"{mean['clf on labelwise labels']:.4f} vs on as many gold "
        f"{mean['clf on as many gold']:.4f} "
        f"vs on 500 gold {mean['clf on 500 gold']:.4f}; label model vs 500 gold: "
        f"{mean['labelwise LM'] - mean['clf on 500 gold']:+.4f}"
    )
    return frame


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sets", default="ag_news,trec")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--shots", type=int, default=8)
    ap.add_argument("--margin", type=float, default=0.05)
    args = ap.parse_args()
    warnings.filterwarnings("ignore", category=FutureWarning)
    logging.disable(logging.WARNING)
    print(f"machine: {machine()}")
    for name in args.sets.split(","):
        run(name, args.seeds, args.shots, args.margin)


if __name__ == "__main__":
    main()
