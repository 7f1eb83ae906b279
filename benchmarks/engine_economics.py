"""Label economics: money to reach 95% of the model's all-clean-labels accuracy.

Four ways to buy labels, all run by the same loop (:class:`labelwise.engine.DataEngine`)
with the same model, pool, held-out set and oracle, one answer costing 1:

(a) random items, 3 answers each, majority vote (common practice);
(b) random items, 1 answer each;
(c) active learning (margin), 3 answers each, majority vote;
(d) the engine (defaults): active learning, one answer per item and more only
    where the model and the crowd disagree (``routing="disagreement"``), Dawid-Skene
    with the model's out-of-fold predictions as prior, confidence weights, audit.

Oracles: a simulated crowd fitted from a real crowd (digits, Fashion-MNIST, text
sets), or the real LabelMe answers replayed (``labelme-replay``: each request
served by a recorded answer not yet used; no answer left = no more for that item;
scene features of ``labelme_features.py``; ``labelme-replay-pixels``: the cruder
pixel features of the previous round).
Money to target is read off the per-round held-out accuracy, linear between rounds.

Also: a budget too small for the target must be detected (decision "budget cannot
reach target") before half of it is spent, and one large enough must not be stopped:
checked with half / twice the engine's median money to target and with half / twice
each seed's own money to target (its run with an unlimited budget), see
``_budget_checks``.

Usage::

    python benchmarks/engine_economics.py --sets digits --seeds 5
    python benchmarks/engine_economics.py --sets sst2,trec,ag_news --seeds 5
    python benchmarks/engine_economics.py --sets sst2 --seeds 10 \
        --variants '{"pull 0.05": {"disagreement": 0.05}, "dynamic": {"routing": "dynamic"}}'
"""

from __future__ import annotations

import argparse
import json
import math
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from _common import machine, print_table
from labelwise.annotations import Annotations
from labelwise.datasets import load_crowd, load_fashion_mnist, load_text_embeddings
from labelwise.engine import (
    DataEngine,
    EngineConfig,
    ReplayedCrowdOracle,
    SimulatedCrowdOracle,
    TargetUnreachableError,
)
from labelwise.engine.crowds import crowd_pool

STOPS = ("budget cannot reach target", "target unreachable")
BASELINE = dict(model_prior=False, audit_threshold=0.0, confidence_weights=False, aggregator="mv")
ARMS: dict[str, dict[str, Any]] = {
    "(a) random, 3 answers, MV": dict(strategy="random", routing="fixed", overlap=3, **BASELINE),
    "(b) random, 1 answer": dict(strategy="random", routing="fixed", overlap=1, **BASELINE),
    "(c) active, 3 answers, MV": dict(strategy="margin", routing="fixed", overlap=3, **BASELINE),
    "(d) engine": dict(),
}


@dataclass
class Bed:
    name: str
    X: np.ndarray
    y: np.ndarray
    Xt: np.ndarray
    yt: np.ndarray
    estimator: Any
    oracle: Any  # seed -> Oracle
    source: str
    batch: int


def _split(X: np.ndarray, y: np.ndarray, n_pool: int, n_test: int, seed: int = 0) -> tuple:
    order = np.random.default_rng(seed).permutation(len(y))
    return (
        X[order[:n_pool]],
        y[order[:n_pool]],
        X[order[n_pool : n_pool + n_test]],
        y[order[n_pool : n_pool + n_test]],
    )


def _crowd_oracle(y: np.ndarray, crowd: str, k: int) -> Any:
    c = load_crowd(crowd)

    def make(seed: int) -> Any:
        pool = crowd_pool(c.annotations, k, 50, truth=c.truth, random_state=seed)
        return SimulatedCrowdOracle(y, pool)

    return make


