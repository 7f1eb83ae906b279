"""The small CNN of the cost-optimised labeling study (torch on the CPU here)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

import torch
from sklearn.base import clone

from _torch_threads import one_torch_thread  # noqa: F401
from labelwise.errors import InputError, ResourceError
from labelwise.models import SmallCNNClassifier, small_cnn
from labelwise.scaling import noise_volume_study

SHAPE = (8, 8, 3)


# small images keep the CPU test short; the layers are the same


def _images(n, seed=0):
    """Two classes told apart by a bright square's place (top or bottom half; flips keep it)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = rng.uniform(0, 0.3, (n, *SHAPE)).astype(np.float32)
    for i, c in enumerate(y):
        top = rng.integers(0, 2) + 5 * c
        left = rng.integers(0, 6)
        X[i, top : top + 2, left : left + 3, :] = 1.0
    return X.reshape(n, -1), np.array(["top", "bottom"])[y]


def test_the_network_has_the_study_shape():
    net = small_cnn(10)
    weights = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d | torch.nn.Linear)]
    assert len(weights) == 7
    assert sum(p.numel() for p in net.parameters()) == 307_834
    assert net(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_learns_a_visual_concept_and_is_reproducible():
    X, y = _images(128)  # 5 epochs of 4 batches: 1.0 on held-out images
    Xt, yt = _images(200, seed=1)
    model = SmallCNNClassifier(
        epochs=5, batch_size=32, lr=0.05, image_shape=SHAPE, random_state=0
    ).fit(X, y)
    assert model.score(Xt, yt) >= 0.9
    assert list(model.classes_) == ["bottom", "top"] and model.n_parameters_ == 306_674
    proba = model.predict_proba(Xt)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    again = clone(model).fit(X, y)
    np.testing.assert_allclose(again.predict_proba(Xt), proba, atol=1e-5)


def test_runs_inside_the_noise_volume_study():
    X, y = _images(160)
    study = noise_volume_study(
        SmallCNNClassifier(epochs=1, batch_size=32, lr=0.05, image_shape=SHAPE),
        X, y, noise_levels=(0.2,), fractions=(0.5,), noise_kinds=("uniform",), repeats=1,
    )  # fmt: skip
    assert study.noise_confusion.shape == (1, 2, 1, 2, 2)
    assert study.volume_confusion.shape == (2, 1, 2, 2)


def test_errors_are_clear():
    X, y = _images(20)
    with pytest.raises(InputError, match=r"X has 100 features; image_shape \(8, 8, 3\) needs"):
        SmallCNNClassifier(epochs=1, image_shape=SHAPE).fit(np.zeros((20, 100)), y)
    if not torch.cuda.is_available():
        with pytest.raises(ResourceError, match="no CUDA GPU"):
            SmallCNNClassifier(device="cuda", image_shape=SHAPE).fit(X, y)
