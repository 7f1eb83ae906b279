"""``labelwise audit``: label issues, outliers, duplicates and leakage in one pass."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labelwise.cli._app import app
from labelwise.cli._common import console, print_frame, run_or_exit, status
from labelwise.io import read_features, read_labels, write_frame


@app.command()
def audit(
    features: Annotated[
        Path, typer.Option("--features", help="Features: .npy, .npz, CSV or Parquet (rows=items).")
    ],
    labels: Annotated[
        Path | None, typer.Option("--labels", help="Labels: .npy or a table column.")
    ] = None,
    test_features: Annotated[
        Path | None,
        typer.Option("--test-features", help="Test features checked for train/test leakage."),
    ] = None,
    annotations: Annotated[
        Path | None,
        typer.Option("--annotations", help="Crowd answers (item, worker, label) for the items."),
    ] = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="One row per flagged item (CSV/Parquet/JSONL).")
    ] = Path("audit.csv"),
    label_col: Annotated[str, typer.Option("--label-col", help="Label column.")] = "label",
    threshold: Annotated[
        float, typer.Option("--duplicate-threshold", help="Cosine similarity of near duplicates.")
    ] = 0.98,
    folds: Annotated[int, typer.Option("--folds", help="Folds for out-of-fold probabilities.")] = 5,
    random_state: Annotated[int, typer.Option("--random-state", help="Seed.")] = 0,
) -> None:
    """Find wrong labels, outliers, duplicates and leakage; write one row per flagged item.

    Example: labelwise audit --features X.npy --labels y.csv --test-features Xt.npy
    """
    from labelwise.annotations import Annotations
    from labelwise.curate.audit import audit_dataset

    def _run() -> None:
        ids, X = read_features(features)
        y = None if labels is None else read_labels(labels, column=label_col, n_rows=X.shape[0])
        X_test = None if test_features is None else read_features(test_features)[1]
        ann = None if annotations is None else Annotations.read(annotations, duplicates="keep_last")
        with status("auditing"):
            rep = audit_dataset(
                X,
                None if y is None else y.to_numpy(),
                ids=ids,
                X_test=X_test,
                annotations=ann,
                n_splits=folds,
                duplicate_threshold=threshold,
                random_state=random_state,
            )
        print_frame(rep.summary, title=f"Audit of {X.shape[0]:,} items", digits=4)
        if rep.label_issues is not None:
            console.print(
                f"confident joint estimates {rep.label_issues.n_estimated} label errors; "
                f"{rep.label_issues.n_issues} flagged",
                highlight=False,
            )
        write_frame(rep.issues, output)
        console.print(f"wrote {len(rep.issues)} rows to {output}", highlight=False)

    run_or_exit(_run)
