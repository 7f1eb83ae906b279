"""``labelwise plan``: labels and money a target model accuracy needs."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from labelwise.cli._app import app
from labelwise.cli._common import (
    check_output_option,
    console,
    err_console,
    positive_option,
    print_frame,
    print_summary,
    progress,
    run_or_exit,
)
from labelwise.errors import InputError, ParameterError

if TYPE_CHECKING:
    import pandas as pd


def _fmt_n(v: float | None) -> str:
    if v is None or not math.isfinite(v):
        return "no bound"
    return f"{math.ceil(v - 1e-9):,}"


def _money(v: float) -> str:
    return "no bound" if not math.isfinite(v) else f"{v:,.2f}"


def _display(table: pd.DataFrame) -> pd.DataFrame:
    """The strategy table as text: whole item counts, "no bound" or "-" instead of NaN."""
    import pandas as pd

    rows = []
    for _, r in table.iterrows():
        priced = r["verdict"] in ("reachable", "already reached")
        rows.append(
            {
                "strategy": r["strategy"],
                "answers/item": f"{r['answers per item']:.2f}",
                "label acc.": f"{r['label accuracy']:.3f}",
                "verdict": r["verdict"],
                "items needed": _fmt_n(r["items needed"]) if priced else "-",
                "to label": _fmt_n(r["items to label"]) if priced else "-",
                "money": _money(r["money"]) if priced else "-",
                "money interval": (
                    f"{_money(r['money low'])} to {_money(r['money high'])}"
                    if math.isfinite(r["money low"])
                    else "-"
                ),
            }
        )
    return pd.DataFrame(rows)


def _user_estimator(name: str, params: list[str], path: Path | None, seed: int) -> Any:
    """The model the plan is for: a pickled estimator, or a named one with parameters."""
    from labelwise.scaling.estimators import (
        PickleWarning,
        load_estimator,
        make_estimator,
        parse_params,
    )

    if path is not None:
        if params:
            raise ParameterError("--param applies to a named --estimator, not --estimator-file.")
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always", PickleWarning)
            est = load_estimator(path)
        for w in seen:
            err_console.print(f"[bold yellow]warning:[/] {w.message}", highlight=False)
        return est
    return make_estimator(name, parse_params(params), random_state=seed)


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
            "--model",
            help="Curve: stack (families weighed by backtests on your curve), auto, "
            "power_law, arctan, logarithmic or algebraic_root.",
        ),
    ] = "stack",
    estimator: Annotated[
        str,
        typer.Option(
            "--estimator",
            metavar="NAME",
            help="The model you will train: logreg, forest, knn or linear_svm "
            "(logreg scales features first unless --param scale=false).",
        ),
    ] = "logreg",
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            metavar="KEY=VALUE",
            help="A parameter of the --estimator, KEY=VALUE; repeat (e.g. --param C=10).",
        ),
    ] = None,
    estimator_file: Annotated[
        Path | None,
        typer.Option(
            "--estimator-file",
            metavar="PATH",
            help="A pickled scikit-learn estimator (your own model). Pickles run code "
            "when loaded: give only files you trust.",
        ),
    ] = None,
    seeds: Annotated[
        int,
        typer.Option("--seeds", help="Repeats per size, each scored on another quarter.", min=1),
    ] = 4,
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

    Fits a learning curve of your model (--estimator with --param, or --estimator-file)
    on the labeled rows (nested subsets, repeated, each repeat scored on another held-out
    quarter), extrapolates it, and prices four strategies. Example:
    labelwise plan --features X.npy --labels y.csv --target-accuracy 0.95 --cost-per-label 0.04
    """
    import numpy as np
    import pandas as pd

    from labelwise.io import read_features, read_labels, write_frame
    from labelwise.scaling import CurveFit, learning_curve, plan_budget
    from labelwise.scaling.stack import StackedCurveFit

    def _run() -> None:
        est = _user_estimator(estimator, list(param or []), estimator_file, random_state)
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
                est,
                Xl,
                yl,
                sizes,
                seeds=seeds,
                rotate_test=True,
                random_state=random_state,
                progress=on_progress,
            )
        fit = (
            StackedCurveFit(random_state=random_state)
            if model == "stack"
            else CurveFit(model=model, random_state=random_state)
        ).fit(curve)
        budget = plan_budget(
            fit,
            target=target_accuracy,
            cost_per_label=cost_per_label,
            annotator_accuracy=annotator_accuracy,
            n_classes=n_classes,
            target_label_accuracy=target_label_accuracy,
            noise_penalty=noise_penalty,
            al_saving=al_saving,
            labels_in_hand=int(known.sum()),
            random_state=random_state,
        )
        req = budget.requirement
        rng = req.range
        verdicts = {
            "reached": f"already reached ({_fmt_n(req.n)} labels score it)",
            "reachable": f"{_fmt_n(req.n)} (interval {_fmt_n(req.low)} to {_fmt_n(req.high)})",
            "uncertain": f"uncertain: interval {_fmt_n(req.low)} to {_fmt_n(req.high)}, no "
            f"point estimate (the point fit levels off at {fit.asymptote_:.4f})",
            "unreachable": "unreachable, interval included (see the note)",
        }
        print_summary(
            {
                "plan for model": curve.model,
                "labeled items": int(known.sum()),
                "classes": n_classes,
                "curve model": fit.model_,
                f"accuracy now (at {curve.sizes[-1]:,} labels)": float(curve.mean[-1]),
                "curve shape": (
                    "rises with data" if fit.monotone_ else f"NOT monotone. {fit.dip_note()}"
                ),
                "curve levels off at": fit.asymptote_,
                f"clean labels for {target_accuracy:g}": verdicts[req.verdict],
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
            _display(table),
            title=f"Money per strategy at {cost_per_label:g} per label, for {curve.model}",
        )
        if budget.cheapest is not None:
            cheapest = budget.cheapest
        elif (table["verdict"] == "uncertain").any():
            cheapest = "none shown yet (label the next round and re-plan)"
        else:
            cheapest = "none (the target is unreachable with this data)"
        console.print(
            f"cheapest strategy reaching {target_accuracy:g}: {cheapest}", highlight=False
        )
        if output is not None:
            write_frame(table, output)
            console.print(f"wrote {len(table)} rows to {output}")

    run_or_exit(_run)
