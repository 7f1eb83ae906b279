"""Immutable dataset versions with provenance: what a model was trained on, and why.

- :mod:`~labelwise.versions.store`: :func:`create_version` (atomic write, Parquet +
  manifest of content hashes), :func:`load_version` (verified read),
  :func:`list_versions`;
- :mod:`~labelwise.versions.diff`: :func:`diff_versions`, item by item with reasons;
- :mod:`~labelwise.versions.export`: Parquet, CSV, Hugging Face ``datasets``, image folders.
"""

from __future__ import annotations

from labelwise.versions.diff import VersionDiff, diff_versions
from labelwise.versions.export import export_version
from labelwise.versions.store import (
    Version,
    VersionError,
    VersionIntegrityError,
    create_version,
    list_versions,
    load_version,
)

__all__ = [
    "Version",
    "VersionDiff",
    "VersionError",
    "VersionIntegrityError",
    "create_version",
    "diff_versions",
    "export_version",
    "list_versions",
    "load_version",
]
