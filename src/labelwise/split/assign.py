"""Train / validation / test splits that cut no group and stay put when items are added.

Two ways to place a group (:func:`split_dataset`):

- ``method="hash"`` (default, *stable*): a group's split is read from a hash of
  its key and the seed, ``u = sha256(seed:key) / 2**256`` in ``[0, 1)``, against the
  cumulative fractions. An item's split depends on nothing but its group's key,
  so adding items later never moves an existing one (unless a new item joins two
  existing groups together). Every class is stratified in expectation: the
  per-class counts in :meth:`Split.summary` show how close each came.
- ``method="balanced"``: groups are placed largest first, each where the
  per-class shortfall against the target is largest (ties by the hash). Counts
  come out as close to the target as the groups allow; adding items may move
  existing ones.

Either way, groups larger than a split can hold make some fractions impossible;
:func:`split_dataset` then raises :class:`SplitError` with the closest fractions
the groups allow.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from labelwise._validation import check_number, check_option
from labelwise.errors import InputError, ParameterError
from labelwise.split.groups import ItemGroups, item_groups

__all__ = ["Split", "SplitError", "crossing_pairs", "split_dataset"]

DEFAULT_FRACTIONS = {"train": 0.8, "val": 0.1, "test": 0.1}


class SplitError(InputError):
    """The groups make the requested split sizes impossible."""


@dataclass(frozen=True)
class Split:
    """The split of every item.

    Attributes
    ----------
    ids : ndarray (n,)
    labels : ndarray (n,)
    split : ndarray of str (n,)
        Split name of each item.
    group : ndarray of int (n,)
        Group of each item (items of one group share a split).
    names : tuple of str
        Split names in order.
    target : ndarray (n_splits,)
        Requested fractions.
    method : str
    seed : int
    """

    ids: NDArray[Any]
    labels: NDArray[Any]
    split: NDArray[np.object_]
    group: NDArray[np.int64]
    names: tuple[str, ...]
    target: NDArray[np.float64]
    method: str
    seed: int

    def achieved(self) -> NDArray[np.float64]:
        """Fraction of the items in each split, in :attr:`names` order."""
        counts = pd.Series(self.split).value_counts().reindex(self.names, fill_value=0)
        return counts.to_numpy(np.float64) / len(self.split)

    def summary(self) -> pd.DataFrame:
        """Per-class counts in each split, plus a ``"total"`` row.

        Columns are the splits plus ``"max class share gap"``: per class, the largest
        difference over splits between the class's share of the split and its share
        of the whole (0 means perfectly stratified).
        """
        table = pd.crosstab(
            pd.Series(self.labels, name="class"), pd.Series(self.split, name="split")
        )
        table = table.reindex(columns=list(self.names), fill_value=0)
        share = table / table.sum(axis=0).replace(0, np.nan)
        overall = table.sum(axis=1) / table.to_numpy().sum()
        gap = share.sub(overall, axis=0).abs().max(axis=1)
        table.loc["total"] = table.sum(axis=0)
        table.columns.name = None
        table["max class share gap"] = pd.concat([gap, pd.Series({"total": np.nan})])
        return table

    def sizes(self) -> pd.DataFrame:
        """``split, items, fraction, target`` per split."""
        got = self.achieved()
        return pd.DataFrame(
            {
                "split": list(self.names),
                "items": np.rint(got * len(self.split)).astype(np.int64),
                "fraction": got,
                "target": self.target,
            }
        )

    def frame(self) -> pd.DataFrame:
        """``item, label, split, group`` per item."""
        return pd.DataFrame(
            {"item": self.ids, "label": self.labels, "split": self.split, "group": self.group}
        )


def crossing_pairs(pairs: ArrayLike, split: ArrayLike) -> int:
    """Number of pairs (rows ``i, j``) whose two items sit in different splits."""
    p = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    s = np.asarray(split)
    return int((s[p[:, 0]] != s[p[:, 1]]).sum())


def _unit_hash(keys: NDArray[np.object_], seed: int) -> NDArray[np.float64]:
    out = np.empty(keys.shape[0])
    for i, k in enumerate(keys):
        digest = hashlib.sha256(f"{seed}:{k}".encode()).digest()
        out[i] = int.from_bytes(digest[:8], "big") / 2.0**64
    return out


def _fractions(
    fractions: Mapping[str, float] | None, counts: Mapping[str, int] | None, n: int
) -> tuple[tuple[str, ...], NDArray[np.float64]]:
    if fractions is not None and counts is not None:
        raise ParameterError("give fractions or counts, not both.")
    if counts is not None:
        if not counts:
            raise ParameterError("counts is empty.")
        for name, c in counts.items():
            check_number(c, f"counts[{name!r}]", "split_dataset", kind=int, low=0)
        total = sum(int(c) for c in counts.values())
        if total > n:
            raise SplitError(f"counts ask for {total} items but there are only {n}.")
        names = tuple(counts)
        target = np.array([counts[k] for k in names], dtype=np.float64) / n
        rest = [k for k in names if counts[k] == 0]
        if total < n:  # the remainder goes to a split given as 0 (or to "train")
            fill = rest[0] if rest else "train"
            if fill not in names:
                names, target = (*names, fill), np.r_[target, 0.0]
            target[names.index(fill)] += (n - total) / n
        return names, target
    f = dict(DEFAULT_FRACTIONS if fractions is None else fractions)
    if not f:
        raise ParameterError("fractions is empty.")
    for name, v in f.items():
        check_number(v, f"fractions[{name!r}]", "split_dataset", low=0)
    total = float(sum(f.values()))
    if not np.isclose(total, 1.0, atol=1e-6):
        raise ParameterError(f"fractions must add up to 1; {f} adds up to {total:g}.")
    return tuple(f), np.array(list(f.values()), dtype=np.float64)


def _closest(sizes: NDArray[np.int64], target: NDArray[np.float64]) -> NDArray[np.float64]:
    """Fractions a largest-first packing reaches: the closest the groups allow (greedy)."""
    n = sizes.sum()
    want = target * n
    got = np.zeros_like(want)
    for s in np.sort(sizes)[::-1]:
        got[np.argmax(want - got)] += s
    return got / n


def split_dataset(
    ids: ArrayLike,
    labels: ArrayLike,
    *,
    fractions: Mapping[str, float] | None = None,
    counts: Mapping[str, int] | None = None,
    groups: ArrayLike | None = None,
    pairs: ArrayLike | None = None,
    method: Literal["hash", "balanced"] = "hash",
    seed: int = 0,
    tolerance: float = 0.02,
    previous: Mapping[Any, str] | None = None,
) -> Split:
    """Stratified split into named parts that keeps every group in one part.

    Parameters
    ----------
    ids : array (n,)
        Unique item ids (the hash reads them: keep them stable).
    labels : array (n,)
        Class of each item (stratification and the per-class summary).
    fractions : mapping, optional
        Split name to fraction, adding up to 1. Default 0.8 / 0.1 / 0.1 train/val/test.
    counts : mapping, optional
        Split name to number of items instead; the rest go to the split given 0 (or train).
    groups : array (n,), optional
        A user group column (patient, author, session) whose groups must not be cut.
    pairs : array (m, 2), optional
        Near-duplicate row pairs (for example ``near_duplicates(...).pairs``): linked
        items share a split.
    method : {"hash", "balanced"}
        Stable hash placement, or largest-first balancing (see the module docstring).
    seed : int
        Seed of the hash.
    tolerance : float
        How far (absolute fraction) the closest achievable split may be from the
        target before the request is refused.
    previous : mapping, optional
        Item id to the split it already has (an earlier :meth:`Split.frame`): those
        items keep it, their groups follow them, and only the other groups are placed
        (with ``"balanced"``, into what the kept items left short). Makes the balanced
        method stable under added items too.

    Returns
    -------
    Split

    Raises
    ------
    SplitError
        When the groups cannot come within ``tolerance`` of the requested fractions;
        the message gives the closest fractions they allow.
    """
    check_option(method, "method", "split_dataset", ("hash", "balanced"))
    check_number(seed, "seed", "split_dataset", kind=int)
    check_number(tolerance, "tolerance", "split_dataset", low=0, high=1)
    y = np.asarray(labels)
    id_arr = np.asarray(ids)
    if y.shape[0] != id_arr.shape[0]:
        raise InputError(f"labels has {y.shape[0]} entries but ids has {id_arr.shape[0]}.")
    if pd.isna(pd.Series(y)).any():
        row = int(np.flatnonzero(pd.isna(pd.Series(y)).to_numpy())[0])
        raise InputError(f"label of item {id_arr[row]!r} (row {row}) is missing.")
    g = item_groups(id_arr, groups=groups, pairs=pairs)
    names, target = _fractions(fractions, counts, len(y))
    sizes = g.sizes
    closest = _closest(sizes, target)
    worst = np.abs(closest - target).max()
    if worst > tolerance:
        big = int(np.argmax(sizes))
        raise SplitError(
            "the groups make the requested split impossible: "
            + ", ".join(f"{k} {t:.3f}" for k, t in zip(names, target, strict=True))
            + f" was asked, the largest group ({g.key[big]}) holds {sizes[big]} of {len(y)} "
            f"items; the closest the {g.n_groups} groups allow is "
            + ", ".join(f"{k} {c:.3f}" for k, c in zip(names, closest, strict=True))
            + f" (off by {worst:.3f} > tolerance {tolerance:g})."
        )
    u = _unit_hash(g.key, seed)
    fixed = _fixed_units(g, id_arr, names, previous)
    if method == "hash":
        cuts = np.cumsum(target)
        cuts[-1] = 1.0 + 1e-12
        unit_split = np.searchsorted(cuts, u, side="right")
        unit_split = np.minimum(unit_split, len(names) - 1)
        unit_split = np.where(fixed >= 0, fixed, unit_split)
    else:
        unit_split = _balanced(g, y, target, u, fixed)
    split = np.asarray(names, dtype=object)[unit_split[g.group]]
    return Split(id_arr, y, split, g.group, names, target, method, int(seed))


def _fixed_units(
    g: ItemGroups, ids: NDArray[Any], names: tuple[str, ...], previous: Mapping[Any, str] | None
) -> NDArray[np.int64]:
    """Split index each group must keep (``-1``: free), from the items' previous splits."""
    fixed = np.full(g.n_groups, -1, dtype=np.int64)
    if not previous:
        return fixed
    prev = pd.Series(ids, dtype=object).map(lambda i: previous.get(i))
    rows = np.flatnonzero(prev.notna().to_numpy())
    for r in rows:
        name = prev.iloc[r]
        if name not in names:
            raise SplitError(
                f"item {ids[r]!r} was in split {name!r}, which is not one of {list(names)}."
            )
        k = names.index(name)
        unit = g.group[r]
        if fixed[unit] >= 0 and fixed[unit] != k:
            other = rows[(g.group[rows] == unit) & (prev.iloc[rows].to_numpy() != name)][0]
            raise SplitError(
                f"items {ids[other]!r} ({prev.iloc[other]}) and {ids[r]!r} ({name}) are now in "
                "one group (a shared group value or a near-duplicate chain) but already sit in "
                "different splits: that is leakage in the earlier split; re-split without "
                "previous, or drop one of them."
            )
        fixed[unit] = k
    return fixed


