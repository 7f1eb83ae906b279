"""``labelwise split``: stratified train/val/test that cuts no group and no near duplicate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labelwise.cli._app import app
from labelwise.cli._common import console, print_frame, print_summary, run_or_exit
from labelwise.errors import InputError, ParameterError


def parse_parts(text: str, kind: type) -> dict[str, float]:
    """``"train=0.8,val=0.1,test=0.1"`` -> ``{"train": 0.8, ...}`` (values of ``kind``)."""
    out: dict[str, float] = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"cannot read {part!r}: write name=value, e.g. train=0.8.")
        try:
            out[name.strip()] = kind(value)
        except ValueError:
            raise ParameterError(f"{value!r} in {part!r} is not a {kind.__name__}.") from None
    return out


@app.command()
def split(
    labels: Annotated[
        Path, typer.Argument(help="Items: CSV, TSV, JSONL or Parquet with an id and a label.")
    ],
    fractions: Annotated[
        str | None,
        typer.Option("--fractions", help="Split sizes, e.g. train=0.8,val=0.1,test=0.1."),
    ] = None,
    counts: Annotated[
        str | None,
        typer.Option(
            "--counts", help="Split sizes as counts, e.g. val=1000,test=1000 (rest train)."
        ),
    ] = None,
    group_col: Annotated[
        str | None, typer.Option("--group-col", help="Column whose groups must not be cut.")
    ] = None,
    features: Annotated[
        Path | None,
        typer.Option(
            "--features",
            help="Embeddings (.npy/.npz/CSV/Parquet, one row per item): near duplicates "
            "found in them stay in one split.",
        ),
    ] = None,
    z: Annotated[
        float, typer.Option("--z", help="Near-duplicate threshold: robust z of the gap.")
    ] = 8.0,
    method: Annotated[
        str, typer.Option("--method", help="hash (stable when items are added) or balanced.")
    ] = "hash",
    seed: Annotated[int, typer.Option("--seed", help="Seed of the hash.")] = 0,
    tolerance: Annotated[
        float, typer.Option("--tolerance", help="Largest allowed gap to a requested fraction.")
    ] = 0.02,
    id_col: Annotated[str, typer.Option("--id-col", help="Item id column.")] = "item",
    label_col: Annotated[str, typer.Option("--label-col", help="Label column.")] = "label",
    previous: Annotated[
        Path | None,
        typer.Option(
            "--previous", help="An earlier split (item, split): those items keep their split."
        ),
    ] = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="item, label, split, group per item.")
    ] = Path("split.csv"),
) -> None:
    """Split items into train/val/test, stratified, keeping groups and near duplicates whole.

    Example: labelwise split items.csv --fractions train=0.8,val=0.1,test=0.1 --features emb.npy
    """
    from labelwise.annotations import read_table
    from labelwise.io import read_features, write_frame
    from labelwise.split import crossing_pairs, split_dataset

    def _run() -> None:
        table = read_table(labels, what="items")
        for col in [id_col, label_col] + ([group_col] if group_col else []):
            if col not in table.columns:
                raise InputError(
                    f"{labels} has no column {col!r} (columns: {list(table.columns)})."
                )
        frac = parse_parts(fractions, float) if fractions else None
        cnt = {k: int(v) for k, v in parse_parts(counts, int).items()} if counts else None
        pairs = None
        info: dict[str, object] = {"items": len(table)}
        if features is not None:
            from labelwise.curate.near_duplicates import near_duplicates

            _ids, X = read_features(features)
            if X.shape[0] != len(table):
                raise InputError(
                    f"{features} has {X.shape[0]} rows but {labels} has {len(table)} items."
                )
            near = near_duplicates(X, z_threshold=z)
            pairs = near.pairs
            info["near-duplicate pairs"] = near.n_pairs
            info["threshold"] = near.calibration.describe()
        prev = None
        if previous is not None:
            old = read_table(previous, what="previous split")
            if not {"item", "split"} <= set(old.columns):
                raise InputError(f"{previous} needs columns item and split.")
            prev = dict(zip(old["item"].astype(str), old["split"], strict=True))
        sp = split_dataset(
            table[id_col].astype(str).to_numpy(),
            table[label_col].to_numpy(),
            fractions=frac,
            counts=cnt,
            groups=table[group_col].to_numpy() if group_col else None,
            pairs=pairs,
            method=method,  # type: ignore[arg-type]
            seed=seed,
            tolerance=tolerance,
            previous=prev,
        )
        info["groups"] = int(sp.group.max()) + 1
        if pairs is not None:
            info["near-duplicate pairs crossing splits"] = crossing_pairs(pairs, sp.split)
        print_summary(info, title=f"Split ({method}, seed {seed})")
        print_frame(sp.summary().reset_index(), title="Items per class and split")
        print_frame(sp.sizes(), title="Split sizes")
        write_frame(sp.frame(), output)
        console.print(f"wrote {len(table)} rows to {output}", highlight=False)

    run_or_exit(_run)
