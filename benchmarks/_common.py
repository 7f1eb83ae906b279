"""Helpers shared by the benchmark scripts: timing, peak memory and table printing."""

from __future__ import annotations

import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import pandas as pd


def machine() -> str:
    """One line naming the machine, for RESULTS.md."""
    import os

    return (
        f"{platform.machine()}, {os.cpu_count()} cores, no GPU, Python {platform.python_version()}"
    )


def timed(fn: Callable[[], Any], repeats: int = 3) -> tuple[Any, float, list[float]]:
    """Run ``fn`` ``repeats`` times; return (last result, median seconds, all seconds)."""
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return out, statistics.median(times), times


def peak_memory_mb(fn: Callable[[], Any]) -> tuple[Any, float]:
    """Run ``fn`` once under tracemalloc; return (result, peak Python-heap MiB).

    tracemalloc sees numpy and pandas buffers (they allocate through Python's
    allocator hooks), so it compares the two libraries' working memory fairly.
    """
    tracemalloc.start()
    try:
        out = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return out, peak / 2**20


def print_table(frame: pd.DataFrame, title: str) -> None:
    """Print a markdown table (pasteable into RESULTS.md)."""
    print(f"\n### {title}\n")
    print(
        frame.to_markdown(index=False, floatfmt=".4g")
        if _has_tabulate()
        else frame.to_string(index=False)
    )


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True
