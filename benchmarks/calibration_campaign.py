"""Is the campaign's own posterior calibrated? Measured by replay, before and after.

Every dense real crowd in ../shared/data/crowd/ is replayed (each request for an
item's next answer is served by one of its real recorded answers not used yet) under
``GoldQuestions(DynamicOverlap(target=0.95))`` with ``calibrate="gold"``: a share of
the items (5% and 20%) are gold questions, the rest stop adaptively once their
posterior reaches the gold-checked threshold. At the end we score the regular items'
posterior against their known truth:

- ``before``: :attr:`CampaignState.post`, the tempered online posterior that routing
  reads (``run_campaign(aggregator="online")``);
- ``after``: ``CampaignState.posterior(calibrated=True)``
  (``run_campaign(aggregator="online_calibrated")``): each regular item read through
  skills with its own answers taken out, tempered, and its top-label confidence set
  by the ``TopLabelMap`` fitted on the gold items' answer prefixes.

Both are read from the same campaign (the calibrated read does not route), so the
comparison is paired. "map only" is the map applied to the in-sample read (round 3's
one-off experiment); the rest of the gain is the own-answers-out read's. "floor" is
the ECE a perfectly calibrated posterior shows on the same items
(``calibration.ece_noise_floor``, mean of 100 draws). Means over seeds.

Run: .venv/bin/python benchmarks/calibration_campaign.py [--seeds 5] [--sets web,labelme] [--cost]
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from _common import machine, print_table
from labelwise.calibration import calibration_report, ece_noise_floor
from labelwise.datasets import load_crowd
from labelwise.routing import CampaignState, DynamicOverlap, GoldQuestions, run_campaign
from labelwise.simulate import ReplayOracle

SETS = ("web", "labelme", "rte", "temp", "sentiment_polarity")
SHARES = (0.05, 0.2)


class _Kept(GoldQuestions):
    """GoldQuestions that keeps the state it was bound to, to read it after the run."""

    def bind(self, state: CampaignState) -> None:
        self.state = state
        super().bind(state)


def one_run(crowd, share: float, seed: int) -> list[dict]:
    ann, truth = crowd.annotations, crowd.truth.astype(np.int64)
    cap = int(ann.annotations_per_item().max())
    rng = np.random.default_rng([seed, 11])
    known = np.flatnonzero(truth >= 0)
    gold = rng.choice(known, size=max(5, round(share * known.size)), replace=False)
    policy = _Kept(DynamicOverlap(target=0.95, cap=cap), gold, truth[gold], skill_floor=0.0)
    start = time.perf_counter()
    res = run_campaign(
        truth, ReplayOracle(ann, random_state=seed), policy, aggregator="online_calibrated",
        calibrate="gold", random_state=seed,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    state = policy.state
    sc = (truth >= 0) & (state.gold < 0) & (state.n_answers > 0)
    reads = {
        "before": state.post,
        "map only (in-sample skills)": state.top_map.apply(state.post, state.votes),
        "after": res.proba,
    }
    rows = []
    for what, proba in reads.items():
        rep = calibration_report(proba[sc], truth[sc])
        rows.append(
            {
                "posterior": what,
                "n": int(sc.sum()),
                "accuracy": rep.accuracy,
                "claimed": rep.confidence,
                "ECE": rep.ece,
                "floor": ece_noise_floor(proba[sc], n_draws=100, random_state=seed)[0],
                "answers/item": float(state.n_answers[sc].mean()),
                "campaign s": seconds,
            }
        )
    return rows


def refresh_cost(n: int = 60_000, n_workers: int = 500, k: int = 4, per_item: int = 5) -> None:
    """Seconds of a refresh and of a calibrated read on a 60,000-item campaign (5% gold,
    300,000 simulated answers), median of 3; the per-answer path is ``record``."""
    rng = np.random.default_rng(0)
    truth = rng.integers(0, k, n)
    acc = rng.uniform(0.6, 0.95, n_workers)
    state = CampaignState(n, n_workers, k, max_answers=10, calibrate="gold", random_state=0)
    gold = rng.choice(n, n // 20, replace=False)
    state.set_gold(gold, truth[gold])
    for _ in range(per_item):
        w = rng.integers(0, n_workers, n)
        label = np.where(rng.random(n) < acc[w], truth, rng.integers(0, k, n))
        state.record(np.arange(n), w, label)

    def median(fn: Callable[[], object], repeats: int = 3) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return float(np.median(times))

    def refit() -> None:
        state._tempered_at = 0  # the calibration (tempering, map) is refitted
        state.refresh()

    def plain() -> None:
        state._tempered_at = 10**12  # skills only
        state.refresh()

    batch = (rng.integers(0, n, 32), rng.integers(0, n_workers, 32), rng.integers(0, k, 32))
    rows = [
        ("refresh, calibration refitted", median(refit)),
        ("refresh, skills only", median(plain)),
        ("posterior(calibrated=True)", median(lambda: state.posterior(calibrated=True))),
        ("record 32 answers", median(lambda: state.record(*batch), 20)),
    ]
    print_table(
        pd.DataFrame(rows, columns=["step", "seconds"]),
        f"Cost on {n:,} items, {state.n_collected:,} answers, 5% gold",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--shares", default=",".join(map(str, SHARES)))
    parser.add_argument("--cost", action="store_true", help="also time a refresh at 60,000 items")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(machine())
    start = time.perf_counter()
    rows = []
    for name in args.sets.split(","):
        crowd = load_crowd(name)
        for share in map(float, args.shares.split(",")):
            for seed in range(args.seeds):
                for r in one_run(crowd, share, seed):
                    rows.append({"set": name, "gold": share, "seed": seed, **r})
                print(
                    name, share, seed, f"{rows[-3]['ECE']:.4f} -> {rows[-1]['ECE']:.4f}", flush=True
                )
    frame = pd.DataFrame(rows)
    mean = frame.groupby(["set", "gold", "posterior"], sort=False).mean(numeric_only=True)
    worst = frame.groupby(["set", "gold", "posterior"], sort=False)["ECE"].max()
    table = mean.drop(columns="seed").assign(**{"worst ECE": worst}).reset_index()
    wide = table.pivot_table(
        index=["set", "gold"], columns="posterior", values=["ECE", "claimed"], sort=False
    )
    print_table(table, f"Regular items' posterior after the campaign, mean of {args.seeds} seeds")
    paired = pd.DataFrame(
        {
            "ECE before": wide[("ECE", "before")],
            "ECE map only": wide[("ECE", "map only (in-sample skills)")],
            "ECE after": wide[("ECE", "after")],
            "ratio": wide[("ECE", "before")] / wide[("ECE", "after")],
            "floor (after)": table[table.posterior == "after"].set_index(["set", "gold"])["floor"],
        }
    ).reset_index()
    print_table(paired, "ECE before / after (paired: the same campaigns)")
    if args.cost:
        refresh_cost()
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
