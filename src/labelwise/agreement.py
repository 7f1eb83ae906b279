"""Agreement between annotators, and each annotator's quality.

- :func:`item_agreement`: per item, the share of its annotations equal to the consensus.
- :func:`annotator_quality`: per annotator, agreement with the consensus on the items
  they labeled (leave-one-out free: the consensus is the caller's), accuracy on gold
  items, Wilson intervals, and a ``scored`` flag for annotators with enough items to score.
- :func:`fleiss_kappa`, :func:`krippendorff_alpha` (nominal) over all items;
  :func:`cohen_kappa` for one pair; :func:`pairwise_cohen_kappa` for every pair that
  shares enough items, from one sparse product.

All are computed from ``Annotations`` arrays with ``bincount`` and sparse products.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise._lazy import lazy_module
from labelwise._validation import check_number
from labelwise.annotations import Annotations
from labelwise.errors import InputError

if TYPE_CHECKING:
    import pandas as pd
    import scipy.sparse as sp
else:
    pd = lazy_module("pandas")
    sp = lazy_module("scipy.sparse")

__all__ = [
    "annotator_quality",
    "cohen_kappa",
    "fleiss_kappa",
    "item_agreement",
    "krippendorff_alpha",
    "pairwise_cohen_kappa",
    "wilson_interval",
    "worker_hits",
]


def _check_codes(annotations: Annotations, labels: ArrayLike, name: str) -> NDArray[np.int64]:
    codes = np.asarray(labels)
    if codes.shape != (annotations.n_items,):
        raise InputError(
            f"{name} must have one entry per item ({annotations.n_items}); got shape {codes.shape}."
        )
    if codes.dtype.kind not in "iu":
        raise InputError(
            f"{name} must be integer class codes (-1 for none); got dtype {codes.dtype}."
        )
    return codes.astype(np.int64)


def wilson_interval(
    hits: ArrayLike, n: ArrayLike, *, z: float = 1.96
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Wilson score interval for a proportion; NaN where ``n`` is 0."""
    h = np.asarray(hits, dtype=float)
    m = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = h / m
        denom = 1 + z**2 / m
        centre = (p + z**2 / (2 * m)) / denom
        half = z * np.sqrt(p * (1 - p) / m + z**2 / (4 * m**2)) / denom
    lo = np.where(m > 0, centre - half, np.nan)
    hi = np.where(m > 0, centre + half, np.nan)
    return lo, hi


