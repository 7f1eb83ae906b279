"""Agreement statistics against hand-computed values and reference implementations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from _crowd import make_crowd
from labelwise import Annotations, DawidSkene
from labelwise.agreement import (
    annotator_quality,
    cohen_kappa,
    fleiss_kappa,
    item_agreement,
    krippendorff_alpha,
    pairwise_cohen_kappa,
    wilson_interval,
)
from labelwise.errors import InputError, ParameterError


def _full_panel(table: np.ndarray) -> Annotations:
    """Annotations where rater j gave table[i, j] to item i."""
    n, r = table.shape
    return Annotations.from_arrays(
        np.repeat(np.arange(n), r),
        np.tile(np.arange(r), n),
        table.ravel(),
        classes=sorted(set(table.ravel())),
    )


def test_fleiss_kappa_matches_the_textbook_example():
    # Fleiss (1971) style counts: 10 items, 14 raters, 5 categories (Wikipedia's worked example)
    counts = np.array(
        [
            [0, 0, 0, 0, 14],
            [0, 2, 6, 4, 2],
            [0, 0, 3, 5, 6],
            [0, 3, 9, 2, 0],
            [2, 2, 8, 1, 1],
            [7, 7, 0, 0, 0],
            [3, 2, 6, 3, 0],
            [2, 5, 3, 2, 2],
            [6, 5, 2, 1, 0],
            [0, 2, 2, 3, 7],
        ]
    )
    rows = [np.repeat(np.arange(5), c) for c in counts]
    table = np.stack(rows)
    ann = _full_panel(table)
    assert fleiss_kappa(ann) == pytest.approx(0.210, abs=1e-3)


def test_krippendorff_alpha_matches_the_reference_example():
    # Krippendorff's canonical nominal example: 4 coders, 12 units, missing data
    data = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    ]
    rows = [(u, c, v) for c, coder in enumerate(data) for u, v in enumerate(coder) if v is not None]
    df = pd.DataFrame(rows, columns=["item", "worker", "label"])
    ann = Annotations.from_frame(df)
    assert krippendorff_alpha(ann) == pytest.approx(0.743, abs=1e-3)


def test_cohen_kappa_matches_sklearn():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 3, 200)
    b = np.where(rng.random(200) < 0.7, a, rng.integers(0, 3, 200))
    ann = _full_panel(np.stack([a, b], axis=1))
    assert cohen_kappa(ann, 0, 1) == pytest.approx(cohen_kappa_score(a, b))
    pairs = pairwise_cohen_kappa(ann, min_overlap=1)
    assert len(pairs) == 1 and pairs["kappa"].iloc[0] == pytest.approx(cohen_kappa_score(a, b))
    assert pairs["n_shared"].iloc[0] == 200
    with pytest.raises(InputError, match="unknown annotator 'zz'"):
        cohen_kappa(ann, 0, "zz")


def test_pairwise_kappa_only_pairs_with_enough_overlap():
    ann, _ = make_crowd(n_items=100, per_item=2, seed=1)
    pairs = pairwise_cohen_kappa(ann, min_overlap=5)
    assert (pairs["n_shared"] >= 5).all()
    # every listed kappa equals the single-pair computation
    for _, row in pairs.head(3).iterrows():
        assert row["kappa"] == pytest.approx(cohen_kappa(ann, row["worker_a"], row["worker_b"]))
    with pytest.raises(ParameterError, match="min_overlap"):
        pairwise_cohen_kappa(ann, min_overlap=0)


def test_perfect_agreement_gives_one():
    table = np.tile(np.array([[0], [1], [2], [1]]), (1, 3))
    ann = _full_panel(table)
    assert fleiss_kappa(ann) == pytest.approx(1.0)
    assert krippendorff_alpha(ann) == pytest.approx(1.0)
    assert item_agreement(ann, np.array([0, 1, 2, 1])).tolist() == [1.0, 1.0, 1.0, 1.0]


def test_annotator_quality_flags_few_items_and_ranks_worst_first():
    ann, truth = make_crowd(n_items=300, accuracies=(0.95, 0.9, 0.5, 0.85), per_item=2, seed=4)
    # an extra annotator with 3 answers only
    extra = pd.DataFrame({"item": [0, 1, 2], "worker": [77, 77, 77], "label": truth[:3]})
    ann = Annotations.from_frame(pd.concat([ann.to_frame(), extra], ignore_index=True))
    ds = DawidSkene().fit(ann)
    q = annotator_quality(ann, ds.label_codes_, min_items=10)
    assert q["worker"].iloc[0] == 2  # the 0.5-accuracy annotator is worst
    newbie = q[q["worker"] == 77].iloc[0]
    assert not newbie["scored"] and np.isnan(newbie["quality"])
    assert "too few items (3 < 10)" in newbie["note"]
    assert q["scored"].iloc[-1] == False  # noqa: E712 - unreliable rows go last
    known = q["agreement"].notna()
    assert (q.loc[known, "agreement_low"] <= q.loc[known, "agreement"]).all()
    assert (q.loc[known, "agreement"] <= q.loc[known, "agreement_high"]).all()


def test_annotator_quality_on_gold():
    ann, truth = make_crowd(n_items=200, accuracies=(0.9, 0.6), per_item=2, k=3, seed=5)
    gold = {i: int(truth[i]) for i in range(100)}
    q = annotator_quality(ann, truth.astype(np.int64), gold=gold, min_items=10).set_index("worker")
    assert (q["n_gold"] == 100).all()
    assert q.loc[0, "gold_accuracy"] > q.loc[1, "gold_accuracy"]
    assert (q["note"] == "scored on gold").all()


def test_label_array_errors():
    ann, _ = make_crowd(n_items=20)
    with pytest.raises(InputError, match="one entry per item"):
        item_agreement(ann, np.zeros(3, dtype=int))
    with pytest.raises(InputError, match="integer class codes"):
        annotator_quality(ann, np.zeros(20))


def test_wilson_interval_contains_the_proportion():
    lo, hi = wilson_interval(np.array([0, 5, 10]), np.array([10, 10, 10]))
    p = np.array([0, 0.5, 1.0])
    assert np.all(lo <= p) and np.all(p <= hi) and lo[0] == pytest.approx(0.0, abs=1e-12)
