"""Weak supervision: labels without labelers.

Declare labeling functions with :func:`labeling_function`, apply them to a table
with :func:`apply_functions` into a :class:`VoteMatrix`, inspect them with
:func:`function_summary`, and turn their votes (with crowd answers if there are
any) into probabilistic labels with :class:`LabelModel`.
"""

from __future__ import annotations

from labelwise.weak.analysis import function_summary
from labelwise.weak.embedding import prototype_votes
from labelwise.weak.functions import (
    ABSTAIN,
    Item,
    LabelingFunction,
    keyword_function,
    labeling_function,
    load_classes,
    load_functions,
    pattern_function,
)
from labelwise.weak.label_model import (
    LabelModel,
    conditional_correlation,
    majority_vote,
    redundancy_weights,
)
from labelwise.weak.votes import ABSTAIN_CODE, FunctionError, VoteMatrix, apply_functions

__all__ = [
    "ABSTAIN",
    "ABSTAIN_CODE",
    "FunctionError",
    "Item",
    "LabelModel",
    "LabelingFunction",
    "VoteMatrix",
    "apply_functions",
    "conditional_correlation",
    "function_summary",
    "keyword_function",
    "labeling_function",
    "load_classes",
    "load_functions",
    "majority_vote",
    "pattern_function",
    "prototype_votes",
    "redundancy_weights",
]
