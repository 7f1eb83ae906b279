"""``labelwise weak``: labeling functions over a table into votes, analysis and labels."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labelwise.cli._app import app
from labelwise.cli._common import console, print_frame, print_summary, run_or_exit, status
from labelwise.errors import InputError


@app.command()
def weak(
    functions: Annotated[
        Path, typer.Argument(help="Python file declaring @labeling_function functions.")
    ],
    table: Annotated[Path, typer.Argument(help="Items: CSV, TSV, JSONL or Parquet, one per row.")],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="Folder for votes.csv, functions.csv, labels.csv."),
    ],
    classes: Annotated[
        str | None,
        typer.Option("--classes", help="Comma-separated classes (else CLASSES in the file)."),
    ] = None,
    item_col: Annotated[
        str | None, typer.Option("--item-col", help="Column holding the item id (else row number).")
    ] = None,
    gold_col: Annotated[
        str | None,
        typer.Option("--gold-col", help="Column with known classes: adds accuracy on gold."),
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes.")] = 1,
) -> None:
    """Apply labeling functions to a table: votes, per-function analysis, label model.

    Example: labelwise weak benchmarks/weak_lfs/trec.py train.csv --gold-col label -o weak/
    """

    def _run() -> None:
        # imported here so that `labelwise --help` stays light (no scikit-learn at start-up)
        import numpy as np
        import pandas as pd

        from labelwise._tables import read_table
        from labelwise.io import write_frame
        from labelwise.weak import (
            LabelModel,
            apply_functions,
            function_summary,
            load_classes,
            load_functions,
            majority_vote,
        )

        with status(f"loading {functions}"):
            fns = load_functions(functions)
            declared = (
                [c.strip() for c in classes.split(",")] if classes else load_classes(functions)
            )
            if not declared:
                raise InputError(
                    f"no classes: pass --classes or define CLASSES = [...] in {functions}."
                )
            frame = read_table(table, what="items")
        if gold_col is not None and gold_col not in frame.columns:
            raise InputError(
                f"gold column {gold_col!r} not in {table}; columns: {list(frame.columns)}."
            )
        with status(f"applying {len(fns)} functions to {len(frame):,} items"):
            votes = apply_functions(frame, fns, classes=declared, item_col=item_col, n_jobs=jobs)
        gold = None
        if gold_col is not None:
            gold = frame[gold_col].where(frame[gold_col].notna(), None).to_numpy(dtype=object)
        with status("fitting the label model"):
            model = LabelModel().fit(votes)
        summary = function_summary(votes, gold=gold).merge(
            model.function_frame(), on="function", how="left"
        )
        labels = model.to_frame()
        mv = np.asarray(votes.classes[majority_vote(votes)], dtype=object)
        mv[~model.covered_[: votes.n_items]] = None
        labels["majority_vote"] = mv
        output.mkdir(parents=True, exist_ok=True)
        write_frame(votes.to_frame(), output / "votes.csv")
        write_frame(summary, output / "functions.csv")
        write_frame(labels, output / "labels.csv")
        if len(votes.errors):
            write_frame(votes.errors, output / "errors.csv")
        info: dict[str, object] = {
            "items": votes.n_items,
            "functions": votes.n_functions,
            "covered items": float(model.covered_.mean()) if votes.n_items else 0.0,
            "function failures": len(votes.errors),
        }
        if gold is not None:
            known = pd.notna(pd.Series(gold)).to_numpy() & model.covered_
            if known.any():
                info["covered gold items"] = int(known.sum())
                info["label model accuracy (covered gold)"] = float(
                    (labels["label"].to_numpy()[known] == gold[known]).mean()
                )
                info["majority vote accuracy (covered gold)"] = float(
                    (mv[known] == gold[known]).mean()
                )
        print_summary(info, title="Weak supervision")
        shown = [
            c
            for c in (
                "function",
                "polarity",
                "coverage",
                "overlap",
                "conflict",
                "accuracy",
                "estimated_accuracy",
                "weight",
                "n_errors",
            )
            if c in summary
        ]
        print_frame(summary[shown], title="Labeling functions")
        if len(votes.errors):
            console.print(
                f"{len(votes.errors)} function failure(s) recorded (abstained there); first: "
                f"{votes.errors.iloc[0].to_dict()}; all in {output / 'errors.csv'}",
                highlight=False,
            )
        console.print(f"wrote votes.csv, functions.csv, labels.csv to {output}")

    run_or_exit(_run)
