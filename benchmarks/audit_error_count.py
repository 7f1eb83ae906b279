"""How many labels are wrong? The estimated count and its range against real human noise.

Set-ups where the truth is known (real annotators' mistakes, gold as the truth):

- ``crowd``: each dense real crowd in ../shared/data/crowd/ (and LabelMe): one random
  answer per item is the given label; the model that never saw it is Dawid-Skene on
  the item's *other* answers (3 seeds);
- ``labelme pixels``: LabelMe's 1,000 images, the given label one annotator's answer
  (or the majority vote of the crowd); the model is logistic regression on 16 x 16
  colour thumbnails, out of fold (5 folds): a weak model, which the audit's
  ``check_label_model`` does not trust;
- ``... + 5% gold``: the same, with the true class of 5% of the items known.

For each: the true number of wrong labels, the confident joint's single number
(``LabelIssues.n_estimated``, what labelwise printed before), its ratio to the truth,
the range ``error_count_range`` states (with ``trusted`` from ``check_label_model``)
and whether the truth is inside. cleanlab's ``num_label_issues`` on the same
probabilities is printed when cleanlab is installed (``.bench-venv``).

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/audit_error_count.py [--seeds 3]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd

from _common import machine, print_table
from labelwise.aggregate import DawidSkene, MajorityVote
from labelwise.curate import error_count_range, find_label_issues, out_of_fold_proba
from labelwise.curate.audit import check_label_model
from labelwise.datasets import load_crowd, shared_data_dir

SETS = ("rte", "temp", "wsd", "sentiment_polarity", "web", "labelme")

try:  # the peer, when installed
    from cleanlab.count import num_label_issues
except ImportError:  # pragma: no cover - optional
    num_label_issues = None


def one_answer(ann, rng) -> tuple[np.ndarray, np.ndarray]:
    """One random answer per item as the label; the mask of the others."""
    order = rng.permutation(ann.n_annotations)
    _, first = np.unique(ann.item[order], return_index=True)
    given = np.full(ann.n_items, -1)
    given[ann.item[order[first]]] = ann.label[order[first]]
    rest = np.ones(ann.n_annotations, dtype=bool)
    rest[order[first]] = False
    return given, rest


def row(setup, name, seed, y, p, truth, gold=None) -> dict:
    issues = find_label_issues(y, p)
    check = check_label_model(y, p, issues.n_estimated)
    count = error_count_range(y, p, trusted=check.trusted, gold=gold)
    true = int((y != truth).sum())
    out = {
        "set": name,
        "set-up": setup,
        "seed": seed,
        "true errors": true,
        "estimate (one number)": issues.n_estimated,
        "ratio": issues.n_estimated / max(true, 1),
        "range": f"{count.low}-{count.high}",
        "basis": count.basis,
        "truth in range": count.low <= true <= count.high,
        "model acc": float(np.mean(p.argmax(1) == truth)),
    }
    if num_label_issues is not None:
        out["cleanlab"] = int(num_label_issues(y, p))
    return out


def thumbnails(ann) -> np.ndarray:
    z = np.load(shared_data_dir() / "crowd" / "labelme" / "images_64.npz", allow_pickle=True)
    pos = {str(v): i for i, v in enumerate(z["item"])}
    imgs = z["images"][[pos[str(i)] for i in ann.item_ids]].astype(np.float32) / 255
    return imgs.reshape(len(imgs), 16, 4, 16, 4, 3).mean(axis=(2, 4)).reshape(len(imgs), -1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    print(f"machine: {machine()}")
    rows = []
    for name in SETS:
        crowd = load_crowd(name)
        ann, truth = crowd.annotations, crowd.truth.astype(np.int64)
        for seed in range(args.seeds):
            given, rest = one_answer(ann, np.random.default_rng(seed))
            sub = ann.subset(rest)
            p = DawidSkene().fit(sub).proba_
            keep = (given >= 0) & (truth >= 0) & (sub.annotations_per_item() > 0)
            rows.append(row("crowd", name, seed, given[keep], p[keep], truth[keep]))
        print(pd.DataFrame(rows).tail(args.seeds).to_string(index=False), flush=True)
    crowd = load_crowd("labelme")
    ann, truth = crowd.annotations, crowd.truth.astype(np.int64)
    X = thumbnails(ann)
    for seed in range(args.seeds):
        rng = np.random.default_rng(seed)
        given, _ = one_answer(ann, rng)
        gold = np.full(ann.n_items, -1)
        pick = rng.choice(ann.n_items, size=ann.n_items // 20, replace=False)
        gold[pick] = truth[pick]
        majority = MajorityVote().fit(ann).proba_.argmax(axis=1)
        for label, y in (("one answer", given), ("majority", majority)):
            p = out_of_fold_proba(X, y, random_state=seed)
            rows.append(row(f"pixels, {label}", "labelme", seed, y, p, truth))
            rows.append(row(f"pixels, {label} + 5% gold", "labelme", seed, y, p, truth, gold))
        print(pd.DataFrame(rows).tail(4).to_string(index=False), flush=True)
    table = pd.DataFrame(rows)
    print_table(table, "Estimated label errors against real human noise")
    summary = table.groupby(["set", "set-up"], sort=False).agg(
        truth=("true errors", "median"),
        ratio_min=("ratio", "min"),
        ratio_max=("ratio", "max"),
        in_range=("truth in range", "sum"),
        runs=("truth in range", "size"),
    )
    print_table(summary.reset_index(), "Summary: one number's ratio to the truth; truth in range")


if __name__ == "__main__":
    main()
