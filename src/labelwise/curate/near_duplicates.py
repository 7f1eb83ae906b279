"""Near duplicates with a threshold calibrated on the data, not one fixed cosine.

A fixed cosine such as 0.98 means something different for every embedding: on
raw pixels it flags unrelated images with the same flat background, on HOG
features it misses every real copy (their cosines sit at 0.77-0.93). What marks a
near copy in any embedding is that it is far closer to its original than either
item is to its *ordinary* neighbours. So each pair gets a **gap**::

    gap(i, j) = cos(i, j) - (r_i + r_j) / 2

where ``r_i`` is the mean cosine of item ``i`` to its neighbours ranked
``ordinary[0]`` to ``ordinary[1]`` (by default the 5th to the 20th: past the few
near copies an item may have, inside its crowd of look-alikes). The
threshold is then read off the data: every item's best gap forms a distribution
whose bulk is ordinary neighbours; its median and median absolute deviation give
a robust z-score, and a pair is a near duplicate when its gap lies
``z_threshold`` robust deviations above the median (default 8). The cosine that
this corresponds to is stated in :class:`Calibration`.

Exact copies (identical content keys, see :func:`content_keys`) are always pairs,
with similarity 1 and an infinite z-score, whatever the calibration says.

Example
-------
>>> import numpy as np
>>> from labelwise.curate.near_duplicates import near_duplicates
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(500, 64))
>>> X[7] = X[200] + 0.05 * rng.normal(size=64)
>>> near_duplicates(X).pairs.tolist()
[[7, 200]]
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from labelwise._validation import check_features, check_number
from labelwise.curate.duplicates import _groups
from labelwise.errors import InputError, ParameterError
from labelwise.index import NeighborIndex

__all__ = ["Calibration", "NearDuplicates", "content_keys", "near_duplicates"]

#: Robust z-score above which a pair's gap marks a near duplicate.
DEFAULT_Z = 8.0
#: Cosine at which two items are identical to the embedding (they count whatever the gap).
DEFAULT_IDENTICAL = 0.995
#: Neighbour ranks (0-based, end exclusive) whose mean similarity is an item's ordinary level.
DEFAULT_ORDINARY = (5, 20)
#: The median absolute deviation is floored at this share of the median gap's scale, so
#: that data with almost no spread (many identical rows) cannot make every pair a duplicate.
_MIN_SCALE = 1e-4


@dataclass(frozen=True)
class Calibration:
    """How the near-duplicate threshold was read off the data.

    Attributes
    ----------
    median, scale : float
        Median and robust scale (1.4826 x MAD) of every query item's best gap.
    z_threshold : float
        A pair is a near duplicate when ``(gap - median) / scale >= z_threshold``.
    ordinary : (int, int)
        Neighbour ranks whose mean cosine is an item's ordinary similarity.
    ordinary_similarity : float
        Median ordinary similarity over the items (for orientation).
    n_items : int
        Items the distribution was taken over.
    """

    median: float
    scale: float
    z_threshold: float
    ordinary: tuple[int, int]
    ordinary_similarity: float
    n_items: int
    identical: float = DEFAULT_IDENTICAL

    @property
    def gap_threshold(self) -> float:
        """The gap a pair needs: ``median + z_threshold * scale``."""
        return self.median + self.z_threshold * self.scale

    def describe(self) -> str:
        """One sentence that states the threshold in the embedding's own units."""
        a, b = self.ordinary
        return (
            f"near duplicate = cosine at least {self.gap_threshold:.3f} above the mean cosine "
            f"of both items to their neighbours ranked {a + 1}-{b} (median of that ordinary "
            f"level {self.ordinary_similarity:.3f}); {self.gap_threshold:.3f} = median best gap "
            f"{self.median:.3f} + {self.z_threshold:g} x robust scale {self.scale:.4f} over "
            f"{self.n_items} items; exact copies and pairs at cosine >= {self.identical:g} "
            "always count"
        )


