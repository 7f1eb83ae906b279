"""One torch thread in the torch tests: the test machine's two cores are shared with the
rest of the suite, and torch's thread pool thrashes on a loaded machine (10x slower)."""

from __future__ import annotations

import importlib.util

import pytest


@pytest.fixture(autouse=True)
def one_torch_thread():
    if importlib.util.find_spec("torch") is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
