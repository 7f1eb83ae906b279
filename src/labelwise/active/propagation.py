"""Label spreading over the k-nearest-neighbour graph of a pool's embeddings.

Neighbours in a good embedding space mostly share their label (on MiniLM embeddings
of AG News 82% of the 10 nearest neighbours do, on digits 96%), so the few labels
bought so far say something about their unlabeled neighbours. :func:`knn_affinity`
builds the graph once with the shared :class:`~labelwise.index.NeighborIndex`;
:func:`label_spreading` (Zhou et al., NIPS 2003) spreads the labels over it and
returns a class distribution per row, from which the active learner takes
pseudo-labels for the confident rows.

Example
-------
>>> import numpy as np
>>> from labelwise.active.propagation import knn_affinity, label_spreading
>>> rng = np.random.default_rng(0)
>>> X = np.vstack([rng.normal(0, 0.1, (20, 2)) + [1, 0], rng.normal(0, 0.1, (20, 2)) + [0, 1]])
>>> S = knn_affinity(X, k=5)
>>> F = label_spreading(S, [0, 20], [0, 1], n_classes=2)
>>> F[:20].argmax(axis=1).tolist() == [0] * 20, F[20:].argmax(axis=1).tolist() == [1] * 20
(True, True)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from labelwise._validation import check_features, check_number
from labelwise.errors import InputError

__all__ = ["knn_affinity", "label_spreading"]


def knn_affinity(embeddings: ArrayLike, *, k: int = 10, index: Any = None) -> sp.csr_matrix:
    """Symmetric, degree-normalised cosine affinity of each row to its ``k`` nearest rows.

    Parameters
    ----------
    embeddings : array, shape (n, d)
    k : int
        Neighbours per row (the graph keeps an edge if either end chose it).
    index : NeighborIndex or None
        An index already fitted on ``embeddings`` (cosine metric); ``None`` builds one.

    Returns
    -------
    scipy.sparse.csr_matrix, shape (n, n)
        ``D^-1/2 W D^-1/2`` with ``W`` the clipped cosine similarities: the operator
        that :func:`label_spreading` iterates.
    """
    from labelwise.index import NeighborIndex

    E = check_features(embeddings, "embeddings")
    n = E.shape[0]
    check_number(k, "k", "knn_affinity", kind=int, low=1)
    k = min(k, n - 1)
    if k < 1:
        raise InputError(f"a neighbour graph needs at least 2 rows; embeddings has {n}.")
    if index is None:
        index = NeighborIndex(metric="cosine").fit(E)
    elif getattr(index, "n_", None) != n or getattr(index, "metric", None) != "cosine":
        raise InputError(f"index must be a cosine NeighborIndex fitted on the {n} embedding rows.")
    dist, nn = index.search(E, k + 1)
    rows = np.repeat(np.arange(n), k + 1)
    cols = nn.ravel()
    sim = np.clip(1.0 - dist.ravel().astype(np.float64), 0.0, None)
    keep = (cols >= 0) & (cols != rows) & (sim > 0)  # the row itself and missing neighbours
    W = sp.csr_matrix((sim[keep], (rows[keep], cols[keep])), shape=(n, n))
    W = W.maximum(W.T)
    deg = np.asarray(W.sum(axis=1)).ravel()
    inv = 1.0 / np.sqrt(np.where(deg > 0, deg, 1.0))
    return sp.csr_matrix(sp.diags(inv) @ W @ sp.diags(inv))


def label_spreading(
    affinity: Any,
    labeled: ArrayLike,
    labels: ArrayLike,
    *,
    n_classes: int,
    alpha: float = 0.99,
    n_iter: int = 30,
) -> NDArray[np.float64]:
    """Spread integer ``labels`` (0..n_classes-1) of rows ``labeled`` over ``affinity``.

    Iterates ``F <- alpha S F + (1 - alpha) Y`` (Zhou et al. 2003), then rescales each
    class's column to the class's share among the labels (class mass normalisation:
    without it a large class floods the graph) and each row to sum to one.

    Returns
    -------
    ndarray, shape (n, n_classes)
        A class distribution per row; a row the labels never reach is all zeros.
    """
    S = sp.csr_matrix(affinity)
    n = S.shape[0]
    idx = np.asarray(labeled, dtype=np.int64).ravel()
    lab = np.asarray(labels).ravel()
    if S.shape != (n, n):
        raise InputError(f"affinity must be square; got shape {S.shape}.")
    if idx.shape != lab.shape:
        raise InputError(f"labeled has {idx.size} rows; labels has {lab.size}.")
    check_number(n_classes, "n_classes", "label_spreading", kind=int, low=1)
    check_number(alpha, "alpha", "label_spreading", low=0, high=1, high_open=True)
    check_number(n_iter, "n_iter", "label_spreading", kind=int, low=1)
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise InputError(f"labeled holds a row outside the graph of {n} rows.")
    if lab.size and (not np.issubdtype(lab.dtype, np.integer) or lab.min() < 0):
        raise InputError("labels must be integer class codes >= 0.")
    if lab.size and lab.max() >= n_classes:
        raise InputError(f"label {int(lab.max())} is outside 0..{n_classes - 1}.")
    Y = np.zeros((n, n_classes))
    Y[idx, lab] = 1.0
    F = Y.copy()
    for _ in range(n_iter):
        F = alpha * (S @ F) + (1.0 - alpha) * Y
    share = Y.sum(axis=0) / max(Y.sum(), 1.0)
    mass = F.sum(axis=0)
    F = F * (share / np.where(mass > 0, mass, 1.0))
    total = F.sum(axis=1, keepdims=True)
    return np.asarray(F / np.where(total > 0, total, 1.0), dtype=np.float64)
