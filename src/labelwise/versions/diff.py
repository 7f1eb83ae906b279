"""What changed between two versions, item by item, with the reason recorded for each."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from labelwise.versions.store import Version

__all__ = ["VersionDiff", "diff_versions"]

NO_REASON = "(no reason recorded)"


@dataclass(frozen=True)
class VersionDiff:
    """Items added, removed, relabeled and moved between version ``a`` and ``b``.

    Attributes
    ----------
    a, b : str
        Version names.
    added : DataFrame
        ``item, label, split, reason``: kept in ``b``, absent or removed in ``a``.
    removed : DataFrame
        ``item, label, split, reason``: kept in ``a``, absent or removed in ``b``.
    relabeled : DataFrame
        ``item, old_label, new_label, reason`` for items kept in both.
    moved : DataFrame
        ``item, old_split, new_split`` for items kept in both.
    per_class : DataFrame
        ``class, a, b, change, added, removed, relabeled_in, relabeled_out``.
    """

    a: str
    b: str
    added: pd.DataFrame
    removed: pd.DataFrame
    relabeled: pd.DataFrame
    moved: pd.DataFrame
    per_class: pd.DataFrame

    @property
    def is_empty(self) -> bool:
        """No item added, removed, relabeled or moved."""
        return not (len(self.added) or len(self.removed) or len(self.relabeled) or len(self.moved))


def _reason(row: pd.Series) -> str:
    text = str(row.get("reason") or "")
    action = str(row.get("action") or "")
    if action and text:
        return f"{action}: {text}"
    return text or action or NO_REASON


def _change_reason(old: pd.Series, new: pd.Series, a: Version, b: Version) -> str:
    """The decision recorded in ``b``; failing that, what evidently changed."""
    if str(new.get("action") or "") or str(new.get("reason") or ""):
        return _reason(new)
    if old.get("votes") != new.get("votes"):
        return f"annotations changed: votes {old.get('votes') or '-'} -> {new.get('votes') or '-'}"
    agg_a, agg_b = a.manifest.get("aggregation"), b.manifest.get("aggregation")
    if agg_a != agg_b:
        return f"aggregation changed: {agg_a} -> {agg_b}"
    return NO_REASON


def diff_versions(a: Version, b: Version) -> VersionDiff:
    """Compare two versions; every change carries the reason ``b`` recorded for it.

    Returns
    -------
    VersionDiff
    """
    ia = a.items.set_index("item")
    ib = b.items.set_index("item")
    ka = ia[ia["status"] == "kept"]
    kb = ib[ib["status"] == "kept"]
    add_ids = kb.index.difference(ka.index)
    rem_ids = ka.index.difference(kb.index)
    both = ka.index.intersection(kb.index)

    def rows(ids: pd.Index, src: pd.DataFrame, why: pd.DataFrame, default: str) -> pd.DataFrame:
        out = pd.DataFrame(
            {"item": ids, "label": src.loc[ids, "label"].to_numpy(), "split": src.loc[ids, "split"]}
        )
        reasons = [_reason(why.loc[i]) if i in why.index else default for i in ids]
        out["reason"] = reasons
        return out.reset_index(drop=True)

    added = rows(add_ids, kb, ib, "new item")
    removed = rows(rem_ids, ka, ib, f"not in version {b.name!r}")
    old = ka.loc[both, "label"]
    new = kb.loc[both, "label"]
    changed = both[(old != new).to_numpy()]
    relabeled = pd.DataFrame(
        {
            "item": changed,
            "old_label": ka.loc[changed, "label"].to_numpy(),
            "new_label": kb.loc[changed, "label"].to_numpy(),
            "reason": [_change_reason(ka.loc[i], kb.loc[i], a, b) for i in changed],
        }
    )
    so = ka.loc[both, "split"].fillna("(none)")
    sn = kb.loc[both, "split"].fillna("(none)")
    mv = both[(so != sn).to_numpy()]
    moved = pd.DataFrame(
        {"item": mv, "old_split": so.loc[mv].to_numpy(), "new_split": sn.loc[mv].to_numpy()}
    )
    classes = sorted(set(ka["label"]) | set(kb["label"]))
    ca = ka["label"].value_counts().reindex(classes, fill_value=0)
    cb = kb["label"].value_counts().reindex(classes, fill_value=0)

    def count(s: pd.Series) -> pd.Series:
        return s.value_counts().reindex(classes, fill_value=0)

    per_class = pd.DataFrame(
        {
            "class": classes,
            "a": ca.to_numpy(),
            "b": cb.to_numpy(),
            "change": (cb - ca).to_numpy(),
            "added": count(added["label"]).to_numpy(),
            "removed": count(removed["label"]).to_numpy(),
            "relabeled_in": count(relabeled["new_label"]).to_numpy(),
            "relabeled_out": count(relabeled["old_label"]).to_numpy(),
        }
    )
    return VersionDiff(
        a.name, b.name, added, removed, relabeled.reset_index(drop=True), moved, per_class
    )
