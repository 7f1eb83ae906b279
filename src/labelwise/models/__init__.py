"""Neural models for the studies (optional extra ``labelwise[gpu]``: torch).

Importing this package does not import torch; fitting a model does.
"""

from __future__ import annotations

from labelwise.models.cnn import SmallCNNClassifier, small_cnn

__all__ = ["SmallCNNClassifier", "small_cnn"]
