"""What the commands share: the console, error reporting, tables, progress and options.

Nothing heavy is imported here at module level (pandas, numpy, the library), so
``labelwise --help`` starts fast; each command imports what it needs when it runs.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console

from labelwise.cli._app import report_error
from labelwise.cli._progress import progress
from labelwise.errors import LabelwiseError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "check_folder_option",
    "check_output_option",
    "console",
    "err_console",
    "positive_option",
    "print_frame",
    "print_summary",
    "progress",
    "progress_bar",
    "run_or_exit",
    "status",
]

console = Console(width=None if sys.stdout.isatty() else 140)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 140)

T = TypeVar("T")


def run_or_exit(fn: Callable[[], T]) -> T:
    """Call ``fn``; a :class:`LabelwiseError` becomes one ``error:`` line and exit code 2.

    Every command also runs inside the app's error boundary (:mod:`labelwise.cli._app`),
    which does the same for any exception; this wrapper is kept for commands that
    want to catch errors themselves.
    """
    try:
        return fn()
    except (LabelwiseError, OSError) as exc:
        raise typer.Exit(code=report_error(exc)) from None


def check_output_option(value: Path | None) -> Path | None:
    """Typer callback for ``-o``: refuse a folder, an unknown format or an unwritable place
    before any work starts."""
    if value is None:
        return None
    from labelwise.io import check_output_path

    try:
        return check_output_path(value)
    except LabelwiseError as exc:
        raise typer.BadParameter(str(exc)) from None


def positive_option(value: float | None) -> float | None:
    """Typer callback for a price or an amount: refuse zero or less before any work."""
    if value is not None and not value > 0:
        raise typer.BadParameter(f"must be greater than 0; got {value:g}.")
    return value


def check_folder_option(value: Path) -> Path:
    """Typer callback for an output folder (``--out``): refuse a file or an unwritable place."""
    from labelwise.io import check_output_folder

    try:
        return check_output_folder(value)
    except LabelwiseError as exc:
        raise typer.BadParameter(str(exc)) from None


def print_frame(
    frame: pd.DataFrame | Mapping[str, Any], *, title: str = "", digits: int = 3, max_rows: int = 40
) -> None:
    """Print a DataFrame, or named equal-length columns, as a rich table.

    Numbers are right-aligned, floats shown with ``digits`` decimals and NaN as blank.
    """
    import numpy as np
    from rich.table import Table

    if isinstance(frame, Mapping):
        columns = {str(c): np.asarray(v) for c, v in frame.items()}
    else:  # a DataFrame, converted column by column
        columns = {str(c): frame[c].to_numpy() for c in frame.columns}
    n_rows = len(next(iter(columns.values()))) if columns else 0
    table = Table(title=title or None, show_lines=False, header_style="bold")
    for name, values in columns.items():
        table.add_column(name, justify="right" if values.dtype.kind in "iuf" else "left")
    for row in range(min(n_rows, max_rows)):
        cells = []
        for values in columns.values():
            v = values[row]
            if isinstance(v, float | np.floating):
                cells.append("" if v != v else f"{v:.{digits}f}")
            else:
                cells.append(str(v))
        table.add_row(*cells)
    console.print(table)
    if n_rows > max_rows:
        console.print(f"[dim]... {n_rows - max_rows} more rows[/]")


def print_summary(pairs: dict[str, Any], *, title: str) -> None:
    """Print key/value pairs as a two-column table."""
    from rich.table import Table

    table = Table(title=title, show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    for k, v in pairs.items():
        table.add_row(k, f"{v:.4g}" if isinstance(v, float) else str(v))
    console.print(table)


@contextlib.contextmanager
def progress_bar(description: str, total: float | None) -> Iterator[Callable[[float], None]]:
    """One counted stage; yields ``advance(n)`` (see :func:`progress` for several stages)."""
    done = 0.0
    with progress(description) as callback:
        total_i = None if total is None else int(total)

        def advance(n: float = 1) -> None:
            nonlocal done
            done += n
            callback(description, int(done), total_i)

        callback(description, 0, total_i)
        yield advance


@contextlib.contextmanager
def status(message: str) -> Iterator[None]:
    """A spinner with ``message`` on stderr while a step runs (only on a terminal)."""
    if err_console.is_terminal:
        with err_console.status(message):
            yield
    else:
        yield
