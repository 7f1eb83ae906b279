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

Run: .venv/bin/python benchmarks/calibration_campaign.py [--seeds 3] [--sets web,labelme]
"""

from __future__ import annotations

import argparse
import time
import warnings

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--shares", default=",".join(map(str, SHARES)))
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
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