@dataclass(frozen=True)
class NearDuplicates:
    """Near-duplicate pairs with their evidence.

    Attributes
    ----------
    pairs : ndarray of int (m, 2)
        Within one set: ``i < j`` rows of ``X``. Across two sets: (row of ``X``, row
        of ``reference``). Strongest first.
    similarity, gap, z : ndarray (m,)
        Cosine of the pair, its gap over the ordinary level, its robust z-score
        (``inf`` for exact copies).
    exact : ndarray of bool (m,)
        Pairs with identical content keys.
    calibration : Calibration
    n : int
        Rows of ``X``.
    n_reference : int or None
        Rows of ``reference`` (``None`` for a search within ``X``).
    """

    pairs: NDArray[np.int64]
    similarity: NDArray[np.float64]
    gap: NDArray[np.float64]
    z: NDArray[np.float64]
    exact: NDArray[np.bool_]
    calibration: Calibration
    n: int
    n_reference: int | None = None

    @property
    def n_pairs(self) -> int:
        """Number of pairs."""
        return int(self.pairs.shape[0])

    def flagged(self) -> NDArray[np.bool_]:
        """Rows of ``X`` that have at least one near duplicate (in ``reference`` when given)."""
        out = np.zeros(self.n, dtype=bool)
        out[self.pairs[:, 0]] = True
        if self.n_reference is None:
            out[self.pairs[:, 1]] = True
        return out

    def groups(self) -> NDArray[np.int64]:
        """Connected sets of near duplicates, ``-1`` for items in none.

        Within one set: shape (n,). Across two: shape (n + n_reference,), the rows
        of ``X`` first and then those of ``reference``.
        """
        if self.n_reference is None:
            return _groups(self.pairs, self.n)[0]
        shifted = self.pairs + np.array([0, self.n])
        return _groups(shifted, self.n + self.n_reference)[0]

    def frame(self, ids: ArrayLike | None = None, reference_ids: ArrayLike | None = None) -> Any:
        """The pairs as a table: ``a, b, similarity, gap, z, exact`` (ids when given)."""
        a = np.asarray(ids)[self.pairs[:, 0]] if ids is not None else self.pairs[:, 0]
        ref = reference_ids if self.n_reference is not None else ids
        b = np.asarray(ref)[self.pairs[:, 1]] if ref is not None else self.pairs[:, 1]
        return pd.DataFrame(
            {
                "a": a,
                "b": b,
                "similarity": self.similarity,
                "gap": self.gap,
                "z": self.z,
                "exact": self.exact,
            }
        )


def content_keys(content: Sequence[Any] | NDArray[Any]) -> NDArray[np.object_]:
    """A SHA-1 key of each item's content: array rows (their bytes) or strings/bytes.

    Two items with the same key are exact copies; :func:`near_duplicates` always pairs them.
    """
    if isinstance(content, np.ndarray) and content.dtype != object:
        rows = np.ascontiguousarray(content).reshape(content.shape[0], -1)
        return np.array([hashlib.sha1(r.tobytes()).hexdigest() for r in rows], dtype=object)
    out = []
    for i, c in enumerate(content):
        if isinstance(c, str):
            c = c.encode("utf-8")
        if not isinstance(c, bytes):
            raise InputError(f"content[{i}] is {type(c).__name__}; expected str or bytes.")
        out.append(hashlib.sha1(c).hexdigest())
    return np.array(out, dtype=object)


def _exact_pairs(keys: NDArray[Any], ref_keys: NDArray[Any] | None) -> NDArray[np.int64]:
    if ref_keys is None:
        codes = pd.factorize(pd.Series(keys))[0]
        order = np.argsort(codes, kind="stable")
        c = codes[order]
        head = np.r_[True, c[1:] != c[:-1]]
        first = order[head][np.cumsum(head) - 1]
        dup = ~head
        return np.stack([first[dup], order[dup]], axis=1).astype(np.int64)
    ref = pd.Series(np.arange(len(ref_keys)), index=pd.Index(ref_keys))
    ref = ref[~ref.index.duplicated()]
    hit = pd.Index(ref.index).get_indexer(keys)
    rows = np.flatnonzero(hit >= 0)
    return np.stack([rows, ref.to_numpy()[hit[rows]]], axis=1).astype(np.int64)