def bed(name: str, n_pool: int) -> Bed:
    lr = LogisticRegression(max_iter=1000)
    if name == "digits":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        Xp, yp, Xt, yt = _split(X / 16.0, y, min(n_pool, 1400), 397)
        return Bed(name, Xp, yp, Xt, yt, lr, _crowd_oracle(yp, "labelme", 10),
                   "simulated crowd fitted from LabelMe (accuracies)", 20)  # fmt: skip
    if name == "fashion":
        Xa, ya = load_fashion_mnist("train")
        Xb, yb = load_fashion_mnist("test")
        rng = np.random.default_rng(0)
        ia = rng.choice(len(ya), n_pool, replace=False)
        ib = rng.choice(len(yb), 2000, replace=False)
        pca = PCA(50, random_state=0).fit(Xa[ia].reshape(len(ia), -1) / 255.0)
        Xp = pca.transform(Xa[ia].reshape(len(ia), -1) / 255.0)
        Xt = pca.transform(Xb[ib].reshape(len(ib), -1) / 255.0)
        est = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=1000))
        yp, yt = ya[ia].astype(np.int64), yb[ib].astype(np.int64)
        return Bed("fashion-mnist", Xp, yp, Xt, yt, est, _crowd_oracle(yp, "labelme", 10),
                   "simulated crowd fitted from LabelMe (accuracies)", 40)  # fmt: skip
    if name in ("sst2", "trec", "ag_news"):
        X, lab, _ = load_text_embeddings(name, "train")
        Xt_all, lab_t, _ = load_text_embeddings(name, "test")
        classes, y = np.unique(lab.astype(str), return_inverse=True)
        yt_all = np.searchsorted(classes, lab_t.astype(str))
        rng = np.random.default_rng(0)
        ia = rng.choice(len(y), min(n_pool, len(y)), replace=False)
        ib = rng.choice(len(yt_all), min(2000, len(yt_all)), replace=False)
        crowd = {"sst2": "sentiment_polarity", "trec": "rte", "ag_news": "rte"}[name]
        how = "confusions" if name == "sst2" else "accuracies"
        est = LogisticRegression(C=10.0, max_iter=1000)
        yp = y[ia].astype(np.int64)
        return Bed(name, X[ia].astype(np.float64), yp, Xt_all[ib].astype(np.float64),
                   yt_all[ib].astype(np.int64), est, _crowd_oracle(yp, crowd, len(classes)),
                   f"simulated crowd fitted from {crowd} ({how})", 40)  # fmt: skip
    if name in ("labelme-replay", "labelme-replay-pixels"):
        from labelme_features import scene_features
        from routing import pixel_features

        c = load_crowd("labelme")
        ann = c.annotations
        X = (
            pixel_features("labelme", ann.item_ids)
            if name == "labelme-replay-pixels"
            else scene_features(ann.item_ids)
        )
        order = np.random.default_rng(0).permutation(ann.n_items)
        test, pool = order[:200], np.sort(order[200:])
        remap = np.full(ann.n_items, -1)
        remap[pool] = np.arange(pool.size)
        keep = remap[ann.item] >= 0
        sub = Annotations.from_codes(
            remap[ann.item[keep]], ann.worker[keep], ann.label[keep],
            n_items=pool.size, n_workers=ann.n_workers, n_classes=ann.n_classes,
        )  # fmt: skip
        est = make_pipeline(StandardScaler(), LogisticRegression(C=0.03, max_iter=2000))
        return Bed(
            name, X[pool], c.truth[pool].astype(np.int64), X[test],
            c.truth[test].astype(np.int64), est,
            lambda seed: ReplayedCrowdOracle(sub, random_state=seed),
            "replay of LabelMe's real answers" + (", pixel features" if X.shape[1] < 300 else
                                                   ", scene features"), 20,
        )  # fmt: skip
    raise SystemExit(f"unknown set {name}")


def run_arm(b: Bed, arm: dict[str, Any], target: float, budget: float, seed: int) -> Any:
    cfg = EngineConfig(
        budget=budget, target_accuracy=target, batch_size=b.batch, growth=0.15,
        min_forecast_rounds=1000, random_state=seed, **arm,
    )  # fmt: skip
    return DataEngine(b.estimator, cfg).run(b.X, b.oracle(seed), X_test=b.Xt, y_test=b.yt)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default="digits")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--pool", type=int, default=3000, help="pool subsample (large sets)")
    ap.add_argument(
        "--budget-only", type=float, default=None,
        help="skip the four arms; run the budget checks around this engine money",
    )  # fmt: skip
    ap.add_argument(
        "--variants", default=None,
        help='JSON {"name": {EngineConfig overrides}}: run only the engine arm with each, '
        "print money to target per seed (routing / self-training comparisons)",
    )  # fmt: skip
    ap.add_argument("--no-budget-checks", action="store_true", help="only the four arms")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    print(f"machine: {machine()}")
    for name in args.sets.split(","):
        t0 = time.perf_counter()
        b = bed(name, args.pool)
        from sklearn.base import clone

        full = float((clone(b.estimator).fit(b.X, b.y).predict(b.Xt) == b.yt).mean())
        target = 0.95 * full
        budget = 3.0 * len(b.y)
        rows, money = [], {}
        if args.budget_only is not None:
            _budget_checks(b, target, args.budget_only, args.seeds)
            continue
        if args.variants is not None:
            _variants(b, target, budget, args.seeds, json.loads(args.variants))
            continue
        for arm_name, arm in ARMS.items():
            vals = []
            for seed in range(args.seeds):
                res = run_arm(b, arm, target, budget, seed)
                vals.append(res.money_to_reach(target))
            money[arm_name] = np.asarray(vals)
        ref = money["(a) random, 3 answers, MV"]
        best_bc = np.minimum(np.median(money["(b) random, 1 answer"]),
                             np.median(money["(c) active, 3 answers, MV"]))  # fmt: skip
        for arm_name, v in money.items():
            ratio = v / ref
            rows.append({
                "strategy": arm_name,
                "median money": float(np.median(v)),
                "min-max": f"{np.min(v):.0f}-{np.max(v):.0f}",
                "reached": f"{int(np.isfinite(v).sum())}/{len(v)}",
                "ratio to (a), median of paired": float(np.median(ratio)),
                "paired ratio min-max": f"{np.min(ratio):.2f}-{np.max(ratio):.2f}",
            })  # fmt: skip
        d = np.median(money["(d) engine"])
        print_table(
            pd.DataFrame(rows),
            f"{b.name}: pool {len(b.y)}, held out {len(b.yt)}, oracle: {b.source}; "
            f"all-clean accuracy {full:.4f}, target {target:.4f}; {args.seeds} seeds; "
            f"(d)/(a) {d / np.median(ref):.2f} (goal <= 0.33), (d) vs best of (b),(c) "
            f"{d:.0f} vs {best_bc:.0f} ({time.perf_counter() - t0:.0f} s)",
        )
        if math.isfinite(d) and not args.no_budget_checks:
            _budget_checks(b, target, d, args.seeds)


