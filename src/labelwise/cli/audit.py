"""``labelwise audit``: label issues, outliers, duplicates and leakage in one pass."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labelwise.cli._app import app
from labelwise.cli._common import check_output_option, console, print_frame, progress


@app.command()
def audit(
    features: Annotated[
        Path, typer.Option("--features", help="Features: .npy, .npz, CSV or Parquet (rows=items).")
    ],
    labels: Annotated[
        Path | None,
        typer.Option(
            "--labels",
            help="Labels: .npy (one per feature row) or a table; with an id (or item) column "
            "they are matched to the features by id.",
        ),
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
        Path,
        typer.Option(
            "--output",
            "-o",
            help="One row per flagged item (.csv, .tsv, .jsonl or .parquet).",
            callback=check_output_option,
        ),
    ] = Path("audit.csv"),
    label_col: Annotated[str, typer.Option("--label-col", help="Label column.")] = "label",
    threshold: Annotated[
        float,
        typer.Option(
            "--duplicate-threshold", help="Cosine similarity of near duplicates.", min=0, max=1
        ),
    ] = 0.98,
    folds: Annotated[
        int, typer.Option("--folds", help="Folds for out-of-fold probabilities.", min=2)
    ] = 5,
    random_state: Annotated[int, typer.Option("--random-state", help="Seed.")] = 0,
) -> None:
    """Find wrong labels, outliers, duplicates and leakage; write one row per flagged item.

    Prints the label model's out-of-fold accuracy; when it is no better than always
    answering the most frequent class, says so and flags no label issue.
    Example: labelwise audit --features X.npy --labels y.csv --test-features Xt.npy
    """
    import warnings

    from labelwise.annotations import Annotations
    from labelwise.curate.audit import audit_dataset
    from labelwise.errors import WeakModelWarning
    from labelwise.io import read_features, read_labels, write_frame

    ids, X = read_features(features)
    y = None
    if labels is not None:
        y = read_labels(labels, column=label_col, n_rows=X.shape[0], ids=ids)
    X_test = None if test_features is None else read_features(test_features)[1]
    ann = None if annotations is None else Annotations.read(annotations, duplicates="keep_last")
    with progress("audit") as on_progress, warnings.catch_warnings():
        warnings.simplefilter("ignore", WeakModelWarning)  # said below, in plain words
        rep = audit_dataset(
            X,
            None if y is None else y.to_numpy(),
            ids=ids,
            X_test=X_test,
            annotations=ann,
            n_splits=folds,
            duplicate_threshold=threshold,
            random_state=random_state,
            progress=on_progress,
        )
    print_frame(rep.summary, title=f"Audit of {X.shape[0]:,} items", digits=4)
    check = rep.model_check
    if check is not None and rep.label_issues is not None:
        console.print(
            f"label model: out-of-fold accuracy {check.accuracy:.3f} "
            f"(95% lower bound {check.accuracy_low:.3f}); "
            f"most-frequent-class baseline {check.baseline:.3f}",
            highlight=False,
        )
        count = rep.label_issues.count
        if check.trusted:
            console.print(
                f"confident joint estimates {rep.label_issues.n_estimated} label errors; "
                f"{rep.label_issues.n_issues} flagged",
                highlight=False,
            )
        else:
            console.print(f"[bold yellow]not trustworthy:[/] {check.reason}", highlight=False)
        if count is not None:
            console.print(
                f"label errors: between {count.low} and {count.high} ({count.note})",
                highlight=False,
            )
    write_frame(rep.issues, output)
    console.print(f"wrote {len(rep.issues)} rows to {output}", highlight=False)
