"""The public surface: ``__all__`` lists exactly what the package exports, and it imports."""

from __future__ import annotations

import importlib

import pytest

import labelwise


def test_all_names_exist():
    for name in labelwise.__all__:
        assert hasattr(labelwise, name), name


@pytest.mark.parametrize(
    "module",
    [
        "labelwise.aggregate",
        "labelwise.annotations",
        "labelwise.agreement",
        "labelwise.errors",
        "labelwise.simulate",
        "labelwise.report",
        "labelwise.routing",
        "labelwise.active",
        "labelwise.curate",
        "labelwise.scaling",
        "labelwise.index",
        "labelwise.io",
        "labelwise.datasets",
        "labelwise.distributed",
        "labelwise.split",
        "labelwise.versions",
        "labelwise.engine",
    ],
)
def test_module_all_is_in_step(module):
    mod = importlib.import_module(module)
    public = {n for n in vars(mod) if not n.startswith("_")}
    assert set(mod.__all__) <= public
    assert len(mod.__all__) == len(set(mod.__all__))


def test_error_tree():
    from labelwise.errors import (
        AnnotationsError,
        InputError,
        LabelwiseError,
        NotFittedError,
        ParameterError,
    )

    assert issubclass(LabelwiseError, ValueError)
    assert issubclass(AnnotationsError, InputError) and issubclass(InputError, LabelwiseError)
    assert issubclass(ParameterError, LabelwiseError) and issubclass(NotFittedError, LabelwiseError)
