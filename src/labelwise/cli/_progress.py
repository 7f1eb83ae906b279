"""Progress of long CLI steps: a rich bar on a terminal, plain lines on stderr otherwise.

The library reports into the callback this yields (``callback(stage, done, total)``,
see :mod:`labelwise._progress`); the CLI owns how it looks. On a terminal each stage
is a bar with its name, ``done/total``, elapsed and remaining time. Piped or
redirected, stderr gets one line per stage start and end and at most one every few
seconds in between, e.g.::

    audit: out-of-fold model 3/5 (60%), elapsed 0:00:04, remaining 0:00:03
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from typing import Any

from labelwise._progress import ProgressCallback

__all__ = ["progress"]


def _clock(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class _Lines:
    """Plain progress lines on stderr for piped output (no terminal to redraw)."""

    def __init__(self, title: str, every: float) -> None:
        self.title, self.every = title, every
        self.stage: str | None = None
        self.started = self.last = 0.0
        self.shown: tuple[str, int] | None = None

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        new = stage != self.stage
        if new:
            self.stage, self.started = stage, now
        finished = total is not None and done >= total
        if self.shown == (stage, done) or not (new or finished or now - self.last >= self.every):
            return
        self.last, self.shown = now, (stage, done)
        elapsed = now - self.started
        if total:
            line = f"{self.title}: {stage} {done}/{total} ({100 * done / total:.0f}%)"
            line += f", elapsed {_clock(elapsed)}"
            if 0 < done < total:
                line += f", remaining {_clock(elapsed / done * (total - done))}"
        else:
            line = f"{self.title}: {stage} {done}, elapsed {_clock(elapsed)}"
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


class _Bars:
    """One rich bar per stage: name, done/total, elapsed and remaining time."""

    def __init__(self, bars: Any) -> None:
        self.bars = bars
        self.tasks: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.bars.add_task(stage, total=total)
        self.bars.update(self.tasks[stage], completed=done, total=total)


@contextlib.contextmanager
def progress(title: str, *, every: float = 5.0) -> Iterator[ProgressCallback]:
    """Yield a ``callback(stage, done, total)`` that shows progress of ``title``'s stages.

    A terminal on stderr gets rich bars (stage, bar, ``done/total``, elapsed,
    remaining), cleared when the block ends; otherwise plain lines on stderr, at most
    one every ``every`` seconds per stage plus its first and last.
    """
    from labelwise.cli._common import err_console

    if not err_console.is_terminal:
        yield _Lines(title, every)
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("elapsed"),
        TimeElapsedColumn(),
        TextColumn("remaining"),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    ) as bars:
        yield _Bars(bars)
