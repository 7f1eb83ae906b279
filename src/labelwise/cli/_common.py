"""What the commands share: the console, error reporting, tables and progress bars."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from labelwise.errors import LabelwiseError

console = Console(width=None if sys.stdout.isatty() else 140)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 140)

T = TypeVar("T")


def run_or_exit(fn: Callable[[], T]) -> T:
    """Call ``fn``; turn a :class:`LabelwiseError` into a red one-line message and exit 2."""
    try:
        return fn()
    except LabelwiseError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from None
    except FileNotFoundError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from None


def print_frame(
    frame: pd.DataFrame, *, title: str = "", digits: int = 3, max_rows: int = 40
) -> None:
    """Print a DataFrame as a rich table (floats with ``digits`` decimals)."""
    table = Table(title=title or None, show_lines=False, header_style="bold")
    for col in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[col]) and not pd.api.types.is_bool_dtype(
            frame[col]
        )
        table.add_column(str(col), justify="right" if numeric else "left")
    shown = frame.head(max_rows)
    for _, row in shown.iterrows():
        cells = []
        for col in frame.columns:
            v = row[col]
            if isinstance(v, float):
                cells.append("" if pd.isna(v) else f"{v:.{digits}f}")
            else:
                cells.append(str(v))
        table.add_row(*cells)
    console.print(table)
    if len(frame) > max_rows:
        console.print(f"[dim]... {len(frame) - max_rows} more rows[/]")


def print_summary(pairs: dict[str, Any], *, title: str) -> None:
    """Print key/value pairs as a two-column table."""
    table = Table(title=title, show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    for k, v in pairs.items():
        table.add_row(k, f"{v:.4g}" if isinstance(v, float) else str(v))
    console.print(table)


@contextlib.contextmanager
def progress_bar(description: str, total: float | None) -> Iterator[Callable[[float], None]]:
    """A rich progress bar; yields ``advance(n)``. Silent when stdout is not a terminal."""
    with Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    ) as prog:
        task = prog.add_task(description, total=total)
        yield lambda n=1: prog.advance(task, n)


@contextlib.contextmanager
def status(message: str) -> Iterator[None]:
    """A spinner with ``message`` on stderr while a step runs (only on a terminal)."""
    if err_console.is_terminal:
        with err_console.status(message):
            yield
    else:
        yield
