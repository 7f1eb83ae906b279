"""``labelwise select``: the items to label next (pool-based active learning)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labelwise.cli._app import app
from labelwise.cli._common import check_output_option, console, print_frame, run_or_exit, status
from labelwise.errors import ParameterError

ESTIMATORS = ("logreg", "forest")


def _estimator(name: str, random_state: int):  # type: ignore[no-untyped-def]
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if name == "logreg":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    if name == "forest":
        return RandomForestClassifier(n_estimators=100, n_jobs=1, random_state=random_state)
    raise ParameterError(f"--estimator must be one of {', '.join(ESTIMATORS)}; got {name!r}.")


@app.command()
def select(
    features: Annotated[
        Path, typer.Option("--features", help="Features: .npy, .npz, CSV or Parquet (rows=items).")
    ],
    labels: Annotated[
        Path, typer.Option("--labels", help="Labels: .npy or a table column; blanks = unlabeled.")
    ],
    n: Annotated[int, typer.Option("-n", "--n", help="How many items to select.", min=1)] = 100,
    strategy: Annotated[
        str,
        typer.Option(
            "--strategy",
            help="margin, entropy, least_confidence, density, badge, "
            "coreset, vote_entropy, mean_kl, bald, random or target.",
        ),
    ] = "margin",
    batch: Annotated[
        str, typer.Option("--batch", help="Batch mode: topk, diverse, kmeanspp or balanced.")
    ] = "topk",
    seals_k: Annotated[
        int | None,
        typer.Option(
            "--seals-k", help="Score only the k nearest neighbours of labeled items.", min=1
        ),
    ] = None,
    target: Annotated[
        str | None, typer.Option("--target", help="Class sought by --strategy target.")
    ] = None,
    estimator: Annotated[
        str, typer.Option("--estimator", help=f"Classifier: {', '.join(ESTIMATORS)}.")
    ] = "logreg",
    label_col: Annotated[
        str, typer.Option("--label-col", help="Label column of a table file.")
    ] = "label",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write the selected ids here.", callback=check_output_option
        ),
    ] = None,
    random_state: Annotated[int, typer.Option("--random-state", help="Seed.")] = 0,
) -> None:
    """Choose the unlabeled items whose labels should help the model most.

    Fits the classifier on the labeled rows, scores the unlabeled ones (or only the
    SEALS candidates with --seals-k) and prints the ids to label next, best first.
    With fewer than two classes labeled it picks a diverse k-means seed set. Example:
    labelwise select --features X.npy --labels y.csv --strategy margin -n 100 --seals-k 100
    """
    import numpy as np
    import pandas as pd

    from labelwise.active import SEALS, ActiveLearner
    from labelwise.io import read_features, read_labels, write_frame

    def _run() -> None:
        ids, X = read_features(features)
        y = read_labels(labels, column=label_col, n_rows=X.shape[0], ids=ids)
        known = y.notna().to_numpy() & (y.astype(str).str.strip() != "").to_numpy()
        vals = y[known]
        if pd.api.types.is_float_dtype(vals) and (vals == vals.round()).all():
            vals = vals.astype(np.int64)  # blanks made pandas read 3 as 3.0
        text = vals.astype(str).to_numpy()
        names = np.unique(text)
        codes = np.full(len(y), -1, dtype=np.int64)
        codes[known] = np.searchsorted(names, text)
        tgt = None
        if target is not None:
            if target not in names:
                raise ParameterError(
                    f"--target {target!r} is not a labeled class; classes: {', '.join(names)}."
                )
            tgt = int(np.searchsorted(names, target))
        learner = ActiveLearner(
            _estimator(estimator, random_state),
            strategy,
            n,
            batch=batch,
            candidates=None if seals_k is None else SEALS(k=seals_k),
            target=tgt,
            random_state=random_state,
        )
        with status("fitting and scoring"):
            learner.fit(X, codes)
            chosen = learner.query(n)
        table = pd.DataFrame({"rank": np.arange(1, len(chosen) + 1), "id": ids[chosen]})
        if learner.is_trained_:
            proba = learner.estimator_.predict_proba(X[chosen])
            table["predicted"] = names[learner.estimator_.classes_[proba.argmax(axis=1)]]
            table["confidence"] = proba.max(axis=1)
        n_free = len(codes) - len(learner.labeled_)
        pool = (
            f"{n_free:,} unlabeled rows"
            if learner.seals_ is None
            else (f"{len(learner.seals_.candidates_):,} SEALS candidates (k={seals_k})")
        )
        how = "cold start (k-means seeds)" if not learner.is_trained_ else f"{strategy}, {batch}"
        console.print(f"Label next: {len(chosen)} of {pool} ({how})", highlight=False)
        print_frame(table, max_rows=20)
        if output is not None:
            write_frame(table, output)
            console.print(f"wrote {len(table)} ids to {output}")

    run_or_exit(_run)
