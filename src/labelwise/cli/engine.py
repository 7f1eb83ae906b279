"""``labelwise engine run|resume``: from an unlabeled pool to a trained model, cheaply."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from labelwise._lazy import lazy_module
from labelwise.cli._app import app
from labelwise.cli._common import console, print_summary, run_or_exit
from labelwise.errors import InputError, ParameterError

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")  # --help need not load numpy

engine_app = typer.Typer(
    help="The data engine: select, route, aggregate with the model, retrain, audit, decide.",
    no_args_is_help=True,
)
app.add_typer(engine_app, name="engine")

ORACLES = ("labels", "crowd", "replay")


def _estimator(name: str) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if name == "logreg":
        return make_pipeline(StandardScaler(), LogisticRegression(C=0.3, max_iter=1000))
    if name == "logreg-raw":  # for normalised embeddings
        return LogisticRegression(C=10.0, max_iter=1000)
    raise ParameterError(f"--estimator must be logreg or logreg-raw; got {name!r}.")


def _inputs(cfg: dict[str, Any]) -> tuple[Any, ...]:
    """Rebuild pool, held-out set and oracle from the saved inputs (run and resume):
    ``(X_pool, oracle, X_test, y_test, classes, pool rows, pool ids)``."""
    from labelwise.io import read_features

    ids, X = read_features(cfg["features"])
    parts = _pool_inputs(cfg, ids, X)
    return (*parts, np.asarray(ids, dtype=object)[parts[5]])


def _pool_inputs(cfg: dict[str, Any], ids: Any, X: Any) -> tuple[Any, ...]:
    from labelwise.io import read_labels

    raw = read_labels(cfg["labels"], n_rows=X.shape[0])
    if cfg["oracle"] == "replay":
        return _replay_inputs(cfg, ids, X, raw)
    from labelwise.datasets import load_crowd
    from labelwise.engine import LabelArrayOracle, SimulatedCrowdOracle
    from labelwise.engine.crowds import crowd_pool

    if raw.isna().any():
        row = int(np.flatnonzero(raw.isna().to_numpy())[0])
        raise InputError(f"--labels {cfg['labels']!r} has no label at row {row}.")
    classes, y = np.unique(raw.astype(str).to_numpy(), return_inverse=True)
    rng = np.random.default_rng(cfg["seed"])
    order = rng.permutation(X.shape[0])
    n_test = max(1, round(cfg["test_size"] * X.shape[0]))
    test, pool = order[:n_test], np.sort(order[n_test:])
    k = len(classes)
    if cfg["oracle"] == "labels":
        oracle: Any = LabelArrayOracle(y[pool], cost=cfg["cost_per_answer"], n_classes=k)
    else:
        crowd = load_crowd(cfg["crowd"])
        annot_pool = crowd_pool(
            crowd.annotations, k, cfg["annotators"], truth=crowd.truth,
            cost=cfg["cost_per_answer"], random_state=cfg["seed"],
        )  # fmt: skip
        oracle = SimulatedCrowdOracle(y[pool], annot_pool)
    return X[pool], oracle, X[test], y[test], classes, pool


def _replay_inputs(cfg: dict[str, Any], ids: Any, X: Any, raw: Any) -> tuple[Any, ...]:
    """Pool = feature rows with recorded answers; held out = a share of the rows with a
    (gold) label in --labels, whose answers are never used."""
    from labelwise.annotations import Annotations
    from labelwise.engine import ReplayedCrowdOracle

    if not cfg.get("annotations"):
        raise ParameterError("--oracle replay needs --annotations FILE (the recorded answers).")
    ann = Annotations.read(cfg["annotations"])
    classes = np.asarray([str(c) for c in ann.classes], dtype=object)
    row_of = {str(v): r for r, v in enumerate(ids)}
    ann_rows = np.asarray([row_of.get(str(v), -1) for v in ann.item_ids])
    if (ann_rows < 0).any():
        bad = ann.item_ids[np.flatnonzero(ann_rows < 0)[:5]].tolist()
        raise InputError(
            f"--annotations items {bad} have no row in --features (ids from its id/item column)."
        )
    gold = np.flatnonzero(~raw.isna().to_numpy())
    unknown = ~np.isin(raw.iloc[gold].astype(str).to_numpy(), classes)
    if unknown.any():
        raise InputError(
            f"--labels row {int(gold[unknown][0])} has label {raw.iloc[gold[unknown][0]]!r}, "
            f"not one of the answers' classes {classes.tolist()}."
        )
    rng = np.random.default_rng(cfg["seed"])
    n_test = max(1, round(cfg["test_size"] * gold.size))
    test = np.sort(rng.permutation(gold)[:n_test])
    pool = np.setdiff1d(np.unique(ann_rows), test)
    code_of_row = np.full(X.shape[0], -1)
    code_of_row[pool] = np.arange(pool.size)
    item_code = code_of_row[ann_rows[ann.item]]
    keep = item_code >= 0
    sub = Annotations.from_codes(
        item_code[keep], ann.worker[keep], ann.label[keep],
        n_items=pool.size, n_workers=ann.n_workers, n_classes=ann.n_classes,
    )  # fmt: skip
    oracle = ReplayedCrowdOracle(sub, cost=cfg["cost_per_answer"], random_state=cfg["seed"])
    y_test = np.searchsorted(classes.astype(str), raw.iloc[test].astype(str).to_numpy())
    return X[pool], oracle, X[test], y_test.astype(np.int64), classes, pool


def _progress(row: dict[str, Any]) -> None:
    fc = row.get("forecast_money", math.nan)
    lo, hi = row.get("forecast_low", math.nan), row.get("forecast_high", math.nan)
    forecast = (
        f"forecast {'-' if not math.isfinite(fc) else f'{fc:,.2f}'} "
        f"[{lo:,.2f}, {'inf' if not math.isfinite(hi) else f'{hi:,.2f}'}]"
        if math.isfinite(lo)
        else "forecast -"
    )
    ba = row.get("budget_accuracy", math.nan)
    if isinstance(ba, float) and math.isfinite(ba):
        forecast += (
            f"  at full budget {ba:.3f} "
            f"[{row['budget_accuracy_low']:.3f}, {row['budget_accuracy_high']:.3f}]"
        )
    acc = row["accuracy"]
    console.print(
        f"round {row['round']:>3}  spent {row['money']:>9,.2f}  answers {row['answers']:>6}  "
        f"items {row['items']:>6}  audited {row['audited']:>3}  "
        f"accuracy {'-' if math.isnan(acc) else f'{acc:.3f}'}  {forecast}  {row['decision']}",
        highlight=False,
    )


def _finish(result: Any, out: Path, classes: Any, pool: Any) -> None:
    labels = result.labels.copy()
    if len(labels):  # pool rows -> rows of the features file, codes -> class names
        labels["row"] = pool[labels["item"].to_numpy(dtype=np.int64)]
        labels["label"] = classes[labels["label"].to_numpy(dtype=np.int64)]
        labels = labels[["row", "label", "confidence", "answers"]]
        from labelwise.io import write_frame

        write_frame(labels, out / "labels.csv")
    ledger = result.ledger
    print_summary(
        {
            "oracle": result.oracle,
            "stop": result.stop_reason,
            "money spent": ledger.spent,
            "answers bought": len(ledger),
            "items labeled": ledger.n_items,
            "answers per item": len(ledger) / max(ledger.n_items, 1),
            "held-out accuracy": result.accuracy,
        },
        title="Data engine",
    )
    if result.message:
        console.print(result.message, highlight=False)
    console.print(
        f"wrote {out}/ledger.csv, labels.csv, history.csv, model.pkl "
        f"(resume with: labelwise engine resume {out})",
        highlight=False,
    )
    if result.version is not None:
        root, name = result.version.parent, result.version.name
        rounds = sorted(p.name for p in root.glob("round-*") if p.is_dir())
        console.print(f"dataset version {name}: {result.version}", highlight=False)
        if len(rounds) > 1:
            console.print(
                f"what the last round changed: labelwise version diff {rounds[-2]} {name} "
                f"--root {root}",
                highlight=False,
            )


def _engine_config(cfg: dict[str, Any]) -> Any:
    from labelwise.engine import EngineConfig

    return EngineConfig(**cfg["engine"])


@engine_app.command("run")
def run(
    features: Annotated[
        Path, typer.Option("--features", help="Pool features: .npy, .npz, CSV or Parquet.")
    ],
    labels: Annotated[
        Path,
        typer.Option(
            "--labels",
            help="True labels of every row: the oracle answers from them (labels: "
            "perfectly, crowd: through simulated annotators) and a held-out share "
            "measures the model. With replay: gold labels (blanks allowed), used only "
            "for the held-out share.",
        ),
    ],
    budget: Annotated[float, typer.Option("--budget", help="Money that may be spent.")],
    cost_per_answer: Annotated[
        float, typer.Option("--cost-per-answer", help="Price of one answer.")
    ],
    target_accuracy: Annotated[
        float, typer.Option("--target-accuracy", help="Held-out model accuracy to reach.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder (state, ledger, model).")],
    oracle: Annotated[
        str,
        typer.Option(
            "--oracle",
            help="labels (perfect annotators), crowd (simulated, fitted from --crowd) or "
            "replay (the real answers in --annotations; the one to trust).",
        ),
    ] = "crowd",
    annotations: Annotated[
        Path | None,
        typer.Option(
            "--annotations",
            help="Recorded answers (item, worker, label) for --oracle replay; items are "
            "matched to the id/item column of --features.",
        ),
    ] = None,
    crowd: Annotated[
        str, typer.Option("--crowd", help="Real crowd the simulated pool is fitted from.")
    ] = "labelme",
    annotators: Annotated[int, typer.Option("--annotators", help="Simulated pool size.")] = 50,
    batch_size: Annotated[int, typer.Option("--batch-size", help="New items per round.")] = 50,
    strategy: Annotated[str, typer.Option("--strategy", help="Active-learning strategy.")] = (
        "margin"
    ),
    aggregator: Annotated[str, typer.Option("--aggregator", help="EM aggregator.")] = "ds",
    routing: Annotated[
        str,
        typer.Option(
            "--routing",
            help="disagreement (one answer, more where model and crowd disagree), "
            "dynamic (answers until confident) or fixed.",
        ),
    ] = "disagreement",
    estimator: Annotated[
        str, typer.Option("--estimator", help="logreg (scaled) or logreg-raw (embeddings).")
    ] = "logreg",
    test_size: Annotated[float, typer.Option("--test-size", help="Held-out share.")] = 0.2,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
) -> None:
    """Buy labels round by round until the target accuracy, or until the budget is
    shown unable to reach it. Prints money spent, labels, held-out accuracy and the
    forecast per round; writes the ledger, the labels and the model to --out.

    Example: labelwise engine run --features X.npy --labels y.npy --budget 500
    --cost-per-answer 0.04 --target-accuracy 0.92 --out run1
    """

    def _run() -> None:
        from labelwise.engine import DataEngine, EngineConfig

        if oracle not in ORACLES:
            raise ParameterError(f"--oracle must be one of {', '.join(ORACLES)}; got {oracle!r}.")
        if not 0 < test_size < 1:
            raise ParameterError(f"--test-size must be in (0, 1); got {test_size}.")
        if cost_per_answer <= 0:
            raise ParameterError(f"--cost-per-answer must be > 0; got {cost_per_answer}.")
        est = _estimator(estimator)
        ecfg = EngineConfig(
            budget=budget, target_accuracy=target_accuracy, batch_size=batch_size,
            strategy=strategy, aggregator=aggregator, routing=routing, random_state=seed,
        )  # fmt: skip
        ecfg.check()
        cfg = {
            "features": str(features.resolve()), "labels": str(labels.resolve()),
            "oracle": oracle, "crowd": crowd, "annotators": annotators,
            "annotations": None if annotations is None else str(annotations.resolve()),
            "cost_per_answer": cost_per_answer, "test_size": test_size, "seed": seed,
            "estimator": estimator,
        }  # fmt: skip
        Xp, orc, Xt, yt, classes, pool, pool_ids = _inputs(cfg)
        console.print(
            f"pool {Xp.shape[0]} items, held out {Xt.shape[0]}, {len(classes)} classes, "
            f"oracle: {orc.kind}, budget {budget:,.2f}, target {target_accuracy}",
            highlight=False,
        )
        res = DataEngine(est, ecfg).run(
            Xp, orc, X_test=Xt, y_test=yt, directory=out, extra_config={"cli": cfg},
            on_round=_progress, item_ids=pool_ids, class_names=classes,
        )  # fmt: skip
        _finish(res, out, classes, pool)

    run_or_exit(_run)


@engine_app.command("resume")
def resume(
    directory: Annotated[Path, typer.Argument(help="The run folder of `labelwise engine run`.")],
) -> None:
    """Continue a run from its last complete round (after a kill or a crash): nothing
    bought twice, nothing lost."""

    def _run() -> None:
        from labelwise.engine import DataEngine

        path = directory / "config.json"
        if not path.exists():
            raise InputError(f"{str(directory)!r} is not an engine run folder (no config.json).")
        saved = json.loads(path.read_text())
        if "cli" not in saved:
            raise InputError(
                f"{str(directory)!r} was started from Python, not the CLI; resume it with "
                "DataEngine.resume(directory, X, oracle, ...)."
            )
        cfg = saved["cli"]
        Xp, orc, Xt, yt, classes, pool, _ids = _inputs(cfg)
        res = DataEngine(_estimator(cfg["estimator"]), _engine_config(saved)).resume(
            directory, Xp, orc, X_test=Xt, y_test=yt, on_round=_progress
        )
        _finish(res, directory, classes, pool)

    run_or_exit(_run)
