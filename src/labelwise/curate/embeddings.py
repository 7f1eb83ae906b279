"""Embeddings for near-duplicate search that survive crops, shifts, recolouring and re-encoding.

Raw pixels make a poor duplicate detector: a copy shifted by two pixels, cropped,
recoloured or saved again as JPEG moves far in pixel space, while two unrelated
images with the same background stay close. The descriptors here keep what a
near copy keeps:

- :func:`hog_features`: histograms of gradient orientations over small cells,
  block-normalised (Dalal & Triggs 2005). Gradients ignore colour and brightness
  and the cell pooling absorbs a shift of a pixel or two.
- :func:`dct_hash_features`: the low frequencies of the grey image's 2-D DCT, the
  quantity a perceptual hash (pHash) thresholds into bits; kept as real numbers so
  that the cosine ranks near copies. Survives re-encoding, blur and contrast changes.
- :func:`thumbnail_features`: an 8 x 8 grey thumbnail, normalised to zero mean and
  unit variance (a brightness/contrast change leaves it unchanged).
- :func:`colour_features`: a coarse joint histogram of chroma; a weak part,
  since a recoloured copy changes it.

:func:`image_embedding` concatenates the parts with weights, centres them on the
data set and whitens them with a PCA (the common directions of every image, such
as "bright sky on top", then stop dominating the cosine). :func:`text_embedding`
is the text counterpart: character n-gram TF-IDF, which survives re-encoding,
punctuation and small edits. A pretrained model's embedding (for example MiniLM
sentence embeddings) can be passed to the detectors instead.

Example
-------
>>> import numpy as np
>>> from labelwise.curate.embeddings import image_embedding
>>> imgs = np.random.default_rng(0).integers(0, 256, size=(20, 32, 32, 3), dtype=np.uint8)
>>> image_embedding(imgs).shape[0]
20
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise._validation import check_number
from labelwise.errors import InputError

__all__ = [
    "colour_features",
    "dct_hash_features",
    "hog_features",
    "image_embedding",
    "text_embedding",
    "thumbnail_features",
]

#: Weight of each descriptor in :func:`image_embedding` (applied after each part is
#: L2-normalised per image).
DEFAULT_WEIGHTS = {"hog": 1.0, "dct": 0.8, "thumbnail": 0.6, "colour": 0.25}


def _check_images(images: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(images)
    if arr.ndim == 3:
        arr = arr[..., None]
    if arr.ndim != 4 or arr.shape[-1] not in (1, 3):
        raise InputError(
            f"images must have shape (n, height, width) or (n, height, width, 1|3); "
            f"got {arr.shape}."
        )
    if arr.shape[0] == 0:
        raise InputError("images is empty.")
    if arr.shape[1] < 8 or arr.shape[2] < 8:
        raise InputError(f"images must be at least 8 x 8 pixels; got {arr.shape[1:3]}.")
    out = arr.astype(np.float32)  # float32 halves the memory traffic of every part
    if not np.isfinite(out).all():
        raise InputError("images contain NaN or infinite values.")
    if out.max() > 1.5:  # 0..255 pixels
        out = out / np.float32(255.0)
    return out


def _grey(img: NDArray[np.float64]) -> NDArray[np.float64]:
    if img.shape[-1] == 1:
        return img[..., 0]
    return img @ np.array([0.299, 0.587, 0.114], dtype=img.dtype)


def _l2(x: NDArray[np.float64], axis: int = -1) -> NDArray[np.float64]:
    n = np.linalg.norm(x, axis=axis, keepdims=True)
    return x / np.maximum(n, 1e-12)


def _resize(grey: NDArray[np.float64], size: int) -> NDArray[np.float64]:
    """Area-average resize of (n, h, w) to (n, size, size) (bilinear when upsampling)."""
    n, h, w = grey.shape
    if h % size == 0 and w % size == 0:
        return grey.reshape(n, size, h // size, size, w // size).mean(axis=(2, 4))
    from scipy.ndimage import zoom

    return zoom(grey, (1, size / h, size / w), order=1)


def hog_features(images: ArrayLike, *, cell: int = 4, orientations: int = 9) -> NDArray[np.float64]:
    """Histogram-of-oriented-gradients descriptor of each image, (n, d).

    Unsigned gradient orientations are binned (linearly split between the two
    nearest bins) into ``orientations`` bins over ``cell`` x ``cell`` pixel cells,
    and every 2 x 2 block of cells is L2-Hys normalised, as in Dalal & Triggs.
    Colour images use, at each pixel, the channel with the strongest gradient.
    """
    check_number(cell, "cell", "hog_features", kind=int, low=2)
    check_number(orientations, "orientations", "hog_features", kind=int, low=2)
    img = _check_images(images)
    n, h, w, _c = img.shape
    gy = np.zeros_like(img)
    gx = np.zeros_like(img)
    gy[:, 1:-1] = img[:, 2:] - img[:, :-2]
    gx[:, :, 1:-1] = img[:, :, 2:] - img[:, :, :-2]
    mag = np.hypot(gx, gy)
    best = mag.argmax(axis=-1)[..., None]
    mag = np.take_along_axis(mag, best, -1)[..., 0]
    ang = np.mod(
        np.arctan2(np.take_along_axis(gy, best, -1), np.take_along_axis(gx, best, -1))[..., 0],
        np.pi,
    )
    pos = ang / np.pi * orientations - 0.5
    lo = np.floor(pos).astype(np.int64)
    frac = pos - lo
    hc, wc = h // cell, w // cell
    hh, ww = hc * cell, wc * cell
    # flat bin number (image, cell row, cell column, orientation) of every pixel
    cell_of = (np.arange(hh)[:, None] // cell) * wc + (np.arange(ww)[None, :] // cell)
    base = (np.arange(n)[:, None, None] * (hc * wc) + cell_of[None]) * orientations
    mag = mag[:, :hh, :ww]
    size = n * hc * wc * orientations
    hist = np.zeros(size)
    for b, wgt in ((lo % orientations, 1 - frac), ((lo + 1) % orientations, frac)):
        code = base + b[:, :hh, :ww]
        hist += np.bincount(code.ravel(), (wgt[:, :hh, :ww] * mag).ravel(), minlength=size)
    hist = hist.reshape(n, hc, wc, orientations)
    if hc < 2 or wc < 2:
        return _l2(hist.reshape(n, -1))
    blocks = np.concatenate(
        [hist[:, :-1, :-1], hist[:, 1:, :-1], hist[:, :-1, 1:], hist[:, 1:, 1:]], axis=-1
    )
    blocks = _l2(blocks)
    blocks = _l2(np.minimum(blocks, 0.2))  # L2-Hys: clip, renormalise
    return blocks.reshape(n, -1)


def dct_hash_features(images: ArrayLike, *, size: int = 32, keep: int = 8) -> NDArray[np.float64]:
    """The ``keep`` x ``keep`` lowest 2-D DCT frequencies of the grey image (DC dropped), (n, d).

    These are the numbers a perceptual hash (pHash) compares with their median to
    make 64 bits; they are kept as reals and centred on each image's median so
    that the cosine between two images counts agreeing hash bits, weighted by how
    far each coefficient is from flipping.
    """
    from scipy.fft import dctn

    check_number(keep, "keep", "dct_hash_features", kind=int, low=2)
    grey = _resize(_grey(_check_images(images)), size)
    coef = dctn(grey, axes=(1, 2), norm="ortho")[:, :keep, :keep].reshape(grey.shape[0], -1)[:, 1:]
    coef = coef - np.median(coef, axis=1, keepdims=True)
    return _l2(coef)


def thumbnail_features(images: ArrayLike, *, size: int = 8) -> NDArray[np.float64]:
    """A ``size`` x ``size`` grey thumbnail with zero mean and unit norm per image, (n, size**2)."""
    check_number(size, "size", "thumbnail_features", kind=int, low=2)
    grey = _resize(_grey(_check_images(images)), size).reshape(-1, size * size)
    return _l2(grey - grey.mean(axis=1, keepdims=True))


def colour_features(images: ArrayLike, *, bins: int = 4) -> NDArray[np.float64]:
    """A ``bins`` x ``bins`` joint chroma histogram, square-rooted, (n, bins**2).

    Grey images get a constant histogram (every image alike), so the part adds nothing.
    """
    img = _check_images(images)
    n = img.shape[0]
    if img.shape[-1] == 1:
        return np.full((n, bins * bins), 1.0 / bins)
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    u = np.clip((b - y) / 0.886 * 0.5 + 0.5, 0, 1 - 1e-9)
    v = np.clip((r - y) / 0.701 * 0.5 + 0.5, 0, 1 - 1e-9)
    code = (u * bins).astype(np.int64) * bins + (v * bins).astype(np.int64)
    code = code.reshape(n, -1) + np.arange(n)[:, None] * bins * bins
    hist = np.bincount(code.ravel(), minlength=n * bins * bins).reshape(n, -1).astype(np.float64)
    return _l2(np.sqrt(hist))


_PARTS: dict[str, Callable[[ArrayLike], NDArray[np.float64]]] = {
    "hog": hog_features,
    "dct": dct_hash_features,
    "thumbnail": thumbnail_features,
    "colour": colour_features,
}


def _whiten(x: NDArray[np.float64], n_components: int | None) -> NDArray[np.float64]:
    """Centre and PCA-whiten with the square root of the spectrum (a partial whitening)."""
    x = x - x.mean(axis=0)
    k = min(x.shape) if n_components is None else min(n_components, *x.shape)
    if k < 2:
        return x
    _u, s, vt = np.linalg.svd(x[:: max(1, x.shape[0] // 20_000)], full_matrices=False)
    proj = x @ vt[:k].T
    scale = np.sqrt(np.maximum(s[:k], s[0] * 1e-6))
    return _l2(proj / scale)


def image_embedding(
    images: ArrayLike,
    *,
    weights: dict[str, float] | None = None,
    n_components: int | None = 256,
    batch_size: int = 2_000,
) -> NDArray[np.float32]:
    """An embedding of each image for near-duplicate search, (n, d) float32, unit rows.

    Parameters
    ----------
    images : array (n, h, w) or (n, h, w, 1|3)
        Pixels, 0-255 integers or 0-1 floats.
    weights : dict, optional
        Weight of each part (``"hog"``, ``"dct"``, ``"thumbnail"``, ``"colour"``);
        a part with weight 0 is skipped. Default :data:`DEFAULT_WEIGHTS`.
    n_components : int or None
        Keep this many principal directions after centring (``None``: all).
    batch_size : int
        Images described at a time (bounds memory).

    Returns
    -------
    ndarray (n, d)
        Centred, partially whitened and L2-normalised: compare with the cosine.
    """
    w = dict(DEFAULT_WEIGHTS if weights is None else weights)
    unknown = sorted(set(w) - set(_PARTS))
    if unknown:
        raise InputError(f"unknown embedding part(s) {unknown}; choose from {sorted(_PARTS)}.")
    arr = np.asarray(images)
    _check_images(arr[:1])
    check_number(batch_size, "batch_size", "image_embedding", kind=int, low=1)
    chunks = []
    for start in range(0, arr.shape[0], batch_size):
        part = arr[start : start + batch_size]
        feats = [fn(part) * w[name] for name, fn in _PARTS.items() if w.get(name, 0) > 0]
        if not feats:
            raise InputError("every embedding part has weight 0.")
        chunks.append(np.concatenate(feats, axis=1))
    return _whiten(np.concatenate(chunks), n_components).astype(np.float32)


def text_embedding(
    texts: Sequence[Any], *, n_components: int = 256, random_state: int = 0
) -> NDArray[np.float32]:
    """Character 3-5-gram TF-IDF of each text reduced to ``n_components`` dimensions, (n, d).

    Up to ``4 * n_components`` texts the TF-IDF rows are returned whole (exact cosine);
    beyond, a truncated SVD keeps memory linear in the number of texts.

    Lower-cased, with HTML entities and runs of white space folded, so that a
    re-encoded or re-punctuated copy lands next to its original. Rows are unit
    length: compare with the cosine.
    """
    import html
    import re

    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    if len(texts) == 0:
        raise InputError("texts is empty.")
    clean = []
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise InputError(f"texts[{i}] is {type(t).__name__}, not a string: {t!r}.")
        t = html.unescape(t.replace(" #39;", "'").replace("#39;", "'"))
        clean.append(re.sub(r"\s+", " ", t.lower()).strip())
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True)
    try:
        tf = vec.fit_transform(clean)
    except ValueError:  # too few texts to have a repeated n-gram
        vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
        tf = vec.fit_transform(clean)
    k = min(n_components, tf.shape[1] - 1, tf.shape[0] - 1)
    if k < 2 or tf.shape[0] <= 4 * n_components:  # small: the exact TF-IDF cosine is cheap
        return _l2(tf.toarray()).astype(np.float32)
    svd = TruncatedSVD(n_components=k, random_state=random_state)
    return _l2(svd.fit_transform(tf)).astype(np.float32)
