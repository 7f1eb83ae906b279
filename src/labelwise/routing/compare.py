"""Run several routing policies on one test bed and put their curves side by side."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from labelwise.errors import InputError
from labelwise.routing.campaign import Budget, run_campaign
from labelwise.routing.registry import POLICIES, make_policy
from labelwise.simulate.testbed import TestBed

__all__ = ["compare_policies", "curve_table", "reach_table"]


def compare_policies(
    bed: TestBed,
    policies: Sequence[str] = tuple(POLICIES),
    *,
    target: float = 0.99,
    cap: int = 10,
    seeds: Sequence[int] = (0,),
    budget: Budget | int | None = None,
    gold_share: float = 0.02,
    on_run: Callable[[str, int, float], None] | None = None,
    **campaign: Any,
) -> pd.DataFrame:
    """Run every named policy (see :data:`~labelwise.routing.POLICIES`) on ``bed`` for
    every seed; return the trajectories stacked in one long table.

    Columns: ``policy, seed, annotations, per_item, money, accuracy, finished,
    seconds`` (``seconds``: the whole campaign's run time, on each of its rows).
    Model-assisted policies are skipped when the bed has no features. Gold items for
    ``gold`` are a ``gold_share`` of the items, drawn per seed.
    """
    unknown = [p for p in policies if p not in POLICIES]
    if unknown:
        raise InputError(
            f"Unknown routing policy {unknown[0]!r}; choose among {', '.join(POLICIES)}."
        )
    frames = []
    for name in policies:
        if name.startswith("model") and bed.X is None:
            continue
        for seed in seeds:
            rng = np.random.default_rng([seed, 7])
            n_gold = max(1, round(gold_share * bed.n_items))
            gold = rng.choice(bed.n_items, size=n_gold, replace=False)
            policy, agg = make_policy(
                name, target=target, cap=cap, gold_items=gold, gold_labels=bed.truth[gold]
            )
            start = time.perf_counter()
            res = run_campaign(
                bed.truth, bed.pool, policy, agg, budget,
                features=bed.X, random_state=seed, **campaign,
            )  # fmt: skip
            took = time.perf_counter() - start
            f = res.trajectory.to_frame()
            f.insert(0, "seed", seed)
            f.insert(0, "policy", name)
            f["seconds"] = took
            frames.append(f)
            if on_run is not None:
                on_run(name, seed, took)
    if not frames:
        raise InputError("no policy could run on this test bed (model policies need features).")
    return pd.concat(frames, ignore_index=True)


def reach_table(curves: pd.DataFrame, accuracies: Sequence[float] = (0.95, 0.99)) -> pd.DataFrame:
    """Per policy: annotations per item needed to first reach each accuracy (column
    ``to <acc>``: median over seeds; ``spread <acc>``: min-max), the final accuracy and
    answers per item (medians).

    A seed that never reaches an accuracy counts as ``inf``; the median is NaN when
    half the seeds or more never reach it.
    """
    rows = []
    for name, g in curves.groupby("policy", sort=False):
        row: dict[str, Any] = {"policy": name, "seeds": g["seed"].nunique()}
        for acc in accuracies:
            need = []
            for _, s in g.groupby("seed"):
                hit = s.index[s["accuracy"] >= acc]
                need.append(float(s.loc[hit[0], "per_item"]) if len(hit) else np.inf)
            arr = np.asarray(need)
            med = float(np.median(arr))
            row[f"to {acc:g}"] = med if np.isfinite(med) else np.nan
            row[f"spread {acc:g}"] = (
                f"{arr.min():.2f}-{arr.max():.2f}" if np.isfinite(arr).all() else
                f"{np.isfinite(arr).sum()}/{arr.size} reached"
            )  # fmt: skip
        last = g.groupby("seed").tail(1)
        row["final acc"] = float(last["accuracy"].median())
        row["final per item"] = float(last["per_item"].median())
        row["seconds"] = float(last["seconds"].median())
        rows.append(row)
    return pd.DataFrame(rows)


def curve_table(curves: pd.DataFrame, grid: Sequence[float]) -> pd.DataFrame:
    """Accuracy of each policy (median over seeds) at each annotations-per-item level
    of ``grid`` (the last record point at or below it; a finished campaign keeps its
    final accuracy). One row per level, one column per policy."""
    out = {"per_item": list(grid)}
    for name, g in curves.groupby("policy", sort=False):
        col = []
        for level in grid:
            vals = []
            for _, s in g.groupby("seed"):
                below = s[s["per_item"] <= level + 1e-9]
                vals.append(float(below["accuracy"].iloc[-1]))
            col.append(float(np.median(vals)))
        out[str(name)] = col
    return pd.DataFrame(out)
