"""``labelwise plan``: labels and money a target model accuracy needs."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer

from labelwise.cli._app import app
from labelwise.cli._common import (
    check_output_option,
    console,
    positive_option,
    print_frame,
    print_summary,
    progress,
    run_or_exit,
)
from labelwise.errors import InputError, ParameterError

ESTIMATORS = ("logreg", "forest")


def _estimator(name: str, random_state: int) -> Any:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if name == "logreg":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    if name == "forest":
        return RandomForestClassifier(n_estimators=100, n_jobs=1, random_state=random_state)
    raise ParameterError(f"--estimator must be one of {', '.join(ESTIMATORS)}; got {name!r}.")


def _fmt_n(v: float | None) -> str:
    if v is None or not math.isfinite(v):
        return "no bound"
    return f"{v:,.0f}"


@app.command()
def plan(
    features: Annotated[
        Path, typer.Option("--features", help="Features: .npy, .npz, CSV or Parquet (rows=items).")
    ],
    labels: Annotated[
        Path, typer.Option("--labels", help="Labels: .npy or a table column; blanks = unlabeled.")
    ],
    target_accuracy: Annotated[
        float, typer.Option("--target-accuracy", help="Model accuracy wanted, in (0, 1].")
    ],
    cost_per_label: Annotated[
        float,
        typer.Option(
            "--cost-per-label", help="Money per single annotation.", callback=positive_option
        ),
    ],
    annotator_accuracy: Annotated[
        float,
        typer.Option("--annotator-accuracy", help="Mean accuracy of one annotator.", min=0, max=1),
    ] = 0.85,
    target_label_accuracy: Annotated[
        float,
        typer.Option("--target-label-accuracy", help="Label accuracy redundancy should reach."),
    ] = 0.95,
    model: Annotated[
        str,
        typer.Option(
            "--model", help="Curve: auto, power_law, arctan, logarithmic or algebraic_root."
        ),
    ] = "auto",
    estimator: Annotated[
        str, typer.Option("--estimator", help=f"Classifier: {', '.join(ESTIMATORS)}.")
    ] = "logreg",
    seeds: Annotated[int, typer.Option("--seeds", help="Repeats per size.", min=1)] = 3,
    n_sizes: Annotated[
        int, typer.Option("--sizes", help="Points on the learning curve.", min=2)
    ] = 8,
    al_saving: Annotated[
        float,
        typer.Option("--al-saving", help="Share of items active learning needs (0-1]."),
    ] = 0.7,
    noise_penalty: Annotated[
        float,
        typer.Option("--noise-penalty", help="Accuracy points lost per point of label error."),
    ] = 0.25,
    label_col: Annotated[
        str, typer.Option("--label-col", help="Label column of a table file.")
    ] = "label",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write the strategy table here.", callback=check_output_option
        ),
    ] = None,
    random_state: Annotated[int, typer.Option("--random-state", help="Seed.")] = 0,
) -> None:
    """Estimate the labels and money a target accuracy needs, per labeling strategy.

    Fits a learning curve on the labeled rows (nested subsets, repeated), extrapolates
    it, and prices four strategies. Example:
    labelwise plan --features X.npy --labels y.csv --target-accuracy 0.95 --cost-per-label 0.04
    """
    import numpy as np
    import pandas as pd

    from labelwise.io import read_features, read_labels, write_frame
    from labelwise.scaling import CurveFit, learning_curve, plan_budget

    def _run() -> None:
        est = _estimator(estimator, random_state)
        ids, X = read_features(features)
        y = read_labels(labels, column=label_col, n_rows=X.shape[0], ids=ids)
        known = y.notna().to_numpy()
        if known.sum() < 20:
            raise InputError(f"only {int(known.sum())} labeled rows in {str(labels)!r}; need 20+.")
        Xl, yl = X[known], y[known].astype(str).to_numpy()
        n_classes = int(pd.Series(yl).nunique())
        pool = known.sum() * 0.75  # learning_curve holds out a quarter to score on
        low = min(max(5 * n_classes, 0.02 * pool), pool / 4)
        sizes = np.unique(np.geomspace(low / pool, 1.0, n_sizes).round(4))
        with progress("plan") as on_progress:
            curve = learning_curve(
                est, Xl, yl, sizes, seeds=seeds, random_state=random_state, progress=on_progress
            )
        fit = CurveFit(model=model, random_state=random_state).fit(curve)
        budget = plan_budget(
            fit,
            target=target_accuracy,
            cost_per_label=cost_per_label,
            annotator_accuracy=annotator_accuracy,
            n_classes=n_classes,
            target_label_accuracy=target_label_accuracy,
            noise_penalty=noise_penalty,
            al_saving=al_saving,
            random_state=random_state,
        )
        req = budget.requirement
        rng = req.range
        print_summary(
            {
                "labeled items": int(known.sum()),
                "classes": n_classes,
                "curve model": fit.model_,
                f"accuracy now (at {curve.sizes[-1]:,} labels)": float(curve.mean[-1]),
                "curve levels off at": fit.asymptote_,
                f"clean labels for {target_accuracy:g}": (
                    f"{_fmt_n(req.n)} (interval {_fmt_n(req.low)} to {_fmt_n(req.high)})"
                    if req.reachable
                    else "unreachable"
                ),
                "range across curve models": (
                    f"{_fmt_n(rng[0])} to {_fmt_n(rng[1])}" if rng else "unreachable by all"
                ),
                "collect in rounds (re-fit after each)": (
                    " -> ".join(f"{r:,}" for r in req.rounds) if req.rounds else "-"
                ),
                "note": req.reason,
            },
            title="Learning curve and data requirement",
        )
        table = budget.strategies
        print_frame(
            table.drop(columns=["items low", "items high"]),
            title=f"Money per strategy at {cost_per_label:g} per label",
            digits=3,
        )
        console.print(
            f"cheapest strategy reaching {target_accuracy:g}: "
            f"{budget.cheapest or 'none (the target is unreachable with this data)'}",
            highlight=False,
        )
        if output is not None:
            write_frame(table, output)
            console.print(f"wrote {len(table)} rows to {output}")

    run_or_exit(_run)
