"""GLAD's class prior: learned versus uniform, beside crowd-kit's GLAD, on the real crowds.

Run with the peer venv (``make bench-env``)::

    OMP_NUM_THREADS=1 .bench-venv/bin/python benchmarks/aggregation_glad_prior.py

For every real crowd under ``shared/data/crowd/``: accuracy against gold, the share
of items given the most frequent class (against the majority vote's share of that
class) and whether labelwise's collapse check fired. The measurement behind GLAD's
default ``learn_prior=False``.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, print_table
from labelwise.aggregate import GLAD
from labelwise.aggregate._collapse import vote_top_shares
from labelwise.datasets import load_crowd, shared_data_dir


def main() -> None:
    root = shared_data_dir() / "crowd"
    rows = []
    for folder in sorted(p for p in root.iterdir() if (p / "annotations.csv").exists()):
        data = load_crowd(folder)
        ann, truth = data.annotations, data.truth
        known = truth >= 0
        vote = vote_top_shares(ann)
        gold = pd.Series(ann.classes[truth[known]], index=ann.item_ids[known])
        for name, model in (("learned prior", GLAD(learn_prior=True)), ("uniform prior", GLAD())):
            start = time.perf_counter()
            with warnings.catch_warnings(record=True):
                warnings.simplefilter("always")
                model.fit(ann)
            codes = model.label_codes_
            top = int(np.bincount(codes, minlength=ann.n_classes).argmax())
            rows.append(
                {
                    "data set": folder.name,
                    "GLAD": name,
                    "accuracy": float((codes[known] == truth[known]).mean()),
                    "top-class share": float((codes == top).mean()),
                    "vote's share": float(vote[top]),
                    "collapse flagged": bool(model.collapsed_),
                    "seconds": time.perf_counter() - start,
                }
            )
        try:
            import crowdkit.aggregation as ck

            frame = ann.to_frame().rename(columns={"item": "task"})
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                peer = ck.GLAD().fit_predict(frame)
            rows.append(
                {
                    "data set": folder.name,
                    "GLAD": "crowd-kit",
                    "accuracy": float(
                        (peer.reindex(gold.index).to_numpy() == gold.to_numpy()).mean()
                    ),
                    "top-class share": float(peer.value_counts(normalize=True).iloc[0]),
                    "vote's share": float("nan"),
                    "collapse flagged": False,
                    "seconds": time.perf_counter() - start,
                }
            )
        except ImportError:
            pass
    print(f"machine: {machine()}")
    print_table(pd.DataFrame(rows), "GLAD: learned vs uniform class prior (real crowds, gold)")


if __name__ == "__main__":
    main()
