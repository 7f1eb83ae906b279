"""Leakage-free splits: stratified, group-preserving, stable under added items.

- :mod:`~labelwise.split.groups`: a user group column joined with near-duplicate sets;
- :mod:`~labelwise.split.assign`: :func:`split_dataset` (stable hash or balanced
  placement), the :class:`Split` with per-class counts, :func:`crossing_pairs`.
"""

from __future__ import annotations

from labelwise.split.assign import Split, SplitError, crossing_pairs, split_dataset
from labelwise.split.groups import ItemGroups, item_groups

__all__ = ["ItemGroups", "Split", "SplitError", "crossing_pairs", "item_groups", "split_dataset"]
