"""Image quality: blurry, too dark, too bright and low-information images.

Scores per image (grey levels scaled to [0, 1]; colour images averaged over
channels):

- ``blur``: variance of the Laplacian (4-neighbour kernel); low = blurry;
- ``brightness``: mean grey level;
- ``entropy``: Shannon entropy (bits) of a 32-bin grey-level histogram; low = little
  information (blank or nearly uniform images).

Flags compare each image with the rest of the data set, so they work on any kind of
image (a data set of dark X-rays is not all "too dark"): a score is flagged when it
lies more than ``z`` robust standard deviations (``1.4826 * MAD``) beyond the
median on its bad side, or past an absolute floor/ceiling (``brightness < 0.05`` or
``> 0.95``, ``entropy < 0.5`` bit) that no useful image reaches.

Example
-------
>>> import numpy as np
>>> from labelwise.curate import image_quality
>>> rng = np.random.default_rng(0)
>>> imgs = rng.random((30, 8, 8))
>>> imgs[4] = 0.0
>>> bool(image_quality(imgs).is_dark[4])
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise._validation import check_number
from labelwise.errors import InputError

__all__ = ["ImageQuality", "image_quality"]


@dataclass(frozen=True)
class ImageQuality:
    """Per-image scores and flags (all arrays of length n)."""

    blur: NDArray[np.float64]
    brightness: NDArray[np.float64]
    entropy: NDArray[np.float64]
    is_blurry: NDArray[np.bool_]
    is_dark: NDArray[np.bool_]
    is_bright: NDArray[np.bool_]
    is_low_information: NDArray[np.bool_]

    @property
    def any_issue(self) -> NDArray[np.bool_]:
        """Images with at least one flag."""
        return self.is_blurry | self.is_dark | self.is_bright | self.is_low_information


def _grey(images: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(images)
    if arr.ndim == 4:
        arr = arr.mean(axis=-1)
    if arr.ndim != 3:
        raise InputError(
            f"images must be (n, height, width) or (n, height, width, channels); got {arr.shape}."
        )
    if arr.shape[0] == 0 or min(arr.shape[1:]) < 3:
        raise InputError(f"images must hold at least one image of 3x3 pixels; got {arr.shape}.")
    x = arr.astype(np.float64)
    bad = ~np.isfinite(x).reshape(x.shape[0], -1).all(axis=1)
    if bad.any():
        raise InputError(f"images row {int(np.flatnonzero(bad)[0])} has a NaN or infinite pixel.")
    if np.asarray(images).dtype == np.uint8:
        return x / 255.0
    top = float(x.max())
    return x / top if top > 1.0 else x


def _robust_z(v: NDArray[np.float64]) -> NDArray[np.float64]:
    med = np.median(v)
    mad = np.median(np.abs(v - med)) * 1.4826
    if mad == 0:
        mad = float(np.std(v)) or 1.0
    return (v - med) / mad


def image_quality(images: ArrayLike, *, z: float = 3.5) -> ImageQuality:
    """Score and flag blurry, dark, bright and low-information images.

    Parameters
    ----------
    images : array (n, h, w) or (n, h, w, c)
        uint8 (0-255) or floats (scaled by the maximum when it exceeds 1).
    z : float
        Robust z-score beyond which a score is flagged.

    Returns
    -------
    ImageQuality
    """
    check_number(z, "z", "image_quality", low=0, low_open=True)
    g = _grey(images)
    lap = (
        -4 * g[:, 1:-1, 1:-1] + g[:, :-2, 1:-1] + g[:, 2:, 1:-1] + g[:, 1:-1, :-2] + g[:, 1:-1, 2:]
    )
    blur = lap.reshape(lap.shape[0], -1).var(axis=1)
    flat = g.reshape(g.shape[0], -1)
    brightness = flat.mean(axis=1)
    bins = np.minimum((np.clip(flat, 0, 1) * 32).astype(np.int64), 31)
    offs = bins + 32 * np.arange(flat.shape[0])[:, None]
    hist = np.bincount(offs.ravel(), minlength=32 * flat.shape[0]).reshape(-1, 32)
    prob = hist / flat.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(prob > 0, prob * np.log2(prob), 0.0).sum(axis=1)
    zb = _robust_z(np.log(blur + 1e-8))
    zl = _robust_z(brightness)
    ze = _robust_z(entropy)
    return ImageQuality(
        blur=blur,
        brightness=brightness,
        entropy=entropy,
        is_blurry=zb < -z,
        is_dark=(zl < -z) | (brightness < 0.05),
        is_bright=(zl > z) | (brightness > 0.95),
        is_low_information=(ze < -z) | (entropy < 0.5),
    )
