"""Immutable dataset versions on disk: Parquet tables plus a manifest of content hashes.

Layout (one folder per version; DVC can ``dvc add`` a folder, git-lfs can track the
Parquet files, and nothing here is a version-control system of its own)::

    <root>/
      .gitattributes          *.parquet tracked by git-lfs (written once)
      <name>/
        manifest.json         name, created, parent, message, aggregation, counts,
                              and the sha256 and size of every file below
        items.parquet         item, label, confidence, split, status, action, reason,
                              n_annotations, votes
        annotations.parquet   item, worker, label: the answers behind the labels

A version is written into a hidden temporary folder beside its final place and
renamed into place only when every file is written and flushed: a killed write
leaves at most a ``.tmp-*`` folder, which no listing or reading ever sees and
the next write removes. Reading checks every file's hash against the manifest
and refuses a version that was changed after it was written.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelwise.errors import InputError

__all__ = [
    "Version",
    "VersionError",
    "VersionIntegrityError",
    "create_version",
    "list_versions",
    "load_version",
]

FORMAT = "labelwise-version/1"
ITEMS = "items.parquet"
ANNOTATIONS = "annotations.parquet"
MANIFEST = "manifest.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
ITEM_COLUMNS = (
    "item",
    "label",
    "confidence",
    "split",
    "status",
    "action",
    "reason",
    "n_annotations",
    "votes",
)


class VersionError(InputError):
    """A version that cannot be created or found as asked."""


class VersionIntegrityError(VersionError):
    """A version whose files no longer match the hashes in its manifest."""


@dataclass(frozen=True)
class Version:
    """One stored version: its manifest and its tables (read and verified).

    Attributes
    ----------
    name : str
    path : Path
        The version's folder.
    manifest : dict
        The parsed ``manifest.json``.
    items : DataFrame
        One row per item (columns :data:`ITEM_COLUMNS`); removed items are kept
        with ``status == "removed"`` and their reason.
    annotations : DataFrame or None
        The answers behind the labels (``item, worker, label``).
    manifest_sha256 : str
        Hash of the manifest file: one string that pins the whole version.
    """

    name: str
    path: Path
    manifest: dict[str, Any]
    items: pd.DataFrame
    annotations: pd.DataFrame | None
    manifest_sha256: str

    @property
    def n_items(self) -> int:
        """Items kept (not removed)."""
        return int((self.items["status"] == "kept").sum())

    def kept(self) -> pd.DataFrame:
        """The items a model trains from: those not removed."""
        return self.items[self.items["status"] == "kept"].reset_index(drop=True)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise VersionError(
            f"version name {name!r} is not usable: use letters, digits, '.', '_' or '-' "
            "(starting with a letter or digit, at most 100 characters)."
        )


def _frame_items(
    items: pd.DataFrame, annotations: pd.DataFrame | None, decisions: pd.DataFrame | None
) -> pd.DataFrame:
    for col in ("item", "label"):
        if col not in items.columns:
            raise VersionError(f"items has no column {col!r} (columns: {list(items.columns)}).")
    out = pd.DataFrame({"item": items["item"].astype(str), "label": items["label"]})
    dup = out["item"].duplicated()
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise VersionError(f"item {out['item'].iloc[row]!r} appears twice in items (row {row}).")
    missing = out["label"].isna()
    if missing.any():
        row = int(np.flatnonzero(missing.to_numpy())[0])
        raise VersionError(f"item {out['item'].iloc[row]!r} (row {row}) has no label.")
    out["label"] = out["label"].astype(str)
    conf = items["confidence"] if "confidence" in items.columns else np.nan
    out["confidence"] = pd.to_numeric(pd.Series(conf, index=items.index), errors="raise").astype(
        float
    )
    if "split" in items.columns:
        split = items["split"].astype(object)
        out["split"] = split.where(split.notna(), None)
    else:
        out["split"] = None
    out["status"] = "kept"
    out["action"] = ""
    out["reason"] = ""
    if decisions is not None and len(decisions):
        for col in ("item", "action", "reason"):
            if col not in decisions.columns:
                raise VersionError(f"decisions has no column {col!r}.")
        d = decisions.assign(item=decisions["item"].astype(str)).drop_duplicates(
            "item", keep="last"
        )
        unknown = ~d["item"].isin(out["item"])
        if unknown.any():
            raise VersionError(
                f"decision for item {d['item'][unknown].iloc[0]!r}, which is not in items."
            )
        pos = pd.Index(out["item"]).get_indexer(d["item"])
        out.loc[pos, "action"] = d["action"].astype(str).to_numpy()
        out.loc[pos, "reason"] = d["reason"].fillna("").astype(str).to_numpy()
        out.loc[pos[d["action"].to_numpy() == "removed"], "status"] = "removed"
    if annotations is not None:
        per = annotations.groupby(annotations["item"].astype(str))
        n_ann = per.size()
        votes = (
            annotations.assign(
                item=annotations["item"].astype(str), label=annotations["label"].astype(str)
            )
            .groupby(["item", "label"])
            .size()
            .reset_index(name="n")
            .sort_values(["item", "n", "label"], ascending=[True, False, True])
        )
        votes["v"] = votes["label"] + ":" + votes["n"].astype(str)
        vstr = votes.groupby("item")["v"].agg(";".join)
        out["n_annotations"] = n_ann.reindex(out["item"]).fillna(0).astype(np.int64).to_numpy()
        out["votes"] = vstr.reindex(out["item"]).fillna("").to_numpy()
    else:
        out["n_annotations"] = np.int64(0)
        out["votes"] = ""
    return out[list(ITEM_COLUMNS)]


def _annotations_frame(annotations: Any) -> pd.DataFrame | None:
    if annotations is None:
        return None
    if hasattr(annotations, "to_frame") and not isinstance(annotations, pd.DataFrame):
        annotations = annotations.to_frame()
    if not isinstance(annotations, pd.DataFrame):
        raise VersionError("annotations must be a DataFrame (item, worker, label) or Annotations.")
    for col in ("item", "worker", "label"):
        if col not in annotations.columns:
            raise VersionError(f"annotations has no column {col!r}.")
    out = annotations.copy()
    for col in ("item", "worker", "label"):
        out[col] = out[col].astype(str)
    return out.reset_index(drop=True)


def _next_name(root: Path) -> str:
    nums = [int(m.group(1)) for p in _version_dirs(root) if (m := re.match(r"^v(\d+)$", p.name))]
    return f"v{max(nums, default=0) + 1}"


def _version_dirs(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / MANIFEST).is_file())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_parquet(frame: pd.DataFrame, path: Path) -> dict[str, Any]:
    frame.to_parquet(path, index=False)
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())
    return {"sha256": _sha256(path), "bytes": path.stat().st_size, "rows": len(frame)}


def _clean_stale(root: Path) -> None:
    for p in root.glob(".tmp-*"):
        shutil.rmtree(p, ignore_errors=True)


def create_version(
    root: str | Path,
    items: pd.DataFrame,
    *,
    annotations: Any = None,
    aggregation: Mapping[str, Any] | None = None,
    decisions: pd.DataFrame | None = None,
    name: str | None = None,
    message: str = "",
    parent: str | None = None,
    overwrite: bool = False,
) -> Version:
    """Write an immutable version of a labeled dataset, atomically, and return it.

    Parameters
    ----------
    root : path
        The folder holding every version (created if missing).
    items : DataFrame
        ``item, label`` and optionally ``confidence`` and ``split``, one row per item.
    annotations : DataFrame or Annotations, optional
        The answers behind the labels (``item, worker, label``); stored whole and
        summarised per item (``n_annotations``, ``votes``).
    aggregation : mapping, optional
        How labels were made, e.g. ``{"method": "DawidSkene", "params": {...}}``.
    decisions : DataFrame, optional
        Curation decisions ``item, action, reason`` (``action == "removed"`` keeps the
        item with status ``removed``; ``"relabeled"`` records why its label changed).
    name : str, optional
        Version name; default ``v<N+1>`` after the highest ``v<N>`` in ``root``.
    message : str
        What this version is (shown by ``list`` and ``show``).
    parent : str, optional
        The version this one derives from (default: the latest in ``root``).
    overwrite : bool
        Replace an existing version of that name (versions are otherwise immutable).

    Returns
    -------
    Version
        The version as read back and verified.
    """
    root_p = Path(root)
    root_p.mkdir(parents=True, exist_ok=True)
    _clean_stale(root_p)
    name = _next_name(root_p) if name is None else name
    _check_name(name)
    final = root_p / name
    if final.exists() and not overwrite:
        raise VersionError(
            f"version {name!r} already exists in {str(root_p)!r}; versions are immutable "
            "(choose another name)."
        )
    if parent is None:
        existing = list_versions(root_p)
        if len(existing):
            latest = existing.sort_values("created").iloc[-1]["name"]
            parent = None if latest == name else str(latest)
    ann = _annotations_frame(annotations)
    table = _frame_items(items, ann, decisions)
    agg = dict(aggregation or {})
    try:
        json.dumps(agg)
    except TypeError as exc:
        raise VersionError(f"aggregation must be JSON-serialisable: {exc}") from exc
    kept = table[table["status"] == "kept"]
    tmp = root_p / f".tmp-{name}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        files = {ITEMS: _write_parquet(table, tmp / ITEMS)}
        if ann is not None:
            files[ANNOTATIONS] = _write_parquet(ann, tmp / ANNOTATIONS)
        manifest = {
            "format": FORMAT,
            "name": name,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "created_ns": time.time_ns(),
            "parent": parent,
            "message": message,
            "aggregation": agg,
            "counts": {
                "items": len(table),
                "kept": len(kept),
                "removed": int((table["status"] == "removed").sum()),
                "classes": {str(k): int(v) for k, v in kept["label"].value_counts().items()},
                "splits": {
                    str(k): int(v) for k, v in kept["split"].fillna("(none)").value_counts().items()
                },
            },
            "files": files,
        }
        with open(tmp / MANIFEST, "w") as fh:
            json.dump(manifest, fh, indent=2, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        _fsync_dir(tmp)
        if final.exists():  # overwrite: move the old one aside first, then swap
            old = root_p / f".tmp-old-{name}-{uuid.uuid4().hex[:8]}"
            os.rename(final, old)
            os.rename(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, final)
        _fsync_dir(root_p)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    attrs = root_p / ".gitattributes"
    if not attrs.exists():
        attrs.write_text("*.parquet filter=lfs diff=lfs merge=lfs -text\n")
    return load_version(root_p, name)


def load_version(root: str | Path, name: str) -> Version:
    """Read a version and verify every file against its manifest.

    Raises
    ------
    VersionError
        No such version (the message lists the ones there are).
    VersionIntegrityError
        A file is missing, or its size or sha256 differs from the manifest's.
    """
    root_p = Path(root)
    _check_name(name)
    path = root_p / name
    if not (path / MANIFEST).is_file():
        names = [p.name for p in _version_dirs(root_p)]
        raise VersionError(f"no version {name!r} in {str(root_p)!r}; versions there: {names}.")
    raw = (path / MANIFEST).read_bytes()
    try:
        manifest = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise VersionIntegrityError(
            f"version {name!r}: manifest.json is not valid JSON: {exc}"
        ) from None
    if manifest.get("format") != FORMAT or manifest.get("name") != name:
        raise VersionIntegrityError(
            f"version {name!r}: manifest.json is not a {FORMAT} manifest for this version."
        )
    for fname, meta in manifest["files"].items():
        f = path / fname
        if not f.is_file():
            raise VersionIntegrityError(
                f"version {name!r} is missing {fname}, which its manifest lists; refusing to "
                "read an incomplete version."
            )
        digest = _sha256(f)
        if digest != meta["sha256"] or f.stat().st_size != meta["bytes"]:
            raise VersionIntegrityError(
                f"version {name!r}: {fname} no longer matches its manifest (sha256 {digest[:12]}"
                f"..., {f.stat().st_size} bytes; manifest: {meta['sha256'][:12]}..., "
                f"{meta['bytes']} bytes). The file was changed after the version was written; "
                "refusing to use it. Restore it (git checkout / dvc checkout) or create a new "
                "version."
            )
    items = pd.read_parquet(path / ITEMS)
    ann = pd.read_parquet(path / ANNOTATIONS) if ANNOTATIONS in manifest["files"] else None
    return Version(
        name=name,
        path=path,
        manifest=manifest,
        items=items,
        annotations=ann,
        manifest_sha256=hashlib.sha256(raw).hexdigest(),
    )


def list_versions(root: str | Path) -> pd.DataFrame:
    """The versions in ``root``, oldest first: name, created, items, removed, parent, message.

    Reads only the manifests (fast); :func:`load_version` verifies the files.
    """
    rows = []
    for p in _version_dirs(Path(root)):
        try:
            m = json.loads((p / MANIFEST).read_text())
        except json.JSONDecodeError:
            continue
        rows.append(
            {
                "name": m.get("name", p.name),
                "created": m.get("created", ""),
                "items": m.get("counts", {}).get("kept", 0),
                "removed": m.get("counts", {}).get("removed", 0),
                "parent": m.get("parent") or "",
                "message": m.get("message", ""),
                "_ns": m.get("created_ns", 0),
            }
        )
    cols = ["name", "created", "items", "removed", "parent", "message"]
    if not rows:
        return pd.DataFrame(columns=cols)
    return pd.DataFrame(rows).sort_values(["_ns", "name"])[cols].reset_index(drop=True)
