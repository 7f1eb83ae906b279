"""Label spreading over the neighbour graph: known answers on separated blobs, errors."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits

from labelwise.active.propagation import knn_affinity, label_spreading
from labelwise.errors import InputError, ParameterError
from labelwise.index import NeighborIndex


def _blobs(sizes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    centres = np.eye(len(sizes), 5) * 3 + 1
    X = np.vstack([rng.normal(c, 0.2, size=(m, 5)) for c, m in zip(centres, sizes, strict=True)])
    return X, np.repeat(np.arange(len(sizes)), sizes)


def test_affinity_is_symmetric_sparse_and_without_self_loops() -> None:
    X, _ = _blobs((30, 30))
    S = knn_affinity(X, k=5)
    assert S.shape == (60, 60)
    assert abs(S - S.T).max() < 1e-12
    assert S.diagonal().max() == 0
    assert (S.getnnz(axis=1) >= 5).all() and S.nnz <= 60 * 10
    again = knn_affinity(X, k=5, index=NeighborIndex(metric="cosine").fit(X))
    assert abs(again - S).max() < 1e-6


def test_spreading_recovers_separated_classes_from_one_label_each() -> None:
    # unequal classes: class-mass normalisation keeps the big class from flooding
    X, y = _blobs((100, 20, 40))
    first = [0, 100, 120]
    F = label_spreading(knn_affinity(X, k=8), first, y[first], n_classes=3)
    assert F.shape == (160, 3)
    np.testing.assert_allclose(F.sum(axis=1), 1.0)
    assert (F.argmax(axis=1) == y).all()


def test_spreading_on_digits_is_right_where_confident() -> None:
    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(0)
    lab = rng.choice(len(y), 50, replace=False)
    F = label_spreading(knn_affinity(X / 16.0, k=10), lab, y[lab], n_classes=10)
    sure = F.max(axis=1) >= np.quantile(F.max(axis=1), 0.5)
    assert (F.argmax(axis=1)[sure] == y[sure]).mean() > 0.95
    assert (F.argmax(axis=1) == y).mean() > 0.8


def test_unreached_rows_are_zero() -> None:
    X, _y = _blobs((20, 20))
    F = label_spreading(knn_affinity(X, k=3), [0], [0], n_classes=2)
    assert np.allclose(F[20:], 0) and np.allclose(F[:20, 0], 1)


def test_errors() -> None:
    X, _y = _blobs((10, 10))
    S = knn_affinity(X, k=3)
    with pytest.raises(InputError, match="at least 2 rows"):
        knn_affinity(X[:1])
    with pytest.raises(InputError, match="fitted on the 20 embedding rows"):
        knn_affinity(X, index=NeighborIndex(metric="cosine").fit(X[:10]))
    with pytest.raises(InputError, match="square"):
        label_spreading(S[:5], [0], [0], n_classes=2)
    with pytest.raises(InputError, match="labeled has 2 rows; labels has 1"):
        label_spreading(S, [0, 1], [0], n_classes=2)
    with pytest.raises(InputError, match="outside the graph of 20 rows"):
        label_spreading(S, [25], [0], n_classes=2)
    with pytest.raises(InputError, match="label 2 is outside 0..1"):
        label_spreading(S, [0], [2], n_classes=2)
    with pytest.raises(InputError, match="integer class codes"):
        label_spreading(S, [0], [0.5], n_classes=2)
    with pytest.raises(ParameterError, match="alpha"):
        label_spreading(S, [0], [0], n_classes=2, alpha=1.0)
