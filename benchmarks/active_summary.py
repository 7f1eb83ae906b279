"""Paired table from the per-seed lines that ``active_text.py`` prints.

A run cut short still printed one line per finished seed; this reads those lines and
prints the same table (median labels per arm, ratio of medians to margin top-k with a
paired bootstrap 95% interval, wins/ties/losses) over the seeds that finished (each
seed once, if several logs hold it).

Run: .venv/bin/python benchmarks/active_summary.py log1.txt log2.txt ...
"""

from __future__ import annotations

import re
import sys

import numpy as np
import pandas as pd

from _common import print_table
from active_text import paired

LINE = re.compile(r"^(\w+) seed (\d+): (.*)$")


def read(paths: list[str]) -> dict[str, dict[str, list[int]]]:
    """``{data set: {arm: labels per seed}}`` from the logs' per-seed lines."""
    out: dict[str, dict[str, list[int]]] = {}
    seen: set[tuple[str, str]] = set()
    for path in paths:
        with open(path) as fh:
            for line in fh:
                m = LINE.match(line.strip())
                if not m or (m.group(1), m.group(2)) in seen:
                    continue  # a seed in two logs (a run split over processes) counts once
                seen.add((m.group(1), m.group(2)))
                arms = out.setdefault(m.group(1), {})
                for part in m.group(3).split(", "):
                    arm, _, value = part.rpartition(" ")
                    arms.setdefault(arm, []).append(int(value))
    return out


def main() -> None:
    rows = []
    rng = np.random.default_rng(0)
    for name, arms in read(sys.argv[1:]).items():
        base = np.asarray(arms["margin top-k"], dtype=float)
        for arm, values in arms.items():
            v = np.asarray(values, dtype=float)
            ratio, lo, hi = paired(base, v, rng)
            rows.append(
                {
                    "data set": name,
                    "seeds": len(v),
                    "arm": arm,
                    "median labels": float(np.median(v)),
                    "min-max": f"{int(v.min())}-{int(v.max())}",
                    "ratio to margin": round(ratio, 3),
                    "95% interval": f"[{lo:.3f}, {hi:.3f}]",
                    "wins/ties/losses": f"{int((v < base).sum())}/{int((v == base).sum())}/"
                    f"{int((v > base).sum())}",
                }
            )
    print_table(pd.DataFrame(rows), "Labels to reach full-pool accuracy - 1 point")


if __name__ == "__main__":
    main()
