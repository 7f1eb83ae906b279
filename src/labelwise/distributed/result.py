"""The per-item result of a distributed fit, computed where the partitions live.

:class:`DaskConsensus` holds no rows: it knows the partitions and the fitted
parameters, and each partition's rows (item, label, confidence, n_annotations,
agreement) are recomputed on its worker when asked. :meth:`DaskConsensus.to_parquet`
writes one Parquet file per partition from the workers into a hidden temporary
folder next to the target and renames it into place at the end, so a crash or a
killed run leaves the previous output or none, never a part.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import pandas as pd

from labelwise._progress import ProgressCallback, report
from labelwise.distributed._fit import Spec, result_frame
from labelwise.distributed.annotations import Block
from labelwise.errors import InputError

__all__ = ["DaskConsensus"]


def _write_part(block: Block, spec: Spec, folder: str, proba: bool) -> int:
    frame = result_frame(block, spec, proba)
    frame.to_parquet(Path(folder) / f"part-{block.index:05d}.parquet", index=False)
    return len(frame)


class DaskConsensus:
    """One row per item, partitioned like the annotations and kept on the cluster.

    Attributes
    ----------
    npartitions, n_items : int
    """

    def __init__(self, client: Any, blocks: list[Any], spec: Spec, *, n_items: int):
        self.client = client
        self.blocks = blocks
        self.spec = spec
        self.n_items = n_items

    @property
    def npartitions(self) -> int:
        return len(self.blocks)

    def __repr__(self) -> str:
        return f"DaskConsensus(n_items={self.n_items}, npartitions={self.npartitions})"

    def frames(self, *, proba: bool = False) -> list[Any]:
        """Futures of the partitions' DataFrames (computed on the workers)."""
        return self.client.map(  # type: ignore[no-any-return]
            result_frame, self.blocks, spec=self.spec, proba=proba, pure=False
        )

    def to_frame(self, *, proba: bool = False) -> pd.DataFrame:
        """Collect every row into one DataFrame (only for results that fit in memory).

        ``proba=True`` adds one ``proba_<class>`` column per class.
        """
        frames = self.client.gather(self.frames(proba=proba))
        return pd.concat(frames, ignore_index=True)

    def to_parquet(
        self, path: str | Path, *, proba: bool = False, progress: ProgressCallback | None = None
    ) -> Path:
        """Write a folder of Parquet files (``part-00000.parquet``, ...) atomically.

        The workers write into ``.<name>.tmp-<id>`` beside ``path`` (so the folder
        must be on storage the workers share with this process); the folder is
        renamed to ``path`` only when every part is written, replacing a previous
        output. Returns ``path``.

        Raises
        ------
        InputError
            When ``path`` is a file or its parent cannot be written.
        """
        from distributed import as_completed

        target = Path(path)
        if target.exists() and not target.is_dir():
            raise InputError(f"output {str(target)!r} is a file; name a folder for Parquet parts.")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
            tmp.mkdir()
        except OSError as exc:
            raise InputError(f"cannot write {str(target)!r}: {exc.strerror or exc}.") from None
        try:
            futures = self.client.map(
                _write_part, self.blocks, spec=self.spec, folder=str(tmp), proba=proba, pure=False
            )
            for done, fut in enumerate(as_completed(futures), start=1):
                fut.result()
                report(progress, "writing Parquet parts", done, len(futures))
            old = None
            if target.exists():
                old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
                os.rename(target, old)
            os.rename(tmp, target)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return target