def worker_hits(
    annotations: Annotations, labels: NDArray[np.integer]
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Per annotator: how many answers equal ``labels`` of their items, and how many counted.

    Items whose label code is ``-1`` are not counted. Both arrays have shape (n_workers,).
    """
    target = labels[annotations.item]
    counted = target >= 0
    worker = annotations.worker[counted]
    same = annotations.label[counted] == target[counted]
    hits = np.bincount(worker, weights=same, minlength=annotations.n_workers)
    return hits, np.bincount(worker, minlength=annotations.n_workers)


def _pairable_votes(
    annotations: Annotations,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]] | None:
    """Votes of the items with at least two answers, one entry per answered (item, class)
    cell: (cell item, cell class, cell votes, the cell item's total). None if none.

    Sparse in the number of classes: with 10,000 classes the dense (items x K) vote
    table and Krippendorff's K x K product took minutes and gigabytes.
    """
    k = annotations.n_classes
    keys = annotations.item.astype(np.int64) * k + annotations.label
    cells, votes = np.unique(keys, return_counts=True)
    item = cells // k
    m = np.bincount(annotations.item, minlength=annotations.n_items)
    keep = m[item] >= 2
    if not keep.any():
        return None
    item = item[keep]
    return item, cells[keep] % k, votes[keep].astype(np.float64), m[item].astype(np.float64)


def item_agreement(annotations: Annotations, labels: ArrayLike) -> NDArray[np.float64]:
    """Share of each item's annotations that equal ``labels`` (class codes), NaN if none.

    Returns shape (n_items,).
    """
    codes = _check_codes(annotations, labels, "labels")
    same = annotations.label == codes[annotations.item]
    n = np.bincount(annotations.item, minlength=annotations.n_items)
    hits = np.bincount(annotations.item, weights=same, minlength=annotations.n_items)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, hits / np.maximum(n, 1), np.nan)


def annotator_quality(
    annotations: Annotations,
    labels: ArrayLike,
    *,
    gold: Any = None,
    min_items: int = 10,
) -> pd.DataFrame:
    """One row per annotator, worst first.

    Parameters
    ----------
    annotations : Annotations
    labels : array of int, shape (n_items,)
        The consensus as class codes (``-1`` to leave an item out), e.g. an
        aggregator's ``label_codes_``.
    gold : DataFrame (item, label), Series or dict, optional
        Known answers; adds ``gold_accuracy`` and ``n_gold``.
    min_items : int
        Annotators with fewer items get ``scored = False`` and no score in
        ``quality`` (the ``note`` column says why).

    Returns
    -------
    DataFrame
        ``worker, n_items, agreement, agreement_low, agreement_high, n_gold,
        gold_accuracy, quality, scored, note``. ``quality`` is gold accuracy when
        the annotator has at least ``min_items`` gold items, otherwise agreement.
        ``scored`` says the annotator has enough items to be scored at all (not that
        they are good: an adversary with many items is scored, and scores low).
        Sorted by ``quality`` ascending (annotators without a score last).
    """
    check_number(min_items, "min_items", "annotator_quality", kind=int, low=1)
    codes = _check_codes(annotations, labels, "labels")
    w = annotations.n_workers
    hits, n = worker_hits(annotations, codes)
    with np.errstate(invalid="ignore", divide="ignore"):
        agreement = np.where(n > 0, hits / np.maximum(n, 1), np.nan)
    lo, hi = wilson_interval(hits, n)
    gold_codes = annotations.encode_gold(gold)
    g = gold_codes[annotations.item]
    on_gold = g >= 0
    n_gold = np.bincount(annotations.worker[on_gold], minlength=w)
    g_hits = np.bincount(
        annotations.worker[on_gold], weights=(annotations.label[on_gold] == g[on_gold]), minlength=w
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        gold_acc = np.where(n_gold > 0, g_hits / np.maximum(n_gold, 1), np.nan)
    use_gold = n_gold >= min_items
    scored = (n >= min_items) | use_gold
    quality = np.where(use_gold, gold_acc, agreement)
    quality = np.where(scored, quality, np.nan)
    note = np.where(
        scored,
        np.where(use_gold, "scored on gold", "scored on consensus"),
        np.char.add(np.char.add("too few items (", n.astype(str)), f" < {min_items}): no score"),
    )
    frame = pd.DataFrame(
        {
            "worker": annotations.worker_ids,
            "n_items": annotations.annotations_per_worker(),
            "agreement": agreement,
            "agreement_low": lo,
            "agreement_high": hi,
            "n_gold": n_gold,
            "gold_accuracy": gold_acc,
            "quality": quality,
            "scored": scored,
            "note": note,
        }
    )
    return frame.sort_values(
        ["scored", "quality"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


def fleiss_kappa(annotations: Annotations) -> float:
    """Fleiss' kappa over items with at least two annotations (varying counts allowed).

    ``P_i = (sum_k n_ik^2 - m_i) / (m_i (m_i - 1))``; chance agreement from the
    pooled class shares. Returns NaN when no item has two annotations.
    """
    pairable = _pairable_votes(annotations)
    if pairable is None:
        return float("nan")
    item, label, v, mm = pairable
    items, first = np.unique(item, return_index=True)
    m_i = mm[first]
    sq = np.bincount(item, weights=v**2, minlength=annotations.n_items)[items]
    p_bar = float(((sq - m_i) / (m_i * (m_i - 1))).mean())
    p_k = np.bincount(label, weights=v, minlength=annotations.n_classes) / m_i.sum()
    p_e = float((p_k**2).sum())
    if np.isclose(p_e, 1.0):
        return float("nan")
    return float((p_bar - p_e) / (1 - p_e))


def krippendorff_alpha(annotations: Annotations) -> float:
    """Krippendorff's alpha for nominal data, from the coincidence matrix.

    Items with fewer than two annotations are not pairable and are left out.
    ``alpha = 1 - (n - 1) * sum_{c!=k} o_ck / sum_{c!=k} n_c n_k``.
    """
    pairable = _pairable_votes(annotations)
    if pairable is None:
        return float("nan")
    _, label, v, mm = pairable
    # o_cc = sum_i v_ic (v_ic - 1) / (m_i - 1); the rows of o sum to n_c = sum_i v_ic
    diagonal = float((v * (v - 1) / (mm - 1)).sum())
    n_c = np.bincount(label, weights=v, minlength=annotations.n_classes)
    n = float(n_c.sum())
    expected = n**2 - float((n_c**2).sum())
    if expected <= 0:
        return float("nan")
    return float(1 - (n - 1) * (n - diagonal) / expected)


def _kappa_from_table(table: NDArray[np.float64]) -> float:
    total = table.sum()
    if total == 0:
        return float("nan")
    p_o = np.trace(table) / total
    p_e = float((table.sum(axis=1) * table.sum(axis=0)).sum() / total**2)
    if np.isclose(p_e, 1.0):
        return 1.0 if np.isclose(p_o, 1.0) else float("nan")
    return float((p_o - p_e) / (1 - p_e))


def _pair_tables(annotations: Annotations) -> sp.csr_matrix:
    """``X.T @ X`` with X the (items x workers*K) one-hot answers: block (a, b) is the
    K x K contingency table of annotators a and b on the items they share."""
    x = annotations.answer_matrix()
    x = (x > 0).astype(np.float64)
    return (x.T @ x).tocsr()


def cohen_kappa(annotations: Annotations, worker_a: Any, worker_b: Any) -> float:
    """Cohen's kappa between two annotators (by id) on the items both labeled."""
    ids = pd.Index(annotations.worker_ids)
    codes = []
    for wid in (worker_a, worker_b):
        loc = ids.get_indexer([wid])[0]
        if loc < 0:
            raise InputError(f"unknown annotator {wid!r}.")
        codes.append(int(loc))
    k = annotations.n_classes
    tables = _pair_tables(annotations)
    a, b = codes
    block = tables[a * k : (a + 1) * k, b * k : (b + 1) * k].toarray()
    return _kappa_from_table(block)


def pairwise_cohen_kappa(annotations: Annotations, *, min_overlap: int = 10) -> pd.DataFrame:
    """Cohen's kappa for every annotator pair sharing at least ``min_overlap`` items.

    Returns a DataFrame ``worker_a, worker_b, n_shared, observed_agreement, kappa``,
    lowest kappa first. All contingency tables come from one sparse product.
    """
    check_number(min_overlap, "min_overlap", "pairwise_cohen_kappa", kind=int, low=1)
    k = annotations.n_classes
    w = annotations.n_workers
    tables = _pair_tables(annotations).tocoo()
    wa, wb = tables.row // k, tables.col // k
    la, lb = tables.row % k, tables.col % k
    upper = wa < wb
    wa, wb, la, lb, val = wa[upper], wb[upper], la[upper], lb[upper], tables.data[upper]
    pair = wa.astype(np.int64) * w + wb
    uniq, inv = np.unique(pair, return_inverse=True)
    flat = np.bincount(inv * k * k + la * k + lb, weights=val, minlength=uniq.shape[0] * k * k)
    dense = flat.reshape(uniq.shape[0], k, k)
    shared = dense.sum(axis=(1, 2))
    keep = shared >= min_overlap
    dense, uniq, shared = dense[keep], uniq[keep], shared[keep]
    p_o = np.trace(dense, axis1=1, axis2=2) / shared
    p_e = (dense.sum(axis=2) * dense.sum(axis=1)).sum(axis=1) / shared**2
    with np.errstate(invalid="ignore", divide="ignore"):
        kappa = np.where(
            np.isclose(p_e, 1.0),
            np.where(np.isclose(p_o, 1.0), 1.0, np.nan),
            (p_o - p_e) / (1 - p_e),
        )
    frame = pd.DataFrame(
        {
            "worker_a": annotations.worker_ids[uniq // w],
            "worker_b": annotations.worker_ids[uniq % w],
            "n_shared": shared.astype(int),
            "observed_agreement": p_o,
            "kappa": kappa,
        }
    )
    return frame.sort_values("kappa", kind="stable").reset_index(drop=True)
