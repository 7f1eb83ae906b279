"""Active-learning rounds over a pool past memory: 1M, 10M and 100M x 64 on Dask.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/pool_scale.py --dir /tmp/pool
    .venv/bin/python benchmarks/pool_scale.py --in-workers     # no disk: partitions made on workers

The pool is ``n_shards`` shards of 1,000,000 x 64 float32 (256 MB each; 100 shards =
25.6 GB, more than this machine's 24 GiB of memory), written once as ``.npy`` files
(time reported apart) and deleted at the end unless ``--keep``. Rows are 10 Gaussian
classes in 64 dimensions (seeded per shard, so the same pool every run). A
logistic regression fitted on 20,000 labeled rows is the model. Rows: a class
centre (10 Gaussian centres) plus uniform noise; the content only has to make the
scores spread, the figure is the cost of a round.

A round is :func:`labelwise.distributed.select_from_pool` on a ``LocalCluster`` of 2
worker processes x 1 thread with a 2 GiB memory limit each: the model broadcast once,
every shard scored in chunks of 262,144 rows (margin), the per-shard top 2,000
merged, and a batch of 200 chosen by ``cluster_top``. Two rounds per size (the
second excludes the first's batch), one at 50 shards and more (time budget); the
sizes use the first 1, 10 and all shards of the same directory. Peak memory is each
worker process's peak resident set size.
The in-memory path (the whole 1M pool loaded, ``predict_proba``, ``margin``,
``cluster_top``) is timed at 1M for the overhead ratio; it cannot run at 100M here.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, print_table
from labelwise.active import cluster_top
from labelwise.active.strategies import margin
from labelwise.distributed import ShardedPool, select_from_pool
from labelwise.distributed.pool import _peak_rss_mb

ROWS, DIM, K = 1_000_000, 64, 10


def _rows(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` rows of 10 classes: a class centre plus uniform noise in [-4, 4) drawn as
    random bytes (a quarter of the time of Gaussian noise on this shared machine)."""
    centers = np.random.default_rng(12345).normal(size=(K, DIM)).astype(np.float32)
    rng = np.random.default_rng(seed)
    y = rng.integers(0, K, n)
    X = rng.integers(0, 256, (n, DIM), dtype=np.uint8).astype(np.float32)
    X -= np.float32(127.5)
    X *= np.float32(1 / 32)
    X += centers[y]
    return X, y


def make_shard(i: int) -> np.ndarray:
    """Shard ``i`` of the pool, seeded by ``i`` (the same pool every run)."""
    return _rows(i, ROWS)[0]


def fit_model():
    from sklearn.linear_model import LogisticRegression

    X, y = _rows(10**6, 20_000)
    return LogisticRegression(max_iter=300).fit(X, y)


def write_pool(root: Path, n_shards: int) -> float:
    root.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for i in range(n_shards):
        path = root / f"part-{i:03d}.npy"
        if not path.exists():
            np.save(path, make_shard(i))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", type=Path, default=Path("/tmp/labelwise-pool"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100], help="shards")
    parser.add_argument("--in-workers", action="store_true", help="make shards on workers")
    parser.add_argument("--keep", action="store_true", help="keep the shards on disk")
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    from dask.distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)
    print(f"machine: {machine()}")
    model = fit_model()
    rows = []
    if not args.in_workers:
        sec = write_pool(args.dir, max(args.sizes))
        size_gb = sum(p.stat().st_size for p in args.dir.glob("*.npy")) / 1e9
        print(f"wrote {max(args.sizes)} shards ({size_gb:.1f} GB) in {sec:.0f} s", flush=True)
    try:
        start = time.perf_counter()
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, memory_limit="2GiB", dashboard_address=":0"
        )
        client = Client(cluster)
        print(f"cluster start: {time.perf_counter() - start:.1f} s", flush=True)
        # the in-memory path at 1M, for the overhead ratio
        start = time.perf_counter()
        X = np.load(args.dir / "part-000.npy") if not args.in_workers else make_shard(0)
        s = margin(model.predict_proba(X))
        ref = cluster_top(X, s, args.batch, oversample=10, random_state=0)
        in_memory = time.perf_counter() - start
        del X, s
        print(f"in memory, 1M rows: {in_memory:.1f} s; peak RSS {_peak_rss_mb():.0f} MiB")
        with cluster, client:
            for n_shards in args.sizes:
                if args.in_workers:
                    pool = ShardedPool.from_function(make_shard, [ROWS] * n_shards, DIM)
                else:
                    pool = ShardedPool.from_directory(args.dir).head(n_shards)
                chosen = np.empty(0, dtype=np.int64)
                for rnd in range(1, 2 if n_shards >= 50 else 3):
                    pick = select_from_pool(
                        model, pool, args.batch, exclude=chosen, client=client, random_state=0
                    )
                    if n_shards == 1 and rnd == 1:
                        assert np.array_equal(pick.ids, ref), "differs from the in-memory batch"
                    chosen = np.concatenate([chosen, pick.ids])
                    rss = client.run(_peak_rss_mb)
                    row = {
                        "pool rows": f"{pool.n_rows:,}",
                        "GB": f"{pool.n_rows * DIM * 4 / 1e9:.1f}",
                        "round": rnd,
                        "s / round": f"{pick.seconds:.1f}",
                        "rows/s": f"{pick.n_scored / pick.seconds:,.0f}",
                        "worker s": f"{pick.worker_seconds:.1f}",
                        "peak RSS per worker (MiB)": " / ".join(f"{v:.0f}" for v in rss.values()),
                        "in-memory 1M s": f"{in_memory:.1f}" if n_shards == 1 else "-",
                    }
                    rows.append(row)
                    print(row, flush=True)
        print(f"client process peak RSS: {_peak_rss_mb():.0f} MiB")
    finally:
        if not args.in_workers and not args.keep:
            shutil.rmtree(args.dir, ignore_errors=True)
    src = "made on the workers" if args.in_workers else "read from .npy shards on disk"
    print_table(pd.DataFrame(rows), f"Active-learning rounds over a sharded pool ({src})")


if __name__ == "__main__":
    main()
