"""Dask and in-memory fits, same data: largest probability and skill differences per method.

    nice -n 10 .venv/bin/python benchmarks/distributed_equality.py

On the six real crowds of ``../shared/data/crowd`` and on 1,000,000 synthetic answers
(200,000 items, 300 annotators of accuracy 0.55-0.95, 4 classes, 5 answers per item,
written as 3 Parquet files), every method that runs on ``DaskAnnotations`` is fitted
both ways (a LocalCluster of 2 worker processes, 4 partitions) and compared: labels,
posterior probabilities, skills and iteration counts. Majority votes use
``ties="flag"`` (a random tie-break draws its keys per partition).
"""

from __future__ import annotations

import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, print_table
from labelwise import (
    MACE,
    Annotations,
    DawidSkene,
    MajorityVote,
    OneCoinDawidSkene,
    WeightedMajorityVote,
)
from labelwise.distributed import DaskAnnotations, connect

CROWD = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "crowd"
METHODS = [
    ("ds", DawidSkene, {}),
    ("onecoin", OneCoinDawidSkene, {}),
    ("mace", MACE, {}),
    ("mv", MajorityVote, {"ties": "flag"}),
    ("wmv", WeightedMajorityVote, {"ties": "flag", "n_rounds": 3}),
]


def synthetic(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    n_items, per_item, k = 200_000, 5, 4
    acc = rng.uniform(0.55, 0.95, 300)
    truth = rng.integers(0, k, n_items)
    item = np.repeat(np.arange(n_items), per_item)
    worker = ((rng.integers(0, 300, n_items)[:, None] + np.arange(per_item) * 11) % 300).ravel()
    right = rng.random(item.size) < acc[worker]
    label = np.where(right, truth[item], (truth[item] + rng.integers(1, k, item.size)) % k)
    frame = pd.DataFrame({"item": item, "worker": worker, "label": label})
    frame = frame.sample(frac=1, random_state=0)
    bounds = np.linspace(0, len(frame), 4).astype(int)
    for j in range(3):
        frame.iloc[bounds[j] : bounds[j + 1]].to_parquet(folder / f"p{j}.parquet", index=False)
    return folder


def compare(name: str, path: Path, client) -> list[dict]:
    data = DaskAnnotations.read(path, client=client, npartitions=4)
    ann = (
        Annotations.read(path)
        if path.is_file()
        else Annotations.from_frame(
            pd.concat(pd.read_parquet(f) for f in sorted(path.glob("*.parquet")))
        )
    )
    rows = []
    for short, cls, params in METHODS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = time.perf_counter()
            model = cls(**params).fit(data)
            t_dask = time.perf_counter() - t
            t = time.perf_counter()
            ref = cls(**params).fit(ann)
            t_mem = time.perf_counter() - t
        got = model.result_.to_frame(proba=True).set_index("item").loc[ref.items_]
        p = got[[f"proba_{c}" for c in ref.classes_]].to_numpy()
        labels = pd.Series(got["label"].to_numpy())
        expected = pd.Series(ref.labels_)
        same = (labels == expected) | (labels.isna() & expected.isna())  # flagged ties
        rows.append(
            {
                "data": name,
                "answers": data.n_annotations,
                "method": short,
                "labels equal": f"{same.mean():.6f}",
                "max |proba diff|": float(np.abs(p - ref.proba_).max()),
                "max |skill diff|": float(np.nanmax(np.abs(model.skill_ - ref.skill_))),
                "iterations (dask, memory)": f"{getattr(model, 'n_iter_', '-')}, "
                f"{getattr(ref, 'n_iter_', '-')}",
                "dask s": t_dask,
                "memory s": t_mem,
            }
        )
        print(rows[-1], flush=True)
    data.release()
    return rows


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--crowds",
        nargs="*",
        default=["rte", "temp", "wsd", "web", "sentiment_polarity", "labelme"],
    )
    parser.add_argument("--no-synthetic", action="store_true")
    args = parser.parse_args()
    rows: list[dict] = []
    with connect(n_workers=2) as client, tempfile.TemporaryDirectory() as tmp:
        for crowd in args.crowds:
            path = CROWD / crowd / "annotations.csv"
            if path.exists():
                rows += compare(crowd, path, client)
        if not args.no_synthetic:
            rows += compare("synthetic 1M", synthetic(Path(tmp)), client)
    print(f"machine: {machine()}")
    print_table(pd.DataFrame(rows), "Dask vs in-memory, same data")


if __name__ == "__main__":
    main()
