"""The exceptions labelwise raises.

Every error a user can cause is a :class:`LabelwiseError`, which is a ``ValueError``
so that code written against scikit-learn's conventions keeps working. Messages
name the argument, column, row and value that is wrong.

Tree::

    LabelwiseError(ValueError)
    ├── InputError            a table, file or array that cannot be used as given
    │   └── AnnotationsError  annotations or gold labels (column, row, value)
    ├── ParameterError        a hyper-parameter outside its allowed range
    ├── ResourceError         a job that would need more memory than allowed (said before)
    └── NotFittedError        a fitted attribute read before ``fit``

Warnings (the result is computed, but the user should look)::

    LabelwiseWarning(UserWarning)
    ├── SimilarClassesWarning  class names that differ only in case, spacing or number format
    └── WeakModelWarning       a model too weak for the check built on it to be trusted
"""

from __future__ import annotations

__all__ = [
    "AnnotationsError",
    "InputError",
    "LabelwiseError",
    "LabelwiseWarning",
    "NotFittedError",
    "ParameterError",
    "ResourceError",
    "SimilarClassesWarning",
    "WeakModelWarning",
]


class LabelwiseError(ValueError):
    """Base class of every error labelwise raises on bad input."""


class InputError(LabelwiseError):
    """Data (a table, a file, an array) that cannot be used as given."""


class AnnotationsError(InputError):
    """Annotations or gold labels that fail validation; the message names column and row."""


class ParameterError(LabelwiseError):
    """A hyper-parameter or option outside its allowed values."""


class ResourceError(LabelwiseError):
    """A job that would need more memory than allowed; raised before allocating it."""


class NotFittedError(LabelwiseError, AttributeError):
    """A fitted attribute or method was used before ``fit`` was called."""


class LabelwiseWarning(UserWarning):
    """Base class of the warnings labelwise emits about the user's data."""


class SimilarClassesWarning(LabelwiseWarning):
    """Class names that differ only in case, spacing or number format ("cat"/"Cat", "1"/"1.0")."""


class WeakModelWarning(LabelwiseWarning):
    """A model no better than a baseline: checks that rely on its predictions are not shown."""
