"""The model as a per-item prior inside the EM, on LabelMe's real answers and images.

Features: the pixel features of ``benchmarks/routing.py`` (each 64 x 64 image averaged
down to 8 x 8 x 3 plus an 8-bin histogram per channel). Model: standardised logistic
regression (C=0.03). The model's out-of-fold probabilities (5 folds, trained on the
Dawid-Skene consensus) are the same for every method below:

- majority vote, Dawid-Skene: the answers alone;
- CROWDLAB (cleanlab 2.9 ``get_label_quality_multiannotator``, consensus label) and
  labelwise's ``curate.consensus_quality`` (suggested label): the model re-weighs;
- ``DawidSkene().fit(ann, prior=oof)`` and the other EM models: the model inside the EM;
- ``fit_with_model(..., n_rounds=2)``: the model retrained on the consensus with the
  prior (soft labels), its out-of-fold predictions fed back, twice.

Accuracy against LabelMe's gold labels, over 5 fold seeds (median, min-max).

Run with the peer venv::

    .bench-venv/bin/python benchmarks/engine_prior_labelme.py
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from _common import machine, print_table
from labelme_features import scene_features
from labelwise.aggregate import (
    GLAD,
    MACE,
    DawidSkene,
    MajorityVote,
    OneCoinDawidSkene,
    fit_with_model,
    out_of_fold_proba,
)
from labelwise.curate import consensus_quality
from labelwise.datasets import load_crowd
from routing import pixel_features


def crowdlab(ann, proba: np.ndarray) -> np.ndarray | None:
    try:
        from cleanlab.multiannotator import get_label_quality_multiannotator
    except ImportError:
        return None
    wide = np.full((ann.n_items, ann.n_workers), np.nan)
    wide[ann.item, ann.worker] = ann.label
    out = get_label_quality_multiannotator(pd.DataFrame(wide), proba, verbose=False)
    return out["label_quality"]["consensus_label"].to_numpy()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--features", choices=("pixel", "scene"), default="pixel")
    ap.add_argument("--rounds", type=int, default=2, help="fit_with_model alternations")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    print(f"machine: {machine()}")
    c = load_crowd("labelme")
    ann, truth = c.annotations, c.truth
    if args.features == "pixel":
        X = pixel_features("labelme", ann.item_ids)
    else:
        X = scene_features(ann.item_ids)
    known = truth >= 0
    est = make_pipeline(StandardScaler(), LogisticRegression(C=0.03, max_iter=3000))

    def acc(codes: np.ndarray) -> float:
        return float((np.asarray(codes)[known] == truth[known]).mean())

    ds = DawidSkene().fit(ann)
    results: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        results.setdefault(name, []).append(value)

    for seed in range(5):
        oof = out_of_fold_proba(est, X, ds.proba_, soft=False, random_state=seed)
        add("majority vote (answers only)", acc(MajorityVote().fit(ann).label_codes_))
        add("Dawid-Skene (answers only)", acc(ds.label_codes_))
        add("model alone (out of fold)", acc(oof.argmax(axis=1)))
        cl = crowdlab(ann, oof)
        if cl is not None:
            add("CROWDLAB (cleanlab 2.9)", acc(cl))
        add("curate.consensus_quality (suggested)", acc(consensus_quality(ann, oof).suggested))
        for cls in (DawidSkene, OneCoinDawidSkene, GLAD, MACE):
            add(f"{cls.__name__}(prior=oof)", acc(cls().fit(ann, prior=oof).label_codes_))
        for cls in (DawidSkene, MACE):
            res = fit_with_model(cls(), ann, X, est, n_rounds=args.rounds, random_state=seed)
            add(f"fit_with_model({cls.__name__}, {args.rounds} rounds)", acc(res.history[-1]))
    base = np.median(results.get("CROWDLAB (cleanlab 2.9)", [np.nan]))
    rows = [
        {"method": k, "accuracy (median)": float(np.median(v)),
         "min-max": f"{min(v):.3f}-{max(v):.3f}",
         "points vs CROWDLAB": 100 * (float(np.median(v)) - base),
         "seeds >= 0.824": f"{sum(x >= 0.824 for x in v)}/{len(v)}"}
        for k, v in results.items()
    ]  # fmt: skip
    print_table(
        pd.DataFrame(rows),
        f"LabelMe: {ann.n_items} items, {ann.n_annotations} real answers, {args.features} "
        "features; "
        "5 fold seeds (goal >= 0.824)",
    )


if __name__ == "__main__":
    main()
