"""Groups that a split must not cut: a user column joined with near-duplicate sets.

Two items belong to one group when they share a value of the user's group column
(patient, author, session) or are linked by a chain of near-duplicate pairs;
the union is taken by connected components, so a near copy that bridges two
patients puts both patients in one group.

Each group gets a stable *key* from which its split is hashed: the smallest
user-group value in it (``"g:<value>"``) or, for a group of items with no user
group, the smallest item id (``"i:<id>"``). Adding items that join no existing
group never changes an existing group's key.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import InputError

__all__ = ["ItemGroups", "item_groups"]


@dataclass(frozen=True)
class ItemGroups:
    """The group of every item and the key its split is hashed from.

    Attributes
    ----------
    group : ndarray of int (n,)
        Group number ``0..n_groups-1`` of each item.
    key : ndarray of str (n_groups,)
        Stable key of each group.
    n_linked : int
        Items whose group was joined by a near-duplicate pair.
    """

    group: NDArray[np.int64]
    key: NDArray[np.object_]
    n_linked: int

    @property
    def n_groups(self) -> int:
        """Number of groups."""
        return int(self.key.shape[0])

    @property
    def sizes(self) -> NDArray[np.int64]:
        """Items per group."""
        return np.bincount(self.group, minlength=self.n_groups)


def item_groups(
    ids: ArrayLike,
    *,
    groups: ArrayLike | None = None,
    pairs: ArrayLike | None = None,
) -> ItemGroups:
    """Join a user group column and near-duplicate pairs into groups no split may cut.

    Parameters
    ----------
    ids : array (n,)
        Item ids (unique).
    groups : array (n,), optional
        The user's group of each item; missing values (NaN/None) are groups of one.
    pairs : array of int (m, 2), optional
        Row pairs that must stay together (near duplicates).

    Returns
    -------
    ItemGroups
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    id_arr = pd.Series(np.asarray(ids))
    n = len(id_arr)
    if n == 0:
        raise InputError("no items to split.")
    dup = id_arr.duplicated()
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(f"item id {id_arr.iloc[row]!r} appears twice (row {row}).")
    src: list[NDArray[np.int64]] = []
    dst: list[NDArray[np.int64]] = []
    user = None
    if groups is not None:
        user = pd.Series(np.asarray(groups, dtype=object))
        if len(user) != n:
            raise InputError(f"groups has {len(user)} entries but there are {n} items.")
        codes = pd.factorize(user, use_na_sentinel=True)[0]
        has = np.flatnonzero(codes >= 0)
        # link each member to the first member of its user group
        order = has[np.argsort(codes[has], kind="stable")]
        c = codes[order]
        head = np.r_[True, c[1:] != c[:-1]] if order.size else np.zeros(0, bool)
        first = order[head][np.cumsum(head) - 1] if order.size else order
        src.append(first.astype(np.int64))
        dst.append(order.astype(np.int64))
    n_linked = 0
    if pairs is not None:
        p = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        if p.size and (p.min() < 0 or p.max() >= n):
            raise InputError(f"pairs refer to rows outside 0..{n - 1}.")
        src.append(p[:, 0])
        dst.append(p[:, 1])
        n_linked = int(np.unique(p).size)
    a = np.concatenate(src) if src else np.zeros(0, np.int64)
    b = np.concatenate(dst) if dst else np.zeros(0, np.int64)
    graph = coo_matrix((np.ones(a.shape[0]), (a, b)), shape=(n, n))
    n_comp, comp = connected_components(graph, directed=False)
    item_key = "i:" + id_arr.astype(str)
    if user is not None:
        item_key = item_key.where(user.isna(), "g:" + user.astype(str))
    # a group's key: its smallest user-group key if it has one, else its smallest item id
    frame = pd.DataFrame({"comp": comp, "key": item_key, "is_g": item_key.str.startswith("g:")})
    frame = frame.sort_values(["comp", "is_g", "key"], ascending=[True, False, True])
    keys = frame.drop_duplicates("comp").set_index("comp")["key"].reindex(range(n_comp))
    return ItemGroups(comp.astype(np.int64), keys.to_numpy(dtype=object), n_linked)
