"""Accuracy of every aggregation method on the real crowd data sets, beside crowd-kit.

Run with the peer venv (``make bench-env``)::

    .bench-venv/bin/python benchmarks/aggregation_accuracy.py

Every data set under ``shared/data/crowd/`` (each has annotations.csv and gold.csv)
is aggregated by labelwise and by crowd-kit's implementation of the same method;
accuracy is against gold on the items that have gold.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, print_table
from labelwise import make_aggregator
from labelwise.datasets import load_crowd, shared_data_dir

# labelwise method -> crowd-kit class name with the closest model
PEERS = {
    "mv": "MajorityVote",
    "wmv": "Wawa",
    "ds": "DawidSkene",
    "onecoin": "OneCoinDawidSkene",
    "glad": "GLAD",
    "mace": "MACE",
}


def crowdkit_labels(method: str, frame: pd.DataFrame) -> pd.Series | None:
    try:
        import crowdkit.aggregation as ck
    except ImportError:
        return None
    model = getattr(ck, PEERS[method])()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit_predict(frame)


def main() -> None:
    root = shared_data_dir() / "crowd"
    rows = []
    for folder in sorted(p for p in root.iterdir() if (p / "annotations.csv").exists()):
        data = load_crowd(folder)
        ann, truth = data.annotations, data.truth
        known = truth >= 0
        frame = ann.to_frame().rename(columns={"item": "task"})
        gold = pd.Series(ann.classes[truth[known]], index=ann.item_ids[known])
        for method in PEERS:
            ours = make_aggregator(method).fit(ann)
            acc = float((ours.label_codes_[known] == truth[known]).mean())
            peer = crowdkit_labels(method, frame)
            peer_acc = float("nan")
            if peer is not None:
                aligned = peer.reindex(gold.index)
                peer_acc = float((aligned.to_numpy() == gold.to_numpy()).mean())
            rows.append(
                {
                    "data set": folder.name,
                    "method": method,
                    "crowd-kit class": PEERS[method],
                    "labelwise acc": acc,
                    "crowd-kit acc": peer_acc,
                    "diff (points)": 100 * (acc - peer_acc),
                }
            )
        # variants that locate the differences (see RESULTS.md)
        glad_u = make_aggregator("glad", learn_prior=False).fit(ann)
        rows.append(
            {
                "data set": folder.name,
                "method": "glad, uniform prior",
                "crowd-kit class": "GLAD",
                "labelwise acc": float((glad_u.label_codes_[known] == truth[known]).mean()),
                "crowd-kit acc": rows[-2]["crowd-kit acc"],
                "diff (points)": float("nan"),
            }
        )
        rows[-1]["diff (points)"] = 100 * (rows[-1]["labelwise acc"] - rows[-1]["crowd-kit acc"])
        try:
            import crowdkit.aggregation as ck

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                em = ck.MACE(method="em").fit_predict(frame)
            em_acc = float((em.reindex(gold.index).to_numpy() == gold.to_numpy()).mean())
            ours = rows[-2]["labelwise acc"]
            rows.append(
                {
                    "data set": folder.name,
                    "method": "mace (crowd-kit method='em')",
                    "crowd-kit class": "MACE(method='em')",
                    "labelwise acc": ours,
                    "crowd-kit acc": em_acc,
                    "diff (points)": 100 * (ours - em_acc),
                }
            )
        except ImportError:
            pass
    table = pd.DataFrame(rows)
    print(f"machine: {machine()}")
    print_table(table, "Accuracy against gold")
    big = table[np.abs(table["diff (points)"]) > 0.5]
    if len(big):
        print(
            "\nDifferences over 0.5 points:",
            ", ".join(f"{r['data set']}/{r['method']}" for _, r in big.iterrows()),
        )


if __name__ == "__main__":
    main()