def _variants(b: Bed, target: float, budget: float, seeds: int, variants: dict) -> None:
    """The engine arm with config overrides: money to target per seed, answers per item."""
    print(f"{b.name}: target {target:.4f}, {seeds} seeds", flush=True)
    for name, over in variants.items():
        t0 = time.perf_counter()
        money, per_item = [], []
        for seed in range(seeds):
            res = run_arm(b, over, target, budget, seed)
            money.append(res.money_to_reach(target))
            h = res.history
            per_item.append(h["answers"].iloc[-1] / max(h["items"].iloc[-1], 1))
        print(
            f"{name:24s} median {np.median(money):8.1f}  per seed "
            f"{[round(m) for m in money]}  answers per item {np.round(per_item, 2).tolist()} "
            f"({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )


def _check_config(budget: float, target: float, seed: int, forecast: bool = True) -> EngineConfig:
    return EngineConfig(
        budget=budget, target_accuracy=target, batch_size=5, growth=0.15,
        min_forecast_rounds=4 if forecast else 1000, random_state=seed,
    )  # fmt: skip


def _run_check(b: Bed, cfg: EngineConfig, seed: int) -> tuple[str, float, float]:
    """(stop reason, money spent, accuracy at the end) of one budget-check run."""
    try:
        res = DataEngine(b.estimator, cfg).run(b.X, b.oracle(seed), X_test=b.Xt, y_test=b.yt)
    except TargetUnreachableError as exc:
        res = exc.result
    return res.stop_reason, res.money, res.accuracy


def _budget_checks(b: Bed, target: float, d: float, seeds: int) -> None:
    """Budgets too small for the target must be stopped before half of them is spent;
    budgets large enough must not be stopped (no false alarm). Two definitions:

    * ``median``: half / twice the engine's median money to target (the first
      rounds' check; with seeds that spread 2x, half the median is not short for
      every seed);
    * ``own``: half / twice what the *same seed's* run with an unlimited budget
      needed (rounds of 5 items, no forecast stop): a run buys the same items
      whatever its budget until the budget binds, so half of its own money to
      target is a budget that cannot reach the target in that seed.

    For the median definition each seed's unlimited run also says whether the budget
    was really short (``own need``)."""
    own = []
    for seed in range(seeds):
        cfg = _check_config(3.0 * len(b.y), target, seed, forecast=False)
        res = DataEngine(b.estimator, cfg).run(b.X, b.oracle(seed), X_test=b.Xt, y_test=b.yt)
        own.append(res.money_to_reach(target))
    print(f"{b.name}: each seed's money to target, rounds of 5, no forecast stop: "
          + ", ".join(f"{m:.0f}" for m in own), flush=True)  # fmt: skip
    for label, factor in (("median", 0.5), ("own", 0.5), ("median", 2.0), ("own", 2.0)):
        out = []
        for seed in range(seeds):
            need = own[seed]
            budget_x = factor * (d if label == "median" else need)
            if not math.isfinite(budget_x):
                out.append(("no target in the unlimited run", math.nan, math.nan, need, budget_x))
                continue
            reason, spent, acc = _run_check(b, _check_config(budget_x, target, seed), seed)
            out.append((reason, spent / budget_x, acc, need, budget_x))
        if factor < 1:
            short = [o for o in out if o[3] > o[4]]
            stopped = sum(1 for o in short if o[0] in STOPS and o[1] <= 0.5)
            verdict = (f"stopped as unable before half spent in {stopped}/{len(short)} seeds "
                       f"whose own need is above the budget ({len(out) - len(short)} of "
                       f"{len(out)} seeds need less)")  # fmt: skip
        else:
            fair = [o for o in out if o[3] <= o[4]]
            false = sum(1 for o in fair if o[0] in STOPS)
            verdict = f"false stops {false}/{len(fair)} seeds whose own need is within the budget"
        what = "the engine's median" if label == "median" else "each seed's own need"
        print(
            f"{b.name}: budget {factor:g} x {what}: {verdict}; "
            + "; ".join(f"{r} at {f:.0%} of {bx:.0f} (acc {a:.3f}, own need {n:.0f})"
                        for r, f, a, n, bx in out),
            flush=True,
        )  # fmt: skip


if __name__ == "__main__":
    main()
