"""Annotator contributions: what each annotator's answers are worth to the consensus."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from typer.testing import CliRunner

from labelwise.annotations import Annotations
from labelwise.cli import app
from labelwise.contrib import (
    annotator_contributions,
    approximate_contributions,
    leave_one_out_contributions,
)


def skilled_crowd(seed=0, n_items=400, n_workers=30, k=3, per_item=3, careless=2):
    """A crowd with known accuracies; the last ``careless`` annotators answer at chance
    on 40% of the items each (more answers than anyone else)."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n_items)
    acc = np.concatenate([rng.uniform(0.4, 0.95, n_workers), np.full(careless, 1.0 / k)])
    items, workers = [], []
    for i in range(n_items):
        items += [i] * per_item
        workers += list(rng.choice(n_workers, per_item, replace=False))
    for c in range(careless):
        sel = np.flatnonzero(rng.random(n_items) < 0.4)
        items += sel.tolist()
        workers += [n_workers + c] * sel.shape[0]
    it, wk = np.asarray(items), np.asarray(workers)
    right = rng.random(it.shape[0]) < acc[wk]
    label = np.where(right, truth[it], (truth[it] + rng.integers(1, k, it.shape[0])) % k)
    ann = Annotations.from_codes(
        it, wk, label, n_items=n_items, n_workers=acc.shape[0], n_classes=k
    )
    return ann, truth, acc


def test_contributions_sum_exactly_on_items_answered_once():
    ann, truth, _ = skilled_crowd(n_items=200, per_item=2, careless=0)
    # a 31st annotator who alone answers 20 further items (all correctly but two)
    solo_items = np.arange(200, 220)
    solo_labels = truth[:20].copy()
    solo_labels[:2] = (solo_labels[:2] + 1) % 3
    full = Annotations.from_codes(
        np.concatenate([ann.item, solo_items]),
        np.concatenate([ann.worker, np.full(20, ann.n_workers)]),
        np.concatenate([ann.label, solo_labels]),
        n_items=220,
        n_workers=ann.n_workers + 1,
        n_classes=3,
    )
    gold = np.concatenate([truth, truth[:20]]).astype(np.int32)
    frame = approximate_contributions(full, method="onecoin", gold=gold).set_index("worker")
    # removing the only answer of an item leaves the class prior there, so the solo
    # annotator's contribution is the sum over their items of p(gold) - prior(gold)
    from labelwise.aggregate import OneCoinDawidSkene

    model = OneCoinDawidSkene().fit(full)
    # the posterior of a lone answer l: prior * confusion[w, :, l], normalised
    post = model.prior_ * model.confusion_[ann.n_workers][:, solo_labels].T
    post /= post.sum(axis=1, keepdims=True)
    expected = (post[np.arange(20), gold[solo_items]] - model.prior_[gold[solo_items]]).sum()
    assert frame.loc[ann.n_workers, "contribution"] == pytest.approx(expected, rel=1e-9)
    # the change in items the consensus gets right: with the answer vs the prior's class
    right_with = int((post.argmax(axis=1) == gold[solo_items]).sum())
    right_without = int((gold[solo_items] == model.prior_.argmax()).sum())
    assert frame.loc[ann.n_workers, "accuracy_delta"] == right_with - right_without
    assert frame.loc[ann.n_workers, "contribution"] > 0


def test_contribution_follows_true_accuracy_and_careless_rank_low():
    ann, truth, acc = skilled_crowd()
    frame = annotator_contributions(ann, gold=truth.astype(np.int32)).set_index("worker")
    frame = frame.loc[np.arange(ann.n_workers)]
    rho = spearmanr(frame["information"], acc)[0]
    assert rho >= 0.8
    # the two careless annotators answered the most and rank in the bottom fifth
    assert frame["n_answers"].iloc[-2:].min() > frame["n_answers"].iloc[:-2].max()
    rank = frame["information"].rank()
    assert rank.iloc[-2:].max() <= 0.2 * ann.n_workers + 1
    # exact leave-one-out and the one-fit approximation agree on the ranking
    assert spearmanr(frame["contribution"], frame["loo_contribution"])[0] > 0.6
    assert spearmanr(frame["loo_contribution"], acc)[0] > 0.5


def test_without_gold_careless_still_rank_low():
    ann, _truth, _acc = skilled_crowd(seed=3, n_items=300, n_workers=12, careless=2)
    frame = annotator_contributions(ann)  # reference: the consensus of the others
    assert frame["loo_accuracy_delta"].eq(0).all()  # no gold, no accuracy to change
    assert frame["accuracy_delta"].eq(0).all()
    assert set(frame["worker"].iloc[:3]) >= {12, 13}  # sorted by information, lowest first


def test_downstream_delta_with_features():
    ann, truth, _acc = skilled_crowd(seed=4, n_items=300, n_workers=10, careless=1)
    rng = np.random.default_rng(0)
    x = np.eye(3)[truth] * 2 + rng.normal(size=(300, 3))
    hold = np.zeros(300, dtype=bool)
    hold[:100] = True
    frame = leave_one_out_contributions(ann, gold=truth.astype(np.int32), features=x, holdout=hold)
    assert frame["downstream_delta"].notna().all()
    assert frame["downstream_delta"].abs().max() < 0.3


def test_cli_annotators_contribution(tmp_path):
    ann, truth, _ = skilled_crowd(n_items=300, n_workers=10)
    ann.to_frame().to_csv(tmp_path / "a.csv", index=False)
    pd.DataFrame({"item": np.arange(300), "label": truth}).to_csv(tmp_path / "g.csv", index=False)
    out = tmp_path / "q.csv"
    result = CliRunner().invoke(
        app,
        [
            "annotators",
            str(tmp_path / "a.csv"),
            "--gold",
            str(tmp_path / "g.csv"),
            "--contribution",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert {"contribution", "information", "loo_contribution", "loo_accuracy_delta"} <= set(
        table.columns
    )
    assert table["information"].is_monotonic_increasing
    assert set(table["worker"].iloc[:3]) >= {10, 11}  # the careless ones among the first