def _balanced(
    g: ItemGroups,
    y: NDArray[Any],
    target: NDArray[np.float64],
    u: NDArray[np.float64],
    fixed: NDArray[np.int64],
) -> NDArray[np.int64]:
    """Largest group first, each to the split whose per-class shortfall it fills best."""
    codes, _ = pd.factorize(pd.Series(y))
    n_cls = int(codes.max()) + 1
    unit_cls = np.zeros((g.n_groups, n_cls))
    np.add.at(unit_cls, (g.group, codes), 1.0)
    want = target[:, None] * unit_cls.sum(axis=0)[None, :]  # (splits, classes)
    got = np.zeros_like(want)
    order = np.lexsort((u, -unit_cls.sum(axis=1)))
    out = fixed.copy()
    for unit in np.flatnonzero(fixed >= 0):
        got[fixed[unit]] += unit_cls[unit]
    order = order[fixed[order] < 0]
    total_want = want.sum(axis=1)
    for unit in order:
        c = unit_cls[unit]
        size = c.sum()
        room = total_want - got.sum(axis=1)
        fits = room >= size - 1e-9
        if not fits.any():  # nothing can hold it whole: the split with most room takes it
            fits = room == room.max()
        # the class shortfall it fills, relative to what each split wants of those classes
        short = ((want - got) * c[None, :]).sum(axis=1) / np.maximum((want * c).sum(axis=1), 1e-12)
        score = np.where(fits & (total_want > 0), short + 1e-6 * room, -np.inf)
        best = int(np.argmax(score))
        out[unit] = best
        got[best] += c
    return out
