"""Dataset curation: what is wrong in a labeled dataset, and what can be dropped.

- :mod:`~labelwise.curate.label_issues`: wrong labels by confident learning;
- :mod:`~labelwise.curate.error_count`: the number of wrong labels as a range;
- :mod:`~labelwise.curate.crowd`: consensus quality from crowd answers and a model;
- :mod:`~labelwise.curate.outliers`: items far from every other item;
- :mod:`~labelwise.curate.duplicates`: exact and near duplicates, train/test leakage;
- :mod:`~labelwise.curate.near_duplicates`: near duplicates by a gap calibrated on the data;
- :mod:`~labelwise.curate.embeddings`: image (HOG, DCT hash, thumbnail, colour) and text
  embeddings that survive crops, shifts, recolouring and re-encoding;
- :mod:`~labelwise.curate.image_quality`: blurry, dark, bright, low-information images;
- :mod:`~labelwise.curate.balance`: per-class counts;
- :mod:`~labelwise.curate.pruning`: keep the most useful fraction (prototype metric);
- :mod:`~labelwise.curate.audit`: all of it in one pass (``labelwise audit``).
"""

from __future__ import annotations

from labelwise.curate._knn import Neighbors, nearest_neighbors
from labelwise.curate.audit import AuditReport, audit_dataset
from labelwise.curate.balance import class_balance
from labelwise.curate.crowd import CrowdQuality, consensus_quality
from labelwise.curate.duplicates import (
    Duplicates,
    Leakage,
    exact_duplicates,
    find_leakage,
    find_near_duplicates,
)
from labelwise.curate.embeddings import image_embedding, text_embedding
from labelwise.curate.error_count import ErrorCount, error_count_range
from labelwise.curate.image_quality import ImageQuality, image_quality
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
from labelwise.curate.near_duplicates import (
    Calibration,
    NearDuplicates,
    content_keys,
    near_duplicates,
)
from labelwise.curate.outliers import Outliers, find_outliers, outlier_flags
from labelwise.curate.pruning import prototype_scores, prune

__all__ = [
    "AuditReport",
    "Calibration",
    "CrowdQuality",
    "Duplicates",
    "ErrorCount",
    "ImageQuality",
    "LabelIssues",
    "Leakage",
    "NearDuplicates",
    "Neighbors",
    "Outliers",
    "audit_dataset",
    "class_balance",
    "class_thresholds",
    "confident_joint",
    "consensus_quality",
    "content_keys",
    "error_count_range",
    "estimate_joint",
    "exact_duplicates",
    "find_label_issues",
    "find_leakage",
    "find_near_duplicates",
    "find_outliers",
    "image_embedding",
    "image_quality",
    "label_posterior",
    "label_quality",
    "near_duplicates",
    "nearest_neighbors",
    "noise_matrix",
    "out_of_fold_proba",
    "outlier_flags",
    "prototype_scores",
    "prune",
    "text_embedding",
]
