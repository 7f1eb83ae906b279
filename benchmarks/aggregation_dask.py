"""Dawid-Skene on Dask (LocalCluster) against the in-memory estimator, same data.

    .venv/bin/python benchmarks/aggregation_dask.py --sizes 1000000 --partitions 8

On one 2-core machine Dask cannot be faster than the in-memory path; this measures
what the partitioning costs and checks that the labels agree, so that the same fit
can move to a real cluster (``DaskAnnotations`` on a client of any scheduler).
Superseded by ``benchmarks/distributed_scale.py`` (from Parquet, up to 100M answers).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, print_table
from aggregation_speed import synthetic_crowd
from labelwise import Annotations, DawidSkene
from labelwise.distributed import DaskAnnotations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--partitions", type=int, default=8)
    args = parser.parse_args()
    from dask.distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)
    rows = []
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            for n in args.sizes:
                frame, truth = synthetic_crowd(n)
                frame = frame.rename(columns={"task": "item"})
                start = time.perf_counter()
                ref = DawidSkene().fit(Annotations.from_frame(frame))
                t_mem = time.perf_counter() - start
                start = time.perf_counter()
                data = DaskAnnotations.from_frame(frame, client=client, npartitions=args.partitions)
                model = DawidSkene().fit(data)
                result = model.result_.to_frame().set_index("item").sort_index()
                t_dask = time.perf_counter() - start
                agree = float((result["label"].to_numpy() == ref.labels_).mean())
                rows.append(
                    {
                        "annotations": n,
                        "in-memory s": t_mem,
                        "dask s (2 workers)": t_dask,
                        "dask / in-memory": t_dask / t_mem,
                        "iterations (mem, dask)": f"{ref.n_iter_}, {model.n_iter_}",
                        "label agreement": agree,
                        "dask accuracy": float((result["label"].to_numpy() == truth).mean()),
                    }
                )
    print(f"machine: {machine()}")
    print_table(pd.DataFrame(rows), "Dawid-Skene: Dask LocalCluster vs in-memory")


if __name__ == "__main__":
    main()