def _check(k: int, ordinary: tuple[int, int], z_threshold: float, identical: float) -> None:
    check_number(k, "k", "near_duplicates", kind=int, low=1)
    check_number(z_threshold, "z_threshold", "near_duplicates", low=0, low_open=True)
    check_number(identical, "identical", "near_duplicates", low=0, low_open=True)
    a, b = ordinary
    if not (0 <= a < b):
        raise ParameterError(
            f"The 'ordinary' parameter of near_duplicates must be two ranks 0 <= a < b. "
            f"Got {ordinary!r} instead."
        )


def _own_index(index: NeighborIndex | None, data: NDArray[Any]) -> NeighborIndex:
    """``index`` when it was fitted on ``data``'s rows (cosine), else an exact flat index."""
    if index is None:
        return NeighborIndex(metric="cosine", kind="flat").fit(data)
    if getattr(index, "n_", None) != data.shape[0] or index.metric != "cosine":
        raise InputError(
            f"index must be a cosine index fitted on the {data.shape[0]} rows searched; it has "
            f"{getattr(index, 'n_', 'no')} rows and metric {index.metric!r}."
        )
    return index


def near_duplicates(
    X: ArrayLike,
    *,
    reference: ArrayLike | None = None,
    k: int = 10,
    ordinary: tuple[int, int] = DEFAULT_ORDINARY,
    z_threshold: float = DEFAULT_Z,
    keys: Sequence[Any] | NDArray[Any] | None = None,
    reference_keys: Sequence[Any] | NDArray[Any] | None = None,
    identical: float = DEFAULT_IDENTICAL,
    index: NeighborIndex | None = None,
) -> NearDuplicates:
    """Near-duplicate pairs within ``X``, or between ``X`` and ``reference``, by calibrated gap.

    Parameters
    ----------
    X : array (n, d)
        Embeddings (for example :func:`~labelwise.curate.embeddings.image_embedding`,
        sentence embeddings); compared by cosine.
    reference : array (n_ref, d), optional
        A second set (for example train, with ``X`` the test set): only pairs across
        the two are returned (leakage).
    k : int
        Candidate neighbours examined per item (an item with more than ``k`` copies
        still reaches them through the groups).
    ordinary : (int, int)
        Neighbour ranks whose mean cosine is an item's ordinary similarity.
    z_threshold : float
        Robust z-score of the gap above which a pair counts.
    keys, reference_keys : sequence, optional
        Content keys (:func:`content_keys`); equal keys are exact copies and always pairs.
    identical : float
        Pairs at this cosine or above count whatever their gap: the embedding cannot
        tell them apart (a text that differs only in case or spacing). Set it above 1
        to rely on the gap alone.
    index : NeighborIndex, optional
        An index already fitted on ``X`` (or on ``reference`` when given), used in
        place of the exact flat index: a :class:`~labelwise.distributed.ShardedIndex`
        for tens of millions of rows.

    Returns
    -------
    NearDuplicates
        Pairs, their similarity, gap and z-score, and the :class:`Calibration` used.
    """
    _check(k, ordinary, z_threshold, identical)
    data = check_features(X, "X")
    n = data.shape[0]
    depth = max(k, ordinary[1])
    if reference is None:
        if n < 3:
            raise InputError(f"near_duplicates needs at least 3 rows in X; got {n}.")
        depth = min(depth, n - 1)
        index = _own_index(index, data)
        dist, idx = index.neighbors_of_indexed(np.arange(n), depth)
        level = _ordinary_level(1.0 - dist.astype(np.float64), ordinary)
        ref_level = level
        ref_best = np.zeros(0)
        n_ref = None
    else:
        ref = check_features(reference, "reference")
        if ref.shape[1] != data.shape[1]:
            raise InputError(f"X has {data.shape[1]} features but reference has {ref.shape[1]}.")
        n_ref = ref.shape[0]
        if n_ref < 3:
            raise InputError(f"near_duplicates needs at least 3 reference rows; got {n_ref}.")
        depth = min(depth, n_ref - 1)
        index = _own_index(index, ref)
        dist, idx = index.search(data, depth)
        level = _ordinary_level(1.0 - dist.astype(np.float64), ordinary)
        rdist, ridx = index.neighbors_of_indexed(np.arange(n_ref), depth)
        rsim = 1.0 - rdist.astype(np.float64)
        ref_level = _ordinary_level(rsim, ordinary)
        ref_best = rsim[:, 0] - 0.5 * (ref_level + ref_level[np.maximum(ridx[:, 0], 0)])
    sim = np.minimum(1.0 - dist[:, : min(k, depth)].astype(np.float64), 1.0)
    idx = idx[:, : sim.shape[1]]
    gap = sim - 0.5 * (level[:, None] + ref_level[np.maximum(idx, 0)])
    # the null: every item's best gap, the reference's own (within the reference) too, so
    # that a query set made mostly of copies cannot inflate the scale it is judged by
    best = np.r_[gap[:, 0], ref_best]
    median = float(np.median(best))
    scale = float(1.4826 * np.median(np.abs(best - median)))
    scale = max(scale, _MIN_SCALE)
    calib = Calibration(
        median=median,
        scale=scale,
        z_threshold=float(z_threshold),
        ordinary=(int(ordinary[0]), int(ordinary[1])),
        ordinary_similarity=float(np.median(level)),
        n_items=int(best.shape[0]),
        identical=float(identical),
    )
    z = (gap - median) / scale
    hit = ((z >= z_threshold) | (sim >= identical)) & (idx >= 0)
    a = np.repeat(np.arange(n), hit.sum(axis=1))
    b = idx[hit]
    if reference is None:
        a, b = np.minimum(a, b), np.maximum(a, b)
    cand = pd.DataFrame({"a": a, "b": b, "s": sim[hit], "g": gap[hit], "z": z[hit], "e": False})
    if keys is not None:
        k_arr = np.asarray(keys, dtype=object)
        if k_arr.shape[0] != n:
            raise InputError(f"keys has {k_arr.shape[0]} entries but X has {n} rows.")
        r_arr = None
        if reference is not None:
            if reference_keys is None:
                raise InputError("keys was given for X but reference_keys is missing.")
            r_arr = np.asarray(reference_keys, dtype=object)
            if r_arr.shape[0] != n_ref:
                raise InputError(
                    f"reference_keys has {r_arr.shape[0]} entries but reference has {n_ref}."
                )
        ex = _exact_pairs(k_arr, r_arr)
        exact = pd.DataFrame(
            {"a": ex[:, 0], "b": ex[:, 1], "s": 1.0, "g": np.nan, "z": np.inf, "e": True}
        )
        cand = pd.concat([exact, cand], ignore_index=True)
    cand = cand.drop_duplicates(["a", "b"], keep="first")  # exact first, then the best gap
    cand = cand.sort_values(["z", "s", "a", "b"], ascending=[False, False, True, True])
    return NearDuplicates(
        pairs=cand[["a", "b"]].to_numpy(np.int64).reshape(-1, 2),
        similarity=cand["s"].to_numpy(np.float64),
        gap=cand["g"].to_numpy(np.float64),
        z=cand["z"].to_numpy(np.float64),
        exact=cand["e"].to_numpy(bool),
        calibration=calib,
        n=n,
        n_reference=n_ref,
    )


def _ordinary_level(sim: NDArray[np.float64], ordinary: tuple[int, int]) -> NDArray[np.float64]:
    """Mean similarity at neighbour ranks ``ordinary`` (clipped to the ranks available)."""
    a, b = ordinary
    depth = sim.shape[1]
    b = min(b, depth)
    a = min(a, b - 1)
    part = sim[:, a:b]
    ok = np.isfinite(part)
    return np.where(ok, part, 0.0).sum(axis=1) / np.maximum(ok.sum(axis=1), 1)
