"""The small CNN of the cost-optimised labeling study, as a scikit-learn classifier.

Prendki's noise-versus-volume study on CIFAR-10 (2020) trains a small convolutional
network of about 7 layers and 309,000 parameters that reaches about 89% test
accuracy. The study does not publish its layer list; :func:`small_cnn` is a network
of that shape and size: six 3 x 3 convolutions (32, 32 | 64, 64 | 128, 144 channels,
batch norm and ReLU, max-pooling after each pair), global average pooling and one
linear layer: 7 weight layers, 307,834 parameters for 10 classes.

:class:`SmallCNNClassifier` wraps it in the scikit-learn contract, so that
:func:`~labelwise.scaling.noise_volume_study` (which clones and fits its estimator)
runs in the study's own setting: ``noise_volume_study(SmallCNNClassifier(device=
"cuda"), X, y, ...)`` with ``X`` the images flattened to (n, 32 * 32 * 3).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, ClassifierMixin

from labelwise._validation import check_features, check_is_fitted, check_number
from labelwise.errors import InputError

__all__ = ["SmallCNNClassifier", "small_cnn"]

CHANNELS = (32, 32, 64, 64, 128, 144)


def small_cnn(n_classes: int = 10, in_channels: int = 3) -> Any:
    """The 7-layer CNN (a ``torch.nn.Sequential``); 307,834 parameters for 10 classes."""
    from torch import nn

    layers: list[Any] = []
    prev = in_channels
    for i, width in enumerate(CHANNELS):
        layers += [
            nn.Conv2d(prev, width, 3, padding=1),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
        ]
        if i % 2 == 1:
            layers.append(nn.MaxPool2d(2))
        prev = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(prev, n_classes)]
    return nn.Sequential(*layers)


class SmallCNNClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """:func:`small_cnn` trained with SGD (Nesterov momentum, one-cycle learning rate),
    random crops and flips.

    Parameters
    ----------
    epochs : int
        Passes over the training set (the study's setting: 30 on a GPU).
    batch_size : int
    lr : float
        Peak learning rate of the one-cycle schedule.
    weight_decay : float
    augment : bool
        Random 4-pixel-padded crops and horizontal flips.
    image_shape : (height, width, channels)
        How a row of ``X`` is laid out (channels last, as images are stored).
    device : str
        A torch device; ``"cuda"`` without a GPU raises
        :class:`~labelwise.errors.ResourceError` (no silent fallback).
    random_state : int or None

    Attributes
    ----------
    classes_ : ndarray (K,)
    model_ : the trained ``torch.nn.Module`` (on the CPU)
    n_parameters_ : int
    """

    def __init__(
        self,
        *,
        epochs: int = 30,
        batch_size: int = 128,
        lr: float = 0.1,
        weight_decay: float = 5e-4,
        augment: bool = True,
        image_shape: tuple[int, int, int] = (32, 32, 3),
        device: str = "cpu",
        random_state: int | None = None,
    ):
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.augment = augment
        self.image_shape = image_shape
        self.device = device
        self.random_state = random_state

    def _images(self, X: ArrayLike) -> NDArray[np.float32]:
        data = check_features(X, "X")
        h, w, c = self.image_shape
        if data.shape[1] != h * w * c:
            raise InputError(
                f"X has {data.shape[1]} features; image_shape {self.image_shape} needs "
                f"{h * w * c} (images flattened channels last)."
            )
        imgs = np.asarray(data, dtype=np.float32).reshape(-1, h, w, c).transpose(0, 3, 1, 2)
        return np.ascontiguousarray(imgs)

    def fit(self, X: ArrayLike, y: ArrayLike) -> SmallCNNClassifier:
        """Train on images ``X`` (n, h * w * c) and labels ``y``; return ``self``."""
        import torch
        from torch import nn

        from labelwise.aggregate._torch import torch_device

        name = type(self).__name__
        check_number(self.epochs, "epochs", name, kind=int, low=1)
        check_number(self.batch_size, "batch_size", name, kind=int, low=1)
        check_number(self.lr, "lr", name, low=0, low_open=True)
        dev = torch_device(self.device, name)
        imgs = self._images(X)
        self.classes_, codes = np.unique(np.asarray(y), return_inverse=True)
        if len(codes) != len(imgs):
            raise InputError(f"X has {len(imgs)} rows but y has {len(codes)}.")
        self.mean_ = imgs.mean(axis=(0, 2, 3), keepdims=True)
        self.std_ = imgs.std(axis=(0, 2, 3), keepdims=True) + 1e-6
        seed = int(np.random.default_rng(self.random_state).integers(2**31 - 1))
        gen = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        model = small_cnn(len(self.classes_), imgs.shape[1]).to(dev)
        data = torch.from_numpy((imgs - self.mean_) / self.std_)
        target = torch.from_numpy(codes.astype(np.int64))
        steps = -(-len(data) // self.batch_size)
        opt = torch.optim.SGD(
            model.parameters(),
            lr=self.lr,
            momentum=0.9,
            nesterov=True,
            weight_decay=self.weight_decay,
        )
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=self.lr, total_steps=self.epochs * steps
        )
        loss_fn = nn.CrossEntropyLoss()
        model.train()
        for _ in range(self.epochs):
            order = torch.randperm(len(data), generator=gen)
            for b in range(steps):
                idx = order[b * self.batch_size : (b + 1) * self.batch_size]
                xb = data[idx]
                if self.augment:
                    xb = _augment(xb, gen)
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(xb.to(dev)), target[idx].to(dev))
                loss.backward()
                opt.step()
                sched.step()
        self.model_ = model.eval().cpu()
        self.n_parameters_ = sum(p.numel() for p in model.parameters())
        return self

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float64]:
        """Class probabilities (n, K), columns in ``classes_`` order."""
        import torch

        from labelwise.aggregate._torch import torch_device

        check_is_fitted(self, "model_")
        dev = torch_device(self.device, type(self).__name__)
        imgs = (self._images(X) - self.mean_) / self.std_
        model = self.model_.to(dev)
        out = []
        with torch.no_grad():
            for start in range(0, len(imgs), 1024):
                xb = torch.from_numpy(imgs[start : start + 1024]).to(dev)
                out.append(torch.softmax(model(xb), dim=1).cpu().numpy())
        self.model_ = model.cpu()
        return np.concatenate(out).astype(np.float64)

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """The most probable class of each row."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]  # type: ignore[no-any-return]


def _augment(xb: Any, gen: Any) -> Any:
    """A random 4-pixel-padded crop (one offset per batch) and per-image horizontal flips."""
    import torch
    from torch.nn import functional

    b, _, h, w = xb.shape
    padded = functional.pad(xb, (4, 4, 4, 4), mode="reflect")
    dy, dx = torch.randint(0, 9, (2,), generator=gen).tolist()
    out = padded[:, :, dy : dy + h, dx : dx + w]
    flip = torch.rand(b, generator=gen) < 0.5
    return torch.where(flip[:, None, None, None], out.flip(3), out)
