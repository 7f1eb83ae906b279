"""Dataset curation: what is wrong in a labeled dataset, and what can be dropped.

- :mod:`~labelwise.curate.label_issues`: wrong labels by confident learning;
- :mod:`~labelwise.curate.crowd`: consensus quality from crowd answers and a model;
- :mod:`~labelwise.curate.outliers`: items far from every other item;
- :mod:`~labelwise.curate.duplicates`: exact and near duplicates, train/test leakage;
- :mod:`~labelwise.curate.image_quality`: blurry, dark, bright, low-information images;
- :mod:`~labelwise.curate.pruning`: keep the most useful fraction (prototype metric).
"""

from __future__ import annotations

from labelwise.curate.label_issues import (
    LabelIssues,
    class_thresholds,
    confident_joint,
    estimate_joint,
    find_label_issues,
    label_posterior,
    label_quality,
    noise_matrix,
    out_of_fold_proba,
)

__all__ = [
    "LabelIssues",
    "class_thresholds",
    "confident_joint",
    "estimate_joint",
    "find_label_issues",
    "label_posterior",
    "label_quality",
    "noise_matrix",
    "out_of_fold_proba",
]
