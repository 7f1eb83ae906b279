"""Scene features for LabelMe's images, without a pretrained network.

``scene_features``: a gradient-orientation histogram (8 orientations, magnitude
weighted, square-rooted) on a 4 x 4 and a 2 x 2 grid of the grey 64 x 64 image (the
layout of edges that tells a street from a coast, as in HOG/GIST), beside the pixel
features of ``benchmarks/routing.py``. Standardised logistic regression (C=0.03)
reaches 0.789 in 5-fold cross-validation on the 1,000 gold labels, against 0.506
for the pixel features alone.
"""

from __future__ import annotations

import numpy as np

from labelwise.datasets import shared_data_dir
from routing import pixel_features


def _orientation_grid(grey: np.ndarray, grid: int, bins: int = 8) -> np.ndarray:
    gy, gx = np.gradient(grey, axis=(1, 2))
    mag = np.hypot(gx, gy)
    b = np.minimum((np.mod(np.arctan2(gy, gx), np.pi) / np.pi * bins).astype(int), bins - 1)
    n, size = grey.shape[0], grey.shape[1] // grid
    out = np.zeros((n, grid, grid, bins))
    for i in range(grid):
        for j in range(grid):
            cell = (slice(None), slice(i * size, (i + 1) * size), slice(j * size, (j + 1) * size))
            m, bb = mag[cell].reshape(n, -1), b[cell].reshape(n, -1)
            for k in range(bins):
                out[:, i, j, k] = (m * (bb == k)).sum(axis=1)
    out = out.reshape(n, -1)
    return np.sqrt(out / (out.sum(axis=1, keepdims=True) + 1e-9))


def scene_features(item_ids: np.ndarray) -> np.ndarray:
    """Rows in ``item_ids`` order: orientation grids (4 x 4 and 2 x 2) + pixel features."""
    z = np.load(shared_data_dir() / "crowd" / "labelme" / "images_64.npz", allow_pickle=True)
    row = {str(v): i for i, v in enumerate(z["item"])}
    imgs = z["images"][[row[str(v)] for v in item_ids]].astype(np.float32) / 255
    grey = imgs.mean(axis=3)
    pix = pixel_features("labelme", item_ids)
    assert pix is not None
    return np.hstack([_orientation_grid(grey, 4), _orientation_grid(grey, 2), pix])
