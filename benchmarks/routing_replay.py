"""Does a pool fitted from a real crowd predict what replaying that crowd gives?

For each dense real crowd in ../shared/data/crowd/: the items are split in two halves
(per seed). A pool is fitted on half A and run through ``run_campaign`` on half B's
true classes; half B's real recorded answers are replayed (:class:`ReplayOracle`)
with the same policy. The accuracy-against-answers-per-item curves are compared at
whole answers per item (means over seeds, at the levels every seed reaches), for:

- ``sim (independent)``: the simulator as before issue 12: the Dawid-Skene
  confusions of A's annotators against the gold (``pool_from_annotations(truth=)``),
  answers independent given the true class;
- ``sim (shared errors)``: what the simulator lacked: on real crowds the annotators
  agree in their errors (an item *looks like* another class to most of them). Each
  B item is drawn an apparent class from the matrix ``M[true, apparent]`` measured on
  A (Dawid-Skene's consensus on all of A's answers against A's gold); the pool is the
  confusions of A's annotators against that consensus (their errors around what the
  item looks like), and answers come from the apparent class
  (``run_campaign(answer_as=)``);
- ``sim (item profiles)``: :func:`profiles_from_annotations` fitted on A (gold of A,
  consensus where none): each B item of true class t copies the answer profile of an
  A item of class t drawn at random (its recorded answers by the annotators who gave
  them), served by a :class:`ReplayOracle` over the simulated crowd;
- ``sim (profiles, drawn)``: the same profiles, but every answer drawn (profile x
  annotator skill, annotators drawn by share, ``recorded=False``);
- ``sim (profiles, replace)``: round 2's item profiles, each B item drawing an A
  profile of its class independently (``replace=True``: some A items twice, some not
  at all); ``sim (item profiles)`` now deals A's profiles of each class out without
  replacement (the default since round 3);
- ``replay (half A)``: not a simulator: half A's own real answers replayed on A's
  items. No simulator fitted on A can be expected to come closer to B's replay than
  A's own replay does: this row is the noise floor of the comparison;
- ``replay``: B's real answers.

Reported: the largest absolute gap between a simulated and the replayed curve over the
answer levels both reach, in points, per set and policy (also from 2 answers per item
on: around one answer per item the online posterior's start-up makes even two halves
of the same crowd differ by up to 7 points); and the curves.

Run: .venv/bin/python benchmarks/routing_replay.py [--seeds 5] [--sets rte,temp]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd

from _common import machine, print_table
from labelwise.aggregate import DawidSkene
from labelwise.datasets import load_crowd
from labelwise.routing import DynamicOverlap, FixedOverlap, InformationGain, run_campaign
from labelwise.simulate import ReplayOracle, pool_from_annotations, profiles_from_annotations

SOURCES = (
    "sim (independent)",
    "sim (shared errors)",
    "sim (item profiles)",
    "sim (profiles, replace)",
    "sim (profiles, drawn)",
    "replay (half A)",
)
SETS = ("rte", "temp", "wsd", "sentiment_polarity", "web", "labelme")


def policies(cap: int) -> dict:
    return {
        "fixed": (FixedOverlap(cap), "majority"),
        "dynamic": (DynamicOverlap(target=0.99, cap=cap), "online"),
        "eig": (InformationGain(target=0.99, cap=cap), "online"),
    }


def curve(res, levels: np.ndarray) -> np.ndarray:
    """Accuracy at each whole number of answers per item (linear between record
    points; NaN past the campaign's end)."""
    f = res.trajectory.to_frame()
    x, y = f["per_item"].to_numpy(), f["accuracy"].to_numpy()
    out = np.interp(levels, x, y)
    return np.where(levels <= x.max() + 1e-9, out, np.nan)


def one_seed(crowd, seed: int, levels: np.ndarray, sources: tuple[str, ...]) -> list[dict]:
    ann, truth = crowd.annotations, crowd.truth.astype(np.int64)
    rng = np.random.default_rng([seed, 3])
    half = rng.random(ann.n_items) < 0.5
    in_a = half[ann.item]
    ann_a, ann_b = ann.subset(in_a), ann.subset(~in_a)
    truth_a = np.where(half, truth, -1)
    b_items = np.flatnonzero(~half & (truth >= 0))
    k = ann.n_classes
    cap = int(np.percentile(ann.annotations_per_item(), 90))
    # the simulator before: confusions against gold, independent answers
    pool_gold = pool_from_annotations(ann_a, 100, truth=truth_a, random_state=seed)
    # shared errors: what an item looks like to the crowd (consensus on A vs A's gold)
    consensus = DawidSkene().fit(ann_a).proba_.argmax(axis=1)
    on_a = half & (truth >= 0) & (ann_a.annotations_per_item() > 0)
    m = np.full((k, k), 0.5)
    np.add.at(m, (truth[on_a], consensus[on_a]), 1.0)
    m /= m.sum(axis=1, keepdims=True)
    seen_as = np.array([rng.choice(k, p=m[t]) for t in truth[b_items]])
    cons_a = np.where(on_a, consensus, -1)
    pool_shared = pool_from_annotations(ann_a, 100, truth=cons_a, random_state=seed)
    # item profiles fitted on A only (A's gold; A's consensus where an item has none)
    profiles = profiles_from_annotations(ann_a, truth=truth_a)
    sim_rec = ReplayOracle(profiles.sample(truth[b_items], random_state=seed), random_state=seed)
    sim_repl = ReplayOracle(
        profiles.sample(truth[b_items], replace=True, random_state=seed), random_state=seed
    )
    sim_drawn = ReplayOracle(
        profiles.sample(truth[b_items], recorded=False, random_state=seed), random_state=seed
    )
    # replay: B's answers; A's items are not scored (truth -1) and have no answers
    truth_b = np.where(~half, truth, -1)
    oracle = ReplayOracle(ann_b, random_state=seed)
    # the same re-estimation and recording pace for every campaign: by default it
    # follows the number of items, which is all items for the replays (A's or B's
    # unanswerable items included) but only B's for the simulators, so simulated
    # campaigns re-estimated skills twice as often (found in round 3)
    pace = {
        "refresh_every": max(50, b_items.size // 20),
        "record_every": max(1, b_items.size // 20),
    }
    rows = []
    for name, (policy, agg) in policies(cap).items():
        make = {
            "sim (independent)": lambda policy=policy, agg=agg: run_campaign(
                truth[b_items], pool_gold, policy, agg, random_state=seed, **pace
            ),
            "sim (shared errors)": lambda policy=policy, agg=agg: run_campaign(
                truth[b_items],
                pool_shared,
                policy,
                agg,
                answer_as=seen_as,
                random_state=seed,
                **pace,
            ),
            "sim (item profiles)": lambda policy=policy, agg=agg: run_campaign(
                truth[b_items], sim_rec, policy, agg, random_state=seed, **pace
            ),
            "sim (profiles, replace)": lambda policy=policy, agg=agg: run_campaign(
                truth[b_items], sim_repl, policy, agg, random_state=seed, **pace
            ),
            "sim (profiles, drawn)": lambda policy=policy, agg=agg: run_campaign(
                truth[b_items], sim_drawn, policy, agg, random_state=seed, **pace
            ),
            "replay (half A)": lambda policy=policy, agg=agg: run_campaign(
                truth_a,
                ReplayOracle(ann_a, random_state=seed),
                policy,
                agg,
                **pace,
                random_state=seed,
            ),
            "replay": lambda policy=policy, agg=agg: run_campaign(
                truth_b, oracle, policy, agg, random_state=seed, **pace
            ),
        }
        runs = {src: make[src]() for src in (*sources, "replay")}
        for source, res in runs.items():
            rows.append(
                {
                    "policy": name,
                    "source": source,
                    "seed": seed,
                    "curve": curve(res, levels),
                    "final acc": res.accuracy,
                    "per item": res.trajectory.per_item[-1],
                }
            )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--sources", default=";".join(SOURCES), help="simulators, ;-separated")
    args = ap.parse_args()
    sources = tuple(args.sources.split(";"))
    warnings.simplefilter("ignore")
    print(f"machine: {machine()}")
    gaps, curves = [], []
    for name in args.sets.split(","):
        crowd = load_crowd(name)
        levels = np.arange(1, int(np.percentile(crowd.annotations.annotations_per_item(), 90)) + 1)
        rows = [r for s in range(args.seeds) for r in one_seed(crowd, s, levels, sources)]
        frame = pd.DataFrame(rows)
        for policy, g in frame.groupby("policy", sort=False):
            med = {
                src: np.stack(gg["curve"].to_list()).mean(axis=0)
                for src, gg in g.groupby("source", sort=False)
            }
            for src in sources:
                d = (med[src] - med["replay"]) * 100
                ok = np.isfinite(d)
                j = int(np.nanargmax(np.abs(d))) if ok.any() else 0
                gaps.append(
                    {
                        "set": name,
                        "policy": policy,
                        "simulator": src,
                        "max |sim - replay| (pts)": float(np.abs(d[ok]).max())
                        if ok.any()
                        else np.nan,
                        "at answers/item": int(levels[j]),
                        # from 2 answers per item on: past the start-up of the online
                        # posterior, where replay against replay differs most
                        "max gap from 2/item": float(np.abs(d[ok & (levels >= 2)]).max())
                        if (ok & (levels >= 2)).any()
                        else np.nan,
                        "sim final acc": float(g[g.source == src]["final acc"].mean()),
                        "replay final acc": float(g[g.source == "replay"]["final acc"].mean()),
                    }
                )
            for lv_i, lv in enumerate(levels):
                curves.append(
                    {
                        "set": name,
                        "policy": policy,
                        "answers/item": int(lv),
                        **{src: float(med[src][lv_i]) for src in med},
                    }
                )
        print(pd.DataFrame(gaps).tail(3 * len(sources)).to_string(index=False), flush=True)
    print_table(pd.DataFrame(gaps), "Simulated against replayed accuracy curves: largest gap")
    print_table(pd.DataFrame(curves), "Accuracy by answers per item (means over seeds)")


if __name__ == "__main__":
    main()
