"""Outliers, duplicates, leakage, image quality and class balance, with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from labelwise.curate import (
    class_balance,
    exact_duplicates,
    find_leakage,
    find_near_duplicates,
    find_outliers,
    image_quality,
    nearest_neighbors,
    outlier_flags,
)
from labelwise.errors import InputError, ParameterError


def test_outliers_flag_the_planted_ones_only():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 6))
    X[[3, 77, 400]] += np.array([15.0, -14.0, 16.0])[:, None]
    res = find_outliers(X, metric="l2")
    assert set(res.ranking.tolist()) == {3, 77, 400}
    assert res.score[res.is_outlier].min() > res.threshold >= res.score[~res.is_outlier].max()


def test_outlier_rule_is_robust_z_on_log_scores():
    score = np.r_[np.ones(99), np.e**10]
    flags, _thr = outlier_flags(score)
    assert flags.tolist() == [False] * 99 + [True]
    with pytest.raises(ParameterError, match="'z' parameter of outlier_flags"):
        outlier_flags(score, z=-1)


def test_exact_duplicates_grouped():
    X = np.arange(24, dtype=float).reshape(8, 3)
    X[5] = X[1]
    X[7] = X[1]
    X[6] = X[2]
    d = exact_duplicates(X)
    assert sorted(map(tuple, d.pairs.tolist())) == [(1, 5), (1, 7), (2, 6)]
    assert d.n_groups == 2
    assert d.group[1] == d.group[5] == d.group[7] != d.group[2]
    assert np.flatnonzero(d.redundant).tolist() == [5, 6, 7]
    assert exact_duplicates(np.eye(3)).pairs.shape == (0, 2)


def test_near_duplicates_sets_by_connected_components():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 16))
    X[50] = X[10] * 3.0  # scaled copy: cosine 1
    X[51] = X[10] + 0.01 * rng.normal(size=16)
    X[120] = X[60] + 0.01 * rng.normal(size=16)
    d = find_near_duplicates(X, threshold=0.99)
    assert {tuple(p) for p in d.pairs.tolist()} == {(10, 50), (10, 51), (50, 51), (60, 120)}
    assert d.n_groups == 2
    assert d.group[10] == d.group[50] == d.group[51]
    assert (d.similarity >= 0.99).all()
    assert d.redundant.sum() == 3


def test_near_duplicates_through_the_ivf_path():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(3000, 8)).astype(np.float32)
    X[2999] = X[5] * 1.5
    nb = nearest_neighbors(X, 5, exact=False, nprobe=4)
    assert (nb.index != np.arange(3000)[:, None]).all()  # self excluded
    d = find_near_duplicates(neighbors=nb, threshold=0.999)
    assert d.pairs.tolist() == [[5, 2999]]


def test_leakage_finds_planted_test_copies():
    rng = np.random.default_rng(3)
    train = rng.normal(size=(300, 10))
    test = rng.normal(size=(50, 10))
    test[[4, 9]] = train[[17, 200]] * 0.5
    lk = find_leakage(train, test)
    assert np.flatnonzero(lk.is_leaked).tolist() == [4, 9]
    assert lk.train_match[[4, 9]].tolist() == [17, 200]
    assert lk.n_leaked == 2
    with pytest.raises(InputError, match="X_test has 9 features but X_train has 10"):
        find_leakage(train, test[:, :9])


def test_nan_features_name_the_row():
    X = np.ones((5, 3))
    X[2, 1] = np.nan
    with pytest.raises(InputError, match="X has a non-finite value at row 2, column 1"):
        find_outliers(X)
    with pytest.raises(InputError, match="row 2"):
        exact_duplicates(X)


def test_image_quality_flags_each_kind():
    rng = np.random.default_rng(0)
    imgs = (rng.random((40, 16, 16)) * 0.6 + 0.2) * 255
    imgs[3] = 2  # dark and blank
    imgs[7] = 250  # bright and blank
    smooth = np.linspace(0.3, 0.7, 16)[None, :] * np.ones((16, 1)) * 255
    imgs[11] = smooth  # a gradient: no edges at all
    q = image_quality(imgs.astype(np.uint8))
    assert np.flatnonzero(q.is_dark).tolist() == [3]
    assert np.flatnonzero(q.is_bright).tolist() == [7]
    # the gradient uses 13 grey levels where the noise images use 19: less information too
    assert set(np.flatnonzero(q.is_low_information).tolist()) == {3, 7, 11}
    assert {3, 7, 11} <= set(np.flatnonzero(q.is_blurry).tolist())
    assert q.brightness[3] == pytest.approx(2 / 255)
    assert q.entropy[3] == 0.0
    with pytest.raises(InputError, match=r"images must be \(n, height, width\)"):
        image_quality(np.zeros((4, 5)))
    bad = np.zeros((3, 4, 4))
    bad[1, 0, 0] = np.nan
    with pytest.raises(InputError, match="images row 1 has a NaN"):
        image_quality(bad)


def test_class_balance_counts_and_rare():
    frame = class_balance(["a"] * 8 + ["b"] * 3 + ["c"], classes=["a", "b", "c", "d"])
    assert frame["class"].tolist() == ["a", "b", "c", "d"]
    assert frame["count"].tolist() == [8, 3, 1, 0]
    assert frame["rare"].tolist() == [False, False, True, True]
    assert frame["share"].sum() == pytest.approx(1)
    with pytest.raises(InputError, match="labels row 1 is missing"):
        class_balance(["a", None, "b"])
