"""Start-up time of the CLI: ``import labelwise``, ``labelwise --help`` and a small
``labelwise aggregate``, for one or more source trees, measured in one interleaved run.

Each call is a fresh Python process (what a user waits for). Runs alternate between
the trees so that load on a shared machine hits them alike; the table shows medians
of wall time and of CPU time (user + system of the child process: on a loaded machine
the closer figure to what an idle one would show) and the ratio of each tree to the first.

Usage::

    git archive <base-commit> src | tar -x -C /tmp/base          # the "before" tree
    python benchmarks/cli_startup.py --src before=/tmp/base/src --src after=src --runs 9

A tree may be several paths joined by ":" (it becomes PYTHONPATH), for example the
before tree with the typer it ran with: ``--src before=/tmp/base/src:/tmp/typer029``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from _common import machine

MAIN = "import sys; from labelwise.cli import main; sys.argv[0] = 'labelwise'; main()"


def _small_annotations(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, 200)
    rows = [
        (f"item{i}", f"w{w}", "abc"[truth[i] if rng.random() < 0.8 else rng.integers(0, 3)])
        for i in range(200)
        for w in rng.choice(10, 3, replace=False)
    ]
    path = folder / "small.csv"
    pd.DataFrame(rows, columns=["item", "worker", "label"]).to_csv(path, index=False)
    return path


def _seconds(src: str, argv: list[str], cwd: Path) -> tuple[float, float]:
    """(wall, cpu) seconds of one fresh process."""
    env = {**os.environ, "PYTHONPATH": src}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, *argv], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", action="append", required=True, help="name=path/to/src")
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    trees = dict(s.split("=", 1) for s in args.src)
    # a tree may be several paths joined by ":" (PYTHONPATH), e.g. src plus an older typer
    trees = {k: ":".join(str(Path(p).resolve()) for p in v.split(":")) for k, v in trees.items()}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ann = _small_annotations(folder)
        tasks = {
            "import labelwise": ["-c", "import labelwise"],
            "labelwise --help": ["-c", MAIN, "--help"],
            **{
                f"labelwise aggregate (600 answers, {method})": [
                    "-c",
                    MAIN,
                    "aggregate",
                    str(ann),
                    "-m",
                    method,
                    "-o",
                    str(folder / "out.csv"),
                ]
                for method in ("mv", "ds")
            },
        }
        times: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for _ in range(args.runs):
            for task, argv in tasks.items():
                for name, src in trees.items():
                    times.setdefault((task, name), []).append(_seconds(src, argv, folder))
    first = next(iter(trees))
    rows = []
    for task in tasks:
        row: dict[str, object] = {"step": task}
        for kind, k in (("wall", 0), ("cpu", 1)):
            med = {n: statistics.median(t[k] for t in times[(task, n)]) for n in trees}
            for name in trees:
                row[f"{name} {kind} s"] = round(med[name], 3)
            for name in list(trees)[1:]:
                row[f"{name}/{first} {kind}"] = round(med[name] / med[first], 2)
        rows.append(row)
    print(f"machine: {machine()}; {args.runs} runs each, interleaved; medians")
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
