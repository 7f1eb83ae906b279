"""``labelwise prune``: keep the most useful fraction of a data set."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labelwise.cli._app import app
from labelwise.cli._common import check_output_option, console, print_summary, run_or_exit


@app.command()
def prune(
    features: Annotated[
        Path, typer.Option("--features", help="Embeddings: .npy, .npz, CSV or Parquet.")
    ],
    fraction: Annotated[float, typer.Option("--fraction", help="Share of items to keep, (0, 1].")],
    labels: Annotated[
        Path | None, typer.Option("--labels", help="Labels (class_balanced; k-means k).")
    ] = None,
    strategy: Annotated[
        str, typer.Option("--strategy", help="prototype, random or class_balanced.")
    ] = "prototype",
    keep: Annotated[str, typer.Option("--keep", help="auto, easy or hard (prototype).")] = "auto",
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="Kept rows (id, row, score).", callback=check_output_option
        ),
    ] = Path("kept.csv"),
    label_col: Annotated[str, typer.Option("--label-col", help="Label column.")] = "label",
    random_state: Annotated[int, typer.Option("--random-state", help="Seed.")] = 0,
) -> None:
    """Keep a fraction of the items: prototype metric (Sorscher et al.) or a baseline.

    Example: labelwise prune --features emb.npy --fraction 0.5
    """
    import numpy as np
    import pandas as pd

    from labelwise.curate.pruning import EASY_BELOW, prototype_scores
    from labelwise.curate.pruning import prune as prune_items
    from labelwise.io import read_features, read_labels, write_frame

    def _run() -> None:
        ids, X = read_features(features)
        y = None
        if labels is not None:
            y = read_labels(labels, column=label_col, n_rows=X.shape[0], ids=ids).to_numpy()
        scores = None
        if strategy == "prototype":
            k = len(pd.unique(y)) if y is not None else 10
            scores = prototype_scores(X, n_clusters=int(k), random_state=random_state)
        kept = prune_items(
            X,
            fraction,
            strategy=strategy,  # type: ignore[arg-type]
            labels=y,
            keep=keep,  # type: ignore[arg-type]
            scores=scores,
            random_state=random_state,
        )
        frame = pd.DataFrame({"id": ids[kept], "row": kept})
        if scores is not None:
            frame["distance_to_prototype"] = scores[kept]
        side = keep if keep != "auto" else ("easy" if fraction < EASY_BELOW else "hard")
        info: dict[str, object] = {
            "items": X.shape[0],
            "kept": len(kept),
            "strategy": strategy + (f" (keeps {side} items)" if strategy == "prototype" else ""),
        }
        if y is not None:
            counts = pd.Series(y[kept]).value_counts()
            info["classes kept (min-max per class)"] = f"{counts.min()}-{counts.max()}"
        if scores is not None:
            info["mean distance kept / all"] = float(np.mean(scores[kept]) / np.mean(scores))
        print_summary(info, title="Pruning")
        write_frame(frame, output)
        console.print(f"wrote {len(frame)} rows to {output}", highlight=False)

    run_or_exit(_run)
