"""No EM aggregator's default collapses onto one class on the real dense crowds, and a
collapse is detected and reported when it happens."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from labelwise import Annotations
from labelwise.aggregate import GLAD, METHODS, CollapseWarning, MajorityVote, OneCoinDawidSkene
from labelwise.aggregate._collapse import vote_top_shares

DENSE = ("rte", "temp", "wsd", "web", "sentiment_polarity", "labelme")
EM = ("ds", "onecoin", "glad", "mace")


@pytest.fixture(scope="module")
def crowds(shared_data):
    out = {}
    for name in DENSE:
        folder = shared_data / "crowd" / name
        ann = Annotations.read(folder / "annotations.csv")
        gold = pd.read_csv(folder / "gold.csv", dtype=str)
        by_item = dict(zip(gold["item"], gold["label"], strict=True))
        truth = np.array([by_item.get(str(i)) for i in ann.item_ids], dtype=object)
        out[name] = (ann, truth)
    return out


@pytest.mark.parametrize("method", EM)
def test_em_defaults_do_not_collapse_on_dense_real_crowds(crowds, method):
    for name, (ann, truth) in crowds.items():
        with warnings.catch_warnings():
            warnings.simplefilter("error", CollapseWarning)
            warnings.filterwarnings("ignore", message=".*max_iter.*")
            model = METHODS[method]().fit(ann)
        assert model.collapsed_ is False
        shares = np.bincount(model.label_codes_, minlength=ann.n_classes) / ann.n_items
        vote = vote_top_shares(ann)
        # the class mix stays within 10 points of the vote's on every class
        assert np.abs(shares - vote).max() < 0.1, (name, method, shares, vote)
        known = np.array([t is not None for t in truth])
        labels = np.array([str(v) for v in model.labels_], dtype=object)
        acc = float((labels[known] == truth[known]).mean())
        mv = MajorityVote().fit(ann).labels_.astype(str)
        mv_acc = float((mv[known] == truth[known]).mean())
        assert acc >= mv_acc - 0.01, (name, method, acc, mv_acc)


def test_glad_default_keeps_a_uniform_prior():
    assert GLAD().learn_prior is False


def _biased_crowd(seed: int = 0) -> tuple[Annotations, np.ndarray]:
    """Two classes, 39 two-coin annotators who mostly say class 1: symmetric-error
    models have no way to express the bias and fall onto class 1."""
    rng = np.random.default_rng(seed)
    n, w = 108, 39
    truth = (rng.random(n) < 0.45).astype(int)
    sens, spec = rng.beta(4, 2, w), rng.beta(2, 2, w)
    hard = rng.random(n) < 0.3
    item, worker = np.repeat(np.arange(n), w), np.tile(np.arange(w), n)
    p1 = np.where(truth[item] == 1, sens[worker], 1 - spec[worker])
    p1 = np.where(hard[item], 0.5 * p1 + 0.35, p1)
    label = (rng.random(item.size) < p1).astype(int)
    return Annotations.from_codes(item, worker, label, n_items=n, n_workers=w, n_classes=2), truth


def test_a_collapse_is_reported():
    ann, _ = _biased_crowd()
    with pytest.warns(CollapseWarning, match="collapsed onto class 1"):
        model = OneCoinDawidSkene().fit(ann)
    assert model.collapsed_ is True
    assert (model.label_codes_ == 1).mean() >= 0.9
    assert vote_top_shares(ann)[1] < 0.8


def test_vote_top_shares_split_ties():
    ann = Annotations.from_codes(
        [0, 0, 1, 1, 2], [0, 1, 0, 1, 0], [0, 1, 1, 1, 2], n_items=3, n_workers=2, n_classes=3
    )
    assert vote_top_shares(ann).tolist() == pytest.approx([1 / 6, 1 / 2, 1 / 3])
