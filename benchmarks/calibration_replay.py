"""Does the routing stop rule's confidence hold on real crowds? Measured by replay.

Every dense real crowd in ../shared/data/crowd/ is replayed (each request for an
item's next answer is served by one of its real recorded answers not used yet, by the
annotator who gave it; an item with none left gets no more). Dynamic overlap (and
information gain) stop an item once its posterior reaches the target. For the items
finished that way (confidence at or above the rule's threshold) we compare the
mean claimed confidence with their real accuracy against gold, for each calibration
of the campaign's posterior:

- ``none``: the raw online Dawid-Skene posterior (labelwise before issue 12);
- ``answers``: tempered by predicting held-out answers (no gold needed);
- ``gold``: tempered and floored on the answers to gold questions (5% of the items,
  served as gold questions through :class:`GoldQuestions`, no skill floor; gold
  items are left out of the accuracy). The stop rule is then checked on the gold
  items (``CampaignState.stop_claim``): its threshold is raised until the gold items
  it finishes are right ``target`` of the time, or the target is declared
  unreachable (no item finished on confidence). The claim is corrected for the
  optimism of choosing the threshold on the same gold items (bootstrap of the whole
  threshold search, ``gold_stop_rule(method="corrected")``, the default);
- ``gold-audit``: the same 5% of gold items, half of them served as gold questions
  (calibration and threshold search) and half held back as *audit items*
  (``GoldQuestions(audit=0.5)``): routed and aggregated as regular items, their known
  class used only to state the claim (the finished audit items' accuracy);
- ``gold-beta``: the same as ``gold``, with the claim of round 2 (Beta(1, 1) posterior mean at
  the threshold picked, no correction: ``method="beta"``), for the before/after.

"claimed" is what the library states for the finished items
(``CampaignResult.claim.accuracy``; for ``none``/``answers`` their mean posterior),
"posterior" their mean calibrated posterior; "acc in interval" counts the seeds whose
real accuracy falls in the claim's 90% interval; "weak" counts the claims flagged
weak (fewer than 20 finished gold items behind them).

Seeds vary the replay order, the arrival order and the gold draw. Per setting:
the mean gap over the seeds where a claim was made with its 95% interval
(t-interval over seeds), the median and the worst seed's gap; the "gap" is claimed
minus real accuracy, in points.

Run: .venv/bin/python benchmarks/calibration_replay.py [--seeds 5] [--sets rte,temp]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import time
import warnings
from collections.abc import Iterator

import numpy as np
import pandas as pd
from scipy.stats import t as student

from _common import machine, print_table
from labelwise.datasets import load_crowd
from labelwise.routing import DynamicOverlap, GoldQuestions, InformationGain, _state, run_campaign
from labelwise.simulate import ReplayOracle

SETS = ("rte", "temp", "wsd", "sentiment_polarity", "web", "labelme")
TARGETS = (0.9, 0.95, 0.99)
GOLD_SHARE = 0.05


@contextlib.contextmanager
def claim_method(method: str) -> Iterator[None]:
    """Run campaigns whose stop claim uses ``gold_stop_rule(method=method)``."""
    original = _state.gold_stop_rule
    _state.gold_stop_rule = functools.partial(original, method=method)
    try:
        yield
    finally:
        _state.gold_stop_rule = original


def one_run(crowd, policy_name: str, target: float, cal: str, seed: int) -> dict:
    calibrate, method = ("gold", "beta") if cal == "gold-beta" else (cal, "corrected")
    audit = 0.0
    if cal == "gold-audit":
        calibrate, audit = "gold", 0.5
    with claim_method(method):
        return _one_run(crowd, policy_name, target, calibrate, seed, audit)


def _one_run(
    crowd, policy_name: str, target: float, calibrate: str, seed: int, audit: float = 0.0
) -> dict:
    ann, truth = crowd.annotations, crowd.truth.astype(np.int64)
    cap = int(ann.annotations_per_item().max())
    cls = DynamicOverlap if policy_name == "dynamic" else InformationGain
    policy = cls(target=target, cap=cap)
    if calibrate == "gold":
        rng = np.random.default_rng([seed, 11])
        known = np.flatnonzero(truth >= 0)
        gold = rng.choice(known, size=max(5, round(GOLD_SHARE * known.size)), replace=False)
        policy = GoldQuestions(policy, gold, truth[gold], skill_floor=0.0, audit=audit)
    oracle = ReplayOracle(ann, random_state=seed)
    res = run_campaign(truth, oracle, policy, calibrate=calibrate, random_state=seed)
    conf = res.proba.max(axis=1)
    scored = truth >= 0
    if calibrate == "gold":
        scored[gold] = False
    claim = res.claim
    # finished on confidence: at the rule's threshold (raised by the gold check, inf
    # when the target is unreachable)
    fin = scored & (conf >= claim.threshold) & (res.answers_per_item > 0)
    right = res.labels == truth
    # what the library states for finished items: the gold-checked accuracy, else
    # (unchecked) their mean posterior
    stated = (
        claim.accuracy
        if claim.source in ("gold", "audit")
        else conf[fin].mean()
        if fin.any()
        else np.nan
    )
    acc = float(right[fin].mean()) if fin.any() else np.nan
    return {
        "finished": int(fin.sum()),
        "claimed": float(stated) if fin.any() else np.nan,
        "posterior": float(conf[fin].mean()) if fin.any() else np.nan,
        "accuracy": acc,
        "in interval": bool(claim.low <= acc <= claim.high) if fin.any() else np.nan,
        "reachable": claim.reachable,
        "weak": claim.weak,
        "all acc": float(right[scored].mean()),
        "all claimed": float(conf[scored].mean()),
        "per item": float(res.answers_per_item[scored].mean()),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--policies", default="dynamic")
    ap.add_argument("--calibrations", default="none,gold-beta,gold,gold-audit")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    print(f"machine: {machine()}")
    rows = []
    for name in args.sets.split(","):
        crowd = load_crowd(name)
        for policy in args.policies.split(","):
            for target in TARGETS:
                for cal in args.calibrations.split(","):
                    start = time.perf_counter()
                    runs = pd.DataFrame(
                        [one_run(crowd, policy, target, cal, s) for s in range(args.seeds)]
                    )
                    gap = (runs["claimed"] - runs["accuracy"]) * 100
                    made = gap.dropna()
                    half = (
                        student.ppf(0.975, made.size - 1) * made.std() / np.sqrt(made.size)
                        if made.size > 1
                        else np.nan
                    )
                    rows.append(
                        {
                            "set": name,
                            "policy": policy,
                            "target": target,
                            "calibration": cal,
                            "finished": int(runs["finished"].median()),
                            "claimed": runs["claimed"].median(),
                            "real acc": runs["accuracy"].median(),
                            "posterior": runs["posterior"].median(),
                            "reachable": f"{int(runs['reachable'].sum())}/{len(runs)}",
                            "acc in interval": f"{int((runs['in interval'] == True).sum())}"  # noqa: E712
                            f"/{int(runs['in interval'].notna().sum())}",
                            "weak": int(runs["weak"].sum()),
                            "mean gap (pts)": made.mean(),
                            "95% CI": f"{made.mean() - half:+.1f}..{made.mean() + half:+.1f}"
                            if made.size > 1
                            else "",
                            "median gap": gap.median(),
                            "worst gap": gap.loc[gap.abs().idxmax()]
                            if gap.notna().any()
                            else np.nan,
                            "acc all items": runs["all acc"].median(),
                            "answers/item": runs["per item"].median(),
                        }
                    )
                    r = rows[-1]
                    print(
                        f"{name} {policy} {target} {cal}: claimed {r['claimed']:.4f} real "
                        f"{r['real acc']:.4f} gap {r['mean gap (pts)']:.2f} "
                        f"({time.perf_counter() - start:.0f}s)",
                        flush=True,
                    )
    table = pd.DataFrame(rows)
    print_table(table, "Claimed confidence of finished items against their real accuracy (replay)")


if __name__ == "__main__":
    main()
