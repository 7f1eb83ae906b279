"""Export a version to what people train from: Parquet, CSV, Hugging Face, image folders.

Exports carry the kept items only (removed ones stay in the version with their
reason) and write through a temporary name, so a failed export leaves nothing half
written.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np

from labelwise.errors import InputError
from labelwise.io import write_frame
from labelwise.versions.store import Version, VersionError

__all__ = ["export_version"]

_SAFE = str.maketrans({c: "_" for c in '/\\:*?"<>| '})


def export_version(
    version: Version,
    out: str | Path,
    *,
    format: Literal["parquet", "csv", "hf", "imagefolder"] = "parquet",
    images: Mapping[str, Any] | Callable[[str], Any] | None = None,
) -> Path:
    """Write the kept items of ``version`` to ``out``; return the path written.

    Parameters
    ----------
    version : Version
    out : path
        A file (``parquet``, ``csv``) or a folder (``hf``, ``imagefolder``).
    format : {"parquet", "csv", "hf", "imagefolder"}
        ``hf``: a ``datasets.DatasetDict`` with one dataset per split, saved with
        ``save_to_disk`` (needs the optional ``datasets`` package). ``imagefolder``:
        ``out/<split>/<label>/<item>.png``, the layout torchvision's ``ImageFolder``
        and Hugging Face's ``imagefolder`` loader read.
    images : mapping or callable, optional
        For ``imagefolder``: item id to an image array (h, w[, c]) or to a file path.
    """
    kept = version.kept()
    out_p = Path(out)
    if format in ("parquet", "csv"):
        write_frame(kept, out_p)
        return out_p
    if format not in ("hf", "imagefolder"):
        raise InputError(f"unknown export format {format!r}; use parquet, csv, hf or imagefolder.")
    if out_p.exists():
        raise VersionError(f"export folder {str(out_p)!r} already exists; choose a new one.")
    tmp = out_p.with_name(f".tmp-{out_p.name}-{uuid.uuid4().hex[:8]}")
    try:
        if format == "hf":
            _hf(kept, tmp)
        else:
            _imagefolder(kept, tmp, images)
        tmp.rename(out_p)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_p


def _hf(kept: Any, path: Path) -> None:
    try:
        import datasets
    except ImportError as exc:
        raise InputError(
            "export to Hugging Face needs the 'datasets' package: pip install 'labelwise[hf]'."
        ) from exc
    split = kept["split"].fillna("train")
    parts = {
        str(s): datasets.Dataset.from_pandas(kept[split == s].reset_index(drop=True))
        for s in sorted(split.unique())
    }
    datasets.DatasetDict(parts).save_to_disk(str(path))


def _imagefolder(kept: Any, path: Path, images: Any) -> None:
    from PIL import Image

    if images is None:
        raise InputError("export to an image folder needs images (item id -> array or path).")
    get = images if callable(images) else images.get
    path.mkdir(parents=True)
    for item, label, split in zip(kept["item"], kept["label"], kept["split"], strict=True):
        img = get(item)
        if img is None:
            raise InputError(f"no image for item {item!r}.")
        folder = path / str(split or "train").translate(_SAFE) / str(label).translate(_SAFE)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{str(item).translate(_SAFE)}.png"
        if isinstance(img, (str, Path)):
            Image.open(img).save(target)
            continue
        arr = np.asarray(img)
        if arr.dtype != np.uint8:
            top = 255.0 / max(float(arr.max()), 1.0) if arr.max() > 1 else 255.0
            arr = np.clip(arr * top, 0, 255).astype(np.uint8)
        Image.fromarray(arr).save(target)
