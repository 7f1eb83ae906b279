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
"""

from __future__ import annotations

__all__ = [
    "AnnotationsError",
    "InputError",
    "LabelwiseError",
    "NotFittedError",
    "ParameterError",
    "ResourceError",
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
