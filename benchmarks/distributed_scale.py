"""Dawid-Skene past memory: Dask (LocalCluster) against the in-memory path, from Parquet.

    nice -n 10 .venv/bin/python benchmarks/distributed_scale.py --sizes 10000000 100000000

For each size, synthetic answers (5 per item, 1,000 annotators of accuracy 0.5-0.95,
5 classes) are written as a folder of Parquet files (5M rows per file, 1M per row
group; reused when present). Then, in the same run:

- in memory (only at ``--in-memory-at``, 10M by default): ``Annotations.read`` of the
  folder and ``DawidSkene().fit``;
- Dask: a LocalCluster of 2 worker processes with ``--memory-limit`` (4 GB) each;
  ``DaskAnnotations.read`` (read + shuffle by item + encode) and ``DawidSkene().fit``.

It prints the cluster start-up, read and fit times, seconds per EM iteration (Dask: the
median time between iterations; in memory: the fit less building the answer matrix,
divided by the iterations), the peak
resident memory of each worker (sampled every 0.5 s), what the workers spilled to
disk, and the labels' agreement with the in-memory fit and with the truth.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, print_table
from labelwise import Annotations, DawidSkene

FILE_ROWS = 5_000_000
PER_ITEM, N_WORKERS, K = 5, 1000, 5


def write_crowd(folder: Path, n: int, seed: int = 0) -> None:
    """``n`` synthetic answers in Parquet files of FILE_ROWS rows (truth in truth-*.npy)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if (folder / "_done").exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    acc = np.random.default_rng(seed).uniform(0.5, 0.95, N_WORKERS)
    for f, start in enumerate(range(0, n, FILE_ROWS)):
        rows = min(FILE_ROWS, n - start)
        rng = np.random.default_rng([seed, f])
        n_items = rows // PER_ITEM
        truth = rng.integers(0, K, n_items)
        # 5 distinct annotators per item: a random start and 5 consecutive offsets
        first = rng.integers(0, N_WORKERS, n_items)
        workers = (first[:, None] + np.arange(PER_ITEM) * 7) % N_WORKERS
        item = np.repeat(np.arange(n_items, dtype=np.int64) + start // PER_ITEM, PER_ITEM)
        worker = workers.ravel().astype(np.int32)
        right = rng.random(rows) < acc[worker]
        t = truth[item - start // PER_ITEM]
        label = np.where(right, t, (t + rng.integers(1, K, rows)) % K).astype(np.int8)
        table = pa.table({"item": item, "worker": worker, "label": label})
        pq.write_table(table, folder / f"part-{f:04d}.parquet", row_group_size=1_000_000)
        np.save(folder / f"truth-{f:04d}.npy", truth)
    (folder / "_done").touch()


def truth_of(folder: Path) -> pd.Series:
    parts, start = [], 0
    for f in sorted(folder.glob("truth-*.npy")):
        t = np.load(f)
        parts.append(pd.Series(t, index=np.arange(start, start + len(t))))
        start += len(t)
    return pd.concat(parts)


def _rss() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


def _spilled(dask_worker) -> int:
    data = dask_worker.data
    total = getattr(data, "spilled_total", None)
    if total is not None:
        return int(getattr(total, "disk", 0) or 0)
    return len(getattr(data, "slow", {}))


class Peak:
    """Sample each worker's resident memory in a thread; keep the peak per worker."""

    def __init__(self, client, every: float = 0.5):
        self.client, self.every = client, every
        self.peak: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                for addr, rss in self.client.run(_rss).items():
                    self.peak[addr] = max(self.peak.get(addr, 0), rss)
            except Exception:
                pass
            self._stop.wait(self.every)

    def __enter__(self):
        self.peak = {}
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._stop.clear()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000_000])
    parser.add_argument("--in-memory-at", type=int, nargs="*", default=[10_000_000])
    parser.add_argument("--data", type=Path, default=Path("/tmp/labelwise-scale"))
    parser.add_argument("--memory-limit", default="4GB")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--max-iter", type=int, default=100, help="EM iterations cap (a 300M run uses 3)"
    )
    args = parser.parse_args()
    from dask.distributed import Client, LocalCluster

    from labelwise.distributed import DaskAnnotations
    from labelwise.distributed._cluster import quiet_distributed

    quiet_distributed()
    rows = []
    for n in args.sizes:
        folder = args.data / f"n{n}"
        t = time.perf_counter()
        write_crowd(folder, n)
        print(f"{n:,} answers in {folder} ({time.perf_counter() - t:.1f} s to write or find)")
        truth = truth_of(folder)
        ref = None
        if n in args.in_memory_at:
            t = time.perf_counter()
            ann = Annotations.read(folder / "part-0000.parquet") if n <= FILE_ROWS else None
            if ann is None:
                frame = pd.concat(pd.read_parquet(f) for f in sorted(folder.glob("part-*.parquet")))
                ann = Annotations.from_frame(frame)
                del frame
            t_read = time.perf_counter() - t
            t = time.perf_counter()
            ref = DawidSkene().fit(ann)
            t_fit = time.perf_counter() - t
            t = time.perf_counter()
            DawidSkene()._prepare(ann)  # the answer matrix is cached: time one build
            ann._cache.clear()
            DawidSkene()._prepare(ann)
            t_prepare = time.perf_counter() - t
            ref_labels = pd.Series(ref.labels_, index=ref.items_)
            rows.append(
                {
                    "annotations": n,
                    "engine": "in memory (1 process)",
                    "start-up s": 0.0,
                    "read s": t_read,
                    "fit s": t_fit,
                    "iterations": ref.n_iter_,
                    "s / iteration": (t_fit - t_prepare) / ref.n_iter_,
                    "peak MiB / worker": float("nan"),
                    "spilled": "",
                    "accuracy": float(
                        (ref_labels.to_numpy() == truth.loc[ref.items_].to_numpy()).mean()
                    ),
                    "agreement": 1.0,
                }
            )
            print(rows[-1], flush=True)
            del ann
        t = time.perf_counter()
        with (
            LocalCluster(
                n_workers=args.workers,
                threads_per_worker=1,
                memory_limit=args.memory_limit,
                dashboard_address=":0",
            ) as cluster,
            Client(cluster) as client,
        ):
            t_start = time.perf_counter() - t
            ticks: list[float] = []

            def tick(stage: str, done: int, total: int | None, ticks=ticks) -> None:
                if "EM iterations" in stage and len(ticks) < done + 1:
                    ticks.append(time.perf_counter())

            with Peak(client) as peak:
                t = time.perf_counter()
                data = DaskAnnotations.read(folder, client=client)
                t_read = time.perf_counter() - t
                data.progress = tick
                t = time.perf_counter()
                ticks.append(t)
                model = DawidSkene(max_iter=args.max_iter).fit(data)
                t_fit = time.perf_counter() - t
            # EM iterations proper: from the end of the first to the last (the first
            # includes building the answer matrices)
            per_iteration = float(np.median(np.diff(ticks[1 : model.n_iter_ + 1])))
            spilled = client.run(_spilled)
            agree = acc = float("nan")
            if n <= 20_000_000:
                out = model.result_.to_frame().set_index("item").sort_index()
                acc = float((out["label"].to_numpy() == truth.loc[out.index].to_numpy()).mean())
                if ref is not None:
                    agree = float(
                        (out["label"].to_numpy() == ref_labels.loc[out.index].to_numpy()).mean()
                    )
            rows.append(
                {
                    "annotations": n,
                    "engine": f"dask, {args.workers} workers x {args.memory_limit}, "
                    f"{data.npartitions} partitions",
                    "start-up s": t_start,
                    "read s": t_read,
                    "fit s": t_fit,
                    "iterations": model.n_iter_,
                    "s / iteration": per_iteration,
                    "peak MiB / worker": max(peak.peak.values(), default=0) / 2**20,
                    "spilled": ", ".join(str(v) for v in spilled.values()),
                    "accuracy": acc,
                    "agreement": agree,
                }
            )
            print(rows[-1], flush=True)
            data.release()
    print(f"machine: {machine()}; load average at the end {os.getloadavg()[0]:.1f}")
    table = pd.DataFrame(rows)
    print_table(table, "Dawid-Skene from Parquet: Dask LocalCluster vs in memory")
    mem = table[table["engine"].str.startswith("in memory")]
    for n in mem["annotations"]:
        a = table[(table["annotations"] == n)]
        m = a.iloc[0]
        for _, d in a.iloc[1:].iterrows():
            both = (d["read s"] + d["fit s"]) / (m["read s"] + m["fit s"])
            per_it = d["s / iteration"] / m["s / iteration"]
            print(
                f"{n:,}: dask / in-memory read+fit {both:.2f}x, fit {d['fit s'] / m['fit s']:.2f}x,"
                f" per iteration {per_it:.2f}x (start-up {d['start-up s']:.1f} s excluded)"
            )


if __name__ == "__main__":
    main()
