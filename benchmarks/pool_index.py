"""Sharded IVF search against the exact flat index and one unsharded IVF index: recall@10
and seconds, in one run.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/pool_index.py
    .venv/bin/python benchmarks/pool_index.py --rows 2000000 --shards 8

Pool: ``--rows`` x 64 float32 embeddings drawn around 200 Gaussian centres (seeded);
2,000 queries are pool rows, searched for their 10 nearest *other* rows
(``neighbors_of_indexed``, the call SEALS and the audit make). Recall@10 is the share
of the exact flat index's neighbours found. The sharded index and the unsharded IVF
index use the same lists (``nlist``), the same training-sample size (40 x nlist) and the same
``nprobe``; the sharded one splits the rows in ``--shards`` shards searched by parallel
threads and can live on disk (``directory=``), which the unsharded one cannot.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, print_table
from labelwise.distributed import ShardedIndex
from labelwise.index import NeighborIndex


def pool(rows: int, dim: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(200, dim)).astype(np.float32) * 2
    X = rng.standard_normal((rows, dim), dtype=np.float32)
    X += centers[rng.integers(0, 200, rows)]
    return X


def recall(got: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(got, exact, strict=True)]))


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--nlist", type=int, default=512)
    parser.add_argument("--nprobe", type=int, nargs="+", default=[4, 16, 64])
    parser.add_argument("--sample", type=int, default=None, help="default 40 x nlist")
    args = parser.parse_args()
    print(f"machine: {machine()}; {args.rows:,} x 64 pool, 2,000 queries, k=10")
    X = pool(args.rows)
    queries = np.random.default_rng(1).choice(args.rows, 2_000, replace=False)
    flat, build_flat = timed(lambda: NeighborIndex(kind="flat").fit(X))
    (_, exact), search_flat = timed(lambda: flat.neighbors_of_indexed(queries, 10))
    rows = [
        {
            "index": "flat (exact)",
            "nprobe": "-",
            "build s": f"{build_flat:.1f}",
            "search s": f"{search_flat:.2f}",
            "recall@10": "1.000",
        }
    ]
    ivf, build_ivf = timed(
        lambda: NeighborIndex(kind="ivf", nlist=args.nlist, nprobe=1).fit(X)  # sample 40 x nlist
    )
    sharded, build_sharded = timed(
        lambda: ShardedIndex(
            n_shards=args.shards,
            nlist=args.nlist,
            nprobe=1,
            sample_size=args.sample or 40 * args.nlist,
        ).fit(X)
    )
    for nprobe in args.nprobe:
        ivf.index_.nprobe = nprobe
        for shard in sharded.index_.shards:
            shard.nprobe = nprobe
        for name, idx, build in (
            ("IVF, one index", ivf, build_ivf),
            (f"sharded IVF, {args.shards} shards", sharded, build_sharded),
        ):
            (_, got), sec = timed(lambda idx=idx: idx.neighbors_of_indexed(queries, 10))
            rows.append(
                {
                    "index": name,
                    "nprobe": nprobe,
                    "build s": f"{build:.1f}",
                    "search s": f"{sec:.2f}",
                    "recall@10": f"{recall(got, exact):.3f}",
                }
            )
            print(rows[-1], flush=True)
    print_table(pd.DataFrame(rows), "Sharded IVF against the exact flat index (recall@10)")


if __name__ == "__main__":
    main()
