"""Pool-based active learning: what to label next.

- :mod:`~labelwise.active.strategies` — scores, pure functions of probabilities
  (least confidence, margin, entropy, information density, vote entropy, mean KL, BALD).
- :mod:`~labelwise.active.diversity` — batches chosen for diversity (core-set, BADGE,
  score-weighted k-means++, clustered top candidates, k-means cold start).
- :mod:`~labelwise.active.batch` — top-k and class-balanced top-k.
- :mod:`~labelwise.active.clusters` — typical-cluster cold starts, cluster-margin batches.
- :mod:`~labelwise.active.propagation` — label spreading over the kNN graph (pseudo-labels).
- :mod:`~labelwise.active.prequential` — choosing a self-training arm by how it predicted
  the labels bought next (the default ``self_training="auto"``).
- :mod:`~labelwise.active.seals` — SEALS candidate pools over a nearest-neighbour index.
- :mod:`~labelwise.active.learner` — :class:`ActiveLearner`: query, teach, run.
- :mod:`~labelwise.active.stopping` — stopping rules.
- :mod:`~labelwise.active.torch_adapter` — MC-dropout samples from a torch model (optional).
"""

from __future__ import annotations

from labelwise.active.batch import class_balanced_top_k, top_k
from labelwise.active.clusters import cluster_margin, pool_clusters, typical_clusters
from labelwise.active.diversity import (
    badge,
    cluster_top,
    coreset,
    kmeans_seed,
    weighted_kmeans_pp,
)
from labelwise.active.learner import (
    BATCH_MODES,
    PSEUDO_LABELS,
    STRATEGIES,
    ActiveLearner,
    ActiveRun,
)
from labelwise.active.prequential import AUTO_THRESHOLDS, leader, prequential_update
from labelwise.active.propagation import knn_affinity, label_spreading
from labelwise.active.seals import SEALS
from labelwise.active.stopping import MaxUncertainty, StabilizingPredictions
from labelwise.active.strategies import (
    bald,
    entropy,
    information_density,
    least_confidence,
    margin,
    mean_kl,
    random_scores,
    target_class,
    vote_entropy,
)

__all__ = [
    "AUTO_THRESHOLDS",
    "BATCH_MODES",
    "PSEUDO_LABELS",
    "SEALS",
    "STRATEGIES",
    "ActiveLearner",
    "ActiveRun",
    "MaxUncertainty",
    "StabilizingPredictions",
    "badge",
    "bald",
    "class_balanced_top_k",
    "cluster_margin",
    "cluster_top",
    "coreset",
    "entropy",
    "information_density",
    "kmeans_seed",
    "knn_affinity",
    "label_spreading",
    "leader",
    "least_confidence",
    "margin",
    "mean_kl",
    "pool_clusters",
    "prequential_update",
    "random_scores",
    "target_class",
    "top_k",
    "typical_clusters",
    "vote_entropy",
    "weighted_kmeans_pp",
]
