"""The number of wrong labels as a range, checked on real human noise: one crowd
annotator's answer per item as the label, gold as the truth."""

from __future__ import annotations

import numpy as np
import pytest

from labelwise.aggregate import DawidSkene
from labelwise.curate import error_count_range, find_label_issues
from labelwise.datasets import load_crowd
from labelwise.errors import InputError


def _one_answer_labels(name: str, seed: int):
    """One random answer per item as the given label; the item's other answers
    (Dawid-Skene) as the model that never saw it."""
    crowd = load_crowd(name)
    ann, truth = crowd.annotations, crowd.truth.astype(np.int64)
    rng = np.random.default_rng(seed)
    order = rng.permutation(ann.n_annotations)
    _, first = np.unique(ann.item[order], return_index=True)
    given = np.full(ann.n_items, -1)
    given[ann.item[order[first]]] = ann.label[order[first]]
    rest = np.ones(ann.n_annotations, dtype=bool)
    rest[order[first]] = False
    proba = DawidSkene().fit(ann.subset(rest)).proba_
    keep = (given >= 0) & (truth >= 0) & (ann.subset(rest).annotations_per_item() > 0)
    return given[keep], proba[keep], truth[keep]


@pytest.mark.parametrize("name", ["rte", "labelme"])
def test_truth_falls_in_the_range_on_real_noise(name: str) -> None:
    y, p, truth = _one_answer_labels(name, 0)
    count = find_label_issues(y, p).count
    true_errors = int((y != truth).sum())
    assert count is not None and count.basis == "model"
    assert count.low <= true_errors <= count.high
    assert count.low <= count.estimate <= count.high
    assert count.high < 2 * max(true_errors, 10)


def test_weak_model_drops_the_low_end_and_gold_gives_direct_evidence() -> None:
    y, p, truth = _one_answer_labels("labelme", 1)
    # a model no better than guessing: every label looks doubtful
    flat = np.full_like(p, 1.0 / p.shape[1])
    flat = 0.7 * flat + 0.3 * np.random.default_rng(0).dirichlet(np.ones(p.shape[1]), len(y))
    weak = error_count_range(y, flat, trusted=False)
    assert weak.low == 0 and weak.basis == "weak model"
    true_errors = int((y != truth).sum())
    gold = np.full(len(y), -1)
    pick = np.random.default_rng(2).choice(len(y), 100, replace=False)
    gold[pick] = truth[pick]
    with_gold = error_count_range(y, flat, trusted=False, gold=gold)
    assert with_gold.basis == "gold"
    assert with_gold.low <= true_errors <= with_gold.high
    with pytest.raises(InputError, match="gold must have one code per item"):
        error_count_range(y, p, gold=gold[:5])
    with pytest.raises(InputError, match="is not a class code"):
        error_count_range(y, p, gold=np.full(len(y), 99))
