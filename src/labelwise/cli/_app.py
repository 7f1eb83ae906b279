"""The typer application every command module registers on."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="labelwise",
    help=(
        "labelwise: build labeled datasets at the lowest labeling cost.\n\n"
        "Aggregate noisy crowd answers, score annotators, route tasks, choose what to "
        "label next, audit a dataset and plan a labeling budget. Run 'labelwise demo' "
        "for the whole pipeline on built-in data."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
