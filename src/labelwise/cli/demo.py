"""``labelwise demo``: the whole pipeline on the embedded default data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labelwise.cli._app import app
from labelwise.cli._common import check_folder_option, console, run_or_exit


@app.command()
def demo(
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="Folder for the report (index.html).", callback=check_folder_option
        ),
    ] = Path("report"),
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the simulated crowd and every step.")
    ] = 0,
    fast: Annotated[
        bool, typer.Option("--fast", help="Fewer seeds and rounds: a quick look.")
    ] = False,
) -> None:
    """Run every step on scikit-learn's digits labeled by a simulated crowd; write the report.

    Sections: aggregation (and the later parts: routing, active learning, audit,
    planning). Example: labelwise demo --out report
    """
    from labelwise.report.demo import run_demo

    def _on(name: str, seconds: float) -> None:
        console.print(f"[green]✓[/] {name} ({seconds:.1f} s)")

    path = run_or_exit(lambda: run_demo(out, random_state=seed, fast=fast, on_section=_on))
    console.print(f"report written to [bold]{path}[/]")
