"""A dataset version for every consensus export of a project.

An export is where a user of the service takes labels away to train on, so it is
where a snapshot must exist that says exactly which labels those were and where
they came from: the consensus labels and confidence, every live answer behind them,
and the routing policy and aggregation method (:mod:`labelwise.versions`). The
version is written by the export call, never per answer, so annotators' requests
pay nothing for it.

Where: ``<project folder>/versions/<project>/`` (the folder holds the project's
images, and under ``labelwise serve`` its SQLite file, and may be shared by several
projects, hence one sub-folder per project); a project without a folder on a
SQLite database uses the database file's folder; a project with neither (no folder,
PostgreSQL) gets no version, and the export says so in its header.

Exporting again without a new, changed or undone answer names the version already
written for those answers instead of writing an identical one.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

import pandas as pd

from labelwise.service.core import LabelService

__all__ = ["consensus_version", "versions_root"]

_LOCK = threading.Lock()  # one writer at a time names the next version


def versions_root(svc: LabelService, project: str) -> Path | None:
    """The folder holding ``project``'s versions, or None where there is none to use."""
    p = svc.project(project)
    if p.folder:
        base = Path(p.folder)
    elif svc.db.is_sqlite and svc.db.write_engine.url.database:
        base = Path(svc.db.write_engine.url.database).resolve().parent
    else:
        return None
    return base / "versions" / project


def _answers_digest(answers: pd.DataFrame) -> str:
    """Hash of the live answers' sequence numbers and labels: equal iff no answer was
    added, changed or undone since."""
    h = hashlib.sha256()
    for seq, label in zip(answers["seq"].tolist(), answers["label"].tolist(), strict=True):
        h.update(f"{seq}:{label};".encode())
    return h.hexdigest()


def consensus_version(
    svc: LabelService, project: str, consensus: pd.DataFrame, answers: pd.DataFrame
) -> Any:
    """The version of ``project`` holding ``consensus`` (written now unless the newest
    one already holds the same answers); None when the project has nowhere to keep it.

    Parameters
    ----------
    consensus : DataFrame
        The consensus export (``item, label, confidence, ...``).
    answers : DataFrame
        The answers export it was aggregated from.

    Returns
    -------
    Version or None
    """
    from labelwise.service.transfer import consensus_method
    from labelwise.versions import VersionError, list_versions, load_version

    root = versions_root(svc, project)
    if root is None:
        return None
    p = svc.project(project)
    digest = _answers_digest(answers)
    method = consensus_method(p.policy)
    with _LOCK:
        existing = list_versions(root)
        if len(existing):
            latest = load_version(root, str(existing["name"].iloc[-1]))
            agg = latest.manifest.get("aggregation", {})
            if agg.get("method") == method and agg.get("params", {}).get("answers") == digest:
                return latest
        cols = [c for c in ("item", "worker", "label", "created_at", "seq", "source")
                if c in answers.columns]  # fmt: skip
        for attempt in range(3):  # another server process may take the name vN first
            try:
                return _create(root, project, p, method, digest, consensus, answers[cols])
            except (OSError, VersionError):
                if attempt == 2:
                    raise
    return None  # pragma: no cover - the loop returns or raises


def _create(
    root: Path,
    project: str,
    p: Any,
    method: str,
    digest: str,
    consensus: pd.DataFrame,
    answers: pd.DataFrame,
) -> Any:
    from labelwise.versions import create_version

    return create_version(
        root,
        consensus[["item", "label", "confidence"]],
        annotations=answers,
        aggregation={
            "method": method,
            "params": {
                "routing": p.policy,
                "overlap": int(p.overlap),
                "classes": [str(c) for c in p.classes],
                "n_answers": len(answers),
                "answers": digest,
            },
        },
        message=f"service export of project {project!r}: {len(consensus)} items, "
        f"{len(answers)} answers",
    )
