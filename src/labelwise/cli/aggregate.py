"""``labelwise aggregate`` and ``labelwise annotators``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from labelwise.cli._app import app
from labelwise.cli._common import (
    check_output_option,
    console,
    print_frame,
    print_summary,
    run_or_exit,
    status,
)

if TYPE_CHECKING:
    import numpy as np

    from labelwise.annotations import Annotations

# the names of labelwise.aggregate.METHODS, spelled out so that --help imports nothing
# heavy (tests/test_cli_errors.py keeps the two in step)
METHOD_NAMES = ("mv", "wmv", "ds", "onecoin", "glad", "mace", "calibrated")

ItemCol = Annotated[str, typer.Option("--item-col", help="Column holding the item id.")]
WorkerCol = Annotated[str, typer.Option("--worker-col", help="Column holding the annotator id.")]
LabelCol = Annotated[str, typer.Option("--label-col", help="Column holding the label.")]
Classes = Annotated[
    str | None,
    typer.Option(
        "--classes", help="Comma-separated declared class list; labels outside it are errors."
    ),
]
Duplicates = Annotated[
    str,
    typer.Option(
        "--duplicates",
        help="When one annotator labeled an item twice: error, keep_last or keep_all.",
    ),
]
Gold = Annotated[
    Path | None, typer.Option("--gold", help="Known answers: a file with columns item, label.")
]


def _load(
    file: Path, item: str, worker: str, label: str, classes: str | None, duplicates: str
) -> Annotations:
    from labelwise.annotations import Annotations

    declared = [c.strip() for c in classes.split(",")] if classes else None
    return Annotations.read(
        file,
        item=item,
        worker=worker,
        label=label,
        classes=declared,
        duplicates=duplicates,  # type: ignore[arg-type]
    )


ENGINES = ("memory", "dask")


def _check_aggregate_output(ctx: typer.Context, value: Path | None) -> Path | None:
    """``-o``: a table file in memory; a folder of Parquet parts with ``--engine dask``."""
    if value is None:
        return None
    if ctx.params.get("engine") == "dask" or ctx.params.get("scheduler"):
        from labelwise.errors import LabelwiseError
        from labelwise.io import check_output_folder

        try:
            return check_output_folder(value)
        except LabelwiseError as exc:
            raise typer.BadParameter(str(exc)) from None
    return check_output_option(value)


@app.command()
def aggregate(
    file: Annotated[
        Path,
        typer.Argument(
            help="Annotations: CSV, TSV, JSONL or Parquet with item, worker, label. With "
            "--engine dask: a Parquet or CSV file, folder or glob pattern."
        ),
    ],
    method: Annotated[
        str, typer.Option("--method", "-m", help=f"Aggregation method: {', '.join(METHOD_NAMES)}.")
    ] = "ds",
    gold: Gold = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write one row per item here (.csv, .tsv, .jsonl or .parquet); with "
            "--engine dask a folder of Parquet parts, written atomically.",
            callback=_check_aggregate_output,
        ),
    ] = None,
    item_col: ItemCol = "item",
    worker_col: WorkerCol = "worker",
    label_col: LabelCol = "label",
    classes: Classes = None,
    duplicates: Duplicates = "error",
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="memory: one process. dask: partitions on a Dask cluster (annotations past "
            "memory; methods mv, wmv, ds, onecoin, mace).",
            is_eager=True,
        ),
    ] = "memory",
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="With --engine dask: address of a running Dask scheduler (tcp://host:8786); "
            "default $LABELWISE_SCHEDULER, else a local cluster started for this run.",
            is_eager=True,
        ),
    ] = None,
    proba: Annotated[
        Path | None,
        typer.Option(
            "--proba",
            help="A model's out-of-fold class probabilities, used as each item's prior in "
            "the EM: a table with an item column and one column per class, or .npy rows "
            "in the annotations' item order (sorted ids) and columns in class order.",
        ),
    ] = None,
) -> None:
    """Turn noisy crowd answers into one label per item.

    Writes item, label, confidence, n_annotations, agreement per item and prints a
    summary. Example: labelwise aggregate annotations.csv --method ds -o labels.csv;
    with a model's predictions as prior: ... --proba oof.csv
    """

    import numpy as np

    from labelwise.aggregate import make_aggregator
    from labelwise.agreement import fleiss_kappa, krippendorff_alpha
    from labelwise.annotations import read_gold
    from labelwise.errors import ParameterError
    from labelwise.io import write_columns

    def _run() -> None:
        model = make_aggregator(method)  # an unknown method fails before any reading
        if engine not in ENGINES:
            raise ParameterError(f"--engine must be one of {', '.join(ENGINES)}; got {engine!r}.")
        if engine == "dask" or scheduler:
            if proba is not None:
                raise ParameterError("--proba is not supported with --engine dask.")
            _aggregate_dask(
                model,
                method,
                str(file),
                gold,
                output,
                scheduler,
                (item_col, worker_col, label_col),
                classes,
                duplicates,
            )
            return
        with status(f"reading {file}"):
            ann = _load(file, item_col, worker_col, label_col, classes, duplicates)
            gold_df = read_gold(gold) if gold is not None else None
            prior = read_item_proba(proba, ann) if proba is not None else None
        with status(f"fitting {type(model).__name__} on {ann.n_annotations:,} annotations"):
            model.fit(ann, gold=gold_df, prior=prior)
        columns = model.to_columns()
        if output is not None:
            write_columns(columns, output)
        summary = {
            "items": ann.n_items,
            "annotators": ann.n_workers,
            "annotations": ann.n_annotations,
            "classes": ann.n_classes,
            "method": method + (" with model prior" if prior is not None else ""),
            "iterations": getattr(model, "n_iter_", 1),
            "mean agreement": float(np.nanmean(model.agreement_)),
            "mean confidence": float(np.mean(columns["confidence"])),
            "Fleiss' kappa": fleiss_kappa(ann),
            "Krippendorff's alpha": krippendorff_alpha(ann),
        }
        if gold_df is not None:
            summary["gold items"] = int((ann.encode_gold(gold_df) >= 0).sum())
        if "tied" in columns:
            summary["tied items"] = int(columns["tied"].sum())
        print_summary(summary, title="Aggregation")
        if gold_df is not None:
            _print_calibration(model, ann, ann.encode_gold(gold_df))
        if output is not None:
            console.print(f"wrote {len(columns['item'])} rows to {output}")
        else:
            print_frame(columns, title="Consensus (first rows)", max_rows=10)

    run_or_exit(_run)


def _aggregate_dask(
    model: Any,
    method: str,
    path: str,
    gold: Path | None,
    output: Path | None,
    scheduler: str | None,
    columns: tuple[str, str, str],
    classes: str | None,
    duplicates: str,
) -> None:
    """``aggregate --engine dask``: read, fit and write on a Dask cluster, never collected."""
    from labelwise.annotations import read_gold
    from labelwise.cli._common import err_console, progress
    from labelwise.distributed import SUPPORTED, DaskAnnotations, connect
    from labelwise.distributed._cluster import n_workers
    from labelwise.errors import ParameterError

    if type(model).__name__ not in SUPPORTED:  # refused before a cluster starts
        names = {"MajorityVote": "mv", "WeightedMajorityVote": "wmv", "DawidSkene": "ds"}
        names |= {"OneCoinDawidSkene": "onecoin", "MACE": "mace"}
        raise ParameterError(
            f"--method {method} does not run on --engine dask; use one of "
            f"{', '.join(names[n] for n in SUPPORTED)}."
        )
    gold_df = read_gold(gold) if gold is not None else None
    declared = [c.strip() for c in classes.split(",")] if classes else None
    with status("starting the Dask cluster"), connect(scheduler) as client:
        err_console.print(
            f"Dask scheduler {client.scheduler.address}, dashboard {client.dashboard_link}"
        )
        with progress("aggregate") as callback:
            data = DaskAnnotations.read(
                path,
                client=client,
                item=columns[0],
                worker=columns[1],
                label=columns[2],
                classes=declared,
                duplicates=duplicates,  # type: ignore[arg-type]
                progress=callback,
            )
            model.fit(data, gold=gold_df)
            if output is not None:
                model.result_.to_parquet(output, progress=callback)
            else:
                head = client.gather(model.result_.frames()[0])
        summary = {
            "items": data.n_items,
            "annotators": data.n_workers,
            "annotations": data.n_annotations,
            "classes": data.n_classes,
            "method": method,
            "iterations": getattr(model, "n_iter_", 1),
            "engine": f"dask, {data.npartitions} partitions on {n_workers(client)} workers",
        }
        print_summary(summary, title="Aggregation")
        if output is not None:
            console.print(
                f"wrote {data.n_items} rows in {data.npartitions} Parquet parts to {output}"
            )
        else:
            print_frame(head, title="Consensus (first rows of the first partition)", max_rows=10)


def _print_calibration(model: object, ann: Annotations, gold: np.ndarray) -> None:
    """Calibration on gold the model did not see (2-fold cross-fit over the gold)."""
    from labelwise.calibration import gold_calibration

    if int((gold >= 0).sum()) < 10:
        console.print("calibration: fewer than 10 gold items, not measured")
        return
    with status("measuring calibration on held-out gold (2 folds)"):
        report = gold_calibration(model, ann, gold, random_state=0, noise_floor=True)
    print_summary(report.summary(), title="Calibration on held-out gold")
    print_frame(report.table.to_frame(), title="Reliability (claimed vs real, by confidence bin)")


def read_item_proba(path: Path, ann: Annotations) -> np.ndarray:
    """Read per-item class probabilities aligned with ``ann`` (items and classes).

    A table needs an ``item`` column and one column per class name (extra columns are
    errors, missing items too); a ``.npy`` array is taken in ``ann.item_ids`` order.
    """
    import numpy as np

    from labelwise.annotations import read_table
    from labelwise.errors import InputError

    if not path.exists():
        raise InputError(f"--proba file {str(path)!r} does not exist.")
    if path.suffix.lower() == ".npy":
        arr = np.load(path, allow_pickle=False)
        if arr.shape != (ann.n_items, ann.n_classes):
            raise InputError(
                f"--proba {str(path)!r} has shape {arr.shape}; the annotations have "
                f"{ann.n_items} items and {ann.n_classes} classes."
            )
        return np.asarray(arr, dtype=np.float64)
    frame = read_table(path, what="probabilities")
    if "item" not in frame.columns:
        raise InputError(
            f"--proba {str(path)!r} has no 'item' column; found {list(frame.columns)}."
        )
    names = [str(c) for c in ann.classes]
    cols = {str(c): c for c in frame.columns if c != "item"}
    missing = [c for c in names if c not in cols]
    extra = [c for c in cols if c not in names]
    if missing or extra:
        raise InputError(
            f"--proba {str(path)!r}: columns must be the classes {names}; missing {missing}, "
            f"unknown {extra}."
        )
    frame = frame.assign(item=frame["item"].astype(str)).set_index("item")
    ids = [str(i) for i in ann.item_ids]
    absent = [i for i in ids if i not in frame.index]
    if absent:
        raise InputError(
            f"--proba {str(path)!r} has no row for item(s) {absent[:5]} ({len(absent)} missing)."
        )
    return frame.loc[ids, [cols[c] for c in names]].to_numpy(dtype=np.float64)


@app.command()
def annotators(
    file: Annotated[
        Path,
        typer.Argument(help="Annotations: CSV, TSV, JSONL or Parquet with item, worker, label."),
    ],
    gold: Gold = None,
    method: Annotated[
        str, typer.Option("--method", "-m", help="Consensus the agreement is measured against.")
    ] = "ds",
    min_items: Annotated[
        int, typer.Option("--min-items", help="Fewer items than this: no confident score.")
    ] = 10,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Also write the table here (.csv, .tsv, .jsonl or .parquet).",
            callback=check_output_option,
        ),
    ] = None,
    item_col: ItemCol = "item",
    worker_col: WorkerCol = "worker",
    label_col: LabelCol = "label",
    classes: Classes = None,
    duplicates: Duplicates = "error",
    contribution: Annotated[
        bool,
        typer.Option(
            "--contribution",
            help="Add what each annotator's answers are worth (one-coin model; exact "
            "leave-one-out up to 300 annotators).",
        ),
    ] = False,
) -> None:
    """Score every annotator, worst first: agreement with the consensus and accuracy on gold.

    Annotators with fewer than --min-items items get no confident score; the note
    column says so. Example: labelwise annotators annotations.csv --gold gold.csv -o quality.csv
    """

    from labelwise.aggregate import make_aggregator
    from labelwise.agreement import annotator_quality
    from labelwise.annotations import read_gold
    from labelwise.io import write_frame

    def _run() -> None:
        model = make_aggregator(method)
        with status(f"reading {file}"):
            ann = _load(file, item_col, worker_col, label_col, classes, duplicates)
            gold_df = read_gold(gold) if gold is not None else None
        with status(f"fitting {type(model).__name__} on {ann.n_annotations:,} annotations"):
            model.fit(ann, gold=gold_df)
        quality = annotator_quality(ann, model.label_codes_, gold=gold_df, min_items=min_items)
        quality = quality.merge(
            model.skill_frame().rename(columns={"skill": f"{method} skill"}), on="worker"
        )
        if contribution:
            quality = _add_contributions(quality, ann, gold_df)
        if output is not None:
            write_frame(quality, output)
        hidden = ["agreement_low", "agreement_high"]
        if contribution:
            hidden += ["agreement", "quality", "reliable", "note", "contribution_per_answer"]
        print_frame(
            quality.drop(columns=hidden, errors="ignore"),
            title="Annotator quality, worst first",
        )
        n_unrel = int((~quality["scored"]).sum())
        if n_unrel:
            console.print(
                f"{n_unrel} annotator(s) with fewer than {min_items} items have no confident score."
            )
        if output is not None:
            console.print(f"wrote {len(quality)} rows to {output}")

    run_or_exit(_run)


def _add_contributions(quality: Any, ann: Annotations, gold: Any) -> Any:
    """``annotators --contribution``: join the contribution columns (one-coin model,
    see :mod:`labelwise.contrib`), least informative first."""
    from labelwise.contrib import annotator_contributions

    with status(f"contributions of {ann.n_workers:,} annotators"):
        contrib = annotator_contributions(ann, gold=gold)
    cols = [c for c in contrib.columns if c not in ("n_answers", "skill")]
    out = quality.merge(contrib[cols], on="worker", how="left")
    return out.sort_values("information", kind="stable").reset_index(drop=True)
