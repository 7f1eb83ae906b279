"""Shared fixtures: small crowds with known truth, and the real data folder when present."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from _crowd import make_crowd
from labelwise.annotations import Annotations

os.environ.setdefault("MPLBACKEND", "Agg")


def _shared_data() -> Path | None:
    here = Path(__file__).resolve()
    for base in [
        Path(os.environ.get("LABELWISE_DATA", "/nonexistent")),
        *[p / "shared" / "data" for p in here.parents],
    ]:
        if base.is_dir():
            return base
    return None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data sets folder (``../shared/data``); tests that need it skip without it."""
    path = _shared_data()
    if path is None:
        pytest.skip("shared data folder not found")
    return path


@pytest.fixture
def crowd() -> tuple[Annotations, np.ndarray]:
    return make_crowd()


@pytest.fixture(scope="session")
def demo_report_path(tmp_path_factory) -> Path:
    """The demo report in fast mode, rendered once per session (report and browser tests)."""
    import warnings

    from labelwise.report.demo import run_demo

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return run_demo(tmp_path_factory.mktemp("demo"), fast=True)
