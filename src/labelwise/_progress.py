"""How long library steps report progress: a callback, never a print.

A long function takes ``progress: ProgressCallback | None`` and calls
``progress(stage, done, total)`` as it goes (``total`` ``None`` when unknown). The
CLI passes :func:`labelwise.cli._progress.progress`'s callback, which draws a rich
bar on a terminal and writes plain lines to stderr otherwise; library users pass
their own or nothing. Each call is also logged at DEBUG on ``labelwise.progress``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

__all__ = ["ProgressCallback", "report"]

ProgressCallback = Callable[[str, int, int | None], None]

_log = logging.getLogger("labelwise.progress")


def report(progress: ProgressCallback | None, stage: str, done: int, total: int | None) -> None:
    """Tell ``progress`` (if any) that ``done`` of ``total`` units of ``stage`` are finished."""
    _log.debug("%s: %d/%s", stage, done, "?" if total is None else total)
    if progress is not None:
        progress(stage, done, total)
