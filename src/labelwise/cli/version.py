"""``labelwise version create|list|show|diff|export``: immutable dataset versions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from labelwise.cli._app import app
from labelwise.cli._common import console, print_frame, print_summary, run_or_exit
from labelwise.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

version_app = typer.Typer(
    help="Immutable dataset versions with provenance: create, list, show, diff, export.",
    no_args_is_help=True,
)
app.add_typer(version_app, name="version")

Root = Annotated[Path, typer.Option("--root", help="Folder holding the versions.")]


def _table(path: Path | None, what: str) -> pd.DataFrame | None:
    from labelwise.annotations import read_table

    return None if path is None else read_table(path, what=what)


@version_app.command("create")
def create(
    items: Annotated[
        Path | None,
        typer.Option("--items", help="item, label [, confidence, split] per item."),
    ] = None,
    annotations: Annotated[
        Path | None,
        typer.Option("--annotations", help="item, worker, label: the answers behind the labels."),
    ] = None,
    method: Annotated[
        str | None,
        typer.Option(
            "--method", help="Aggregate --annotations with this method (mv, ds, ...) for labels."
        ),
    ] = None,
    params: Annotated[str, typer.Option("--params", help="Aggregation parameters as JSON.")] = "{}",
    split_file: Annotated[
        Path | None, typer.Option("--split", help="item, split (from labelwise split).")
    ] = None,
    decisions: Annotated[
        Path | None,
        typer.Option("--decisions", help="item, action, reason: curation decisions."),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Version name (default vN).")] = None,
    message: Annotated[str, typer.Option("--message", "-m", help="What this version is.")] = "",
    root: Root = Path("versions"),
) -> None:
    """Write a new immutable version (Parquet + manifest of hashes), atomically.

    Example: labelwise version create --annotations ann.csv --method ds --split split.csv -m "r3"
    """
    from labelwise.versions import create_version

    def _run() -> None:
        ann = _table(annotations, "annotations")
        try:
            agg_params = json.loads(params)
        except json.JSONDecodeError as exc:
            raise InputError(f"--params is not JSON: {exc}") from None
        if items is not None:
            table = _table(items, "items")
            assert table is not None
        elif ann is not None and method is not None:
            from labelwise.aggregate import make_aggregator
            from labelwise.annotations import Annotations

            a = Annotations.from_frame(ann)
            model = make_aggregator(method, **agg_params).fit(a)
            table = model.to_frame()[["item", "label", "confidence"]]
        else:
            raise InputError("give --items, or --annotations with --method to aggregate them.")
        if split_file is not None:
            sp = _table(split_file, "split")
            assert sp is not None
            if "split" not in sp.columns or "item" not in sp.columns:
                raise InputError(f"{split_file} needs columns item and split.")
            m = dict(zip(sp["item"].astype(str), sp["split"], strict=True))
            table = table.assign(split=table["item"].astype(str).map(m))
        v = create_version(
            root,
            table,
            annotations=ann,
            aggregation={"method": method, "params": agg_params} if method else None,
            decisions=_table(decisions, "decisions"),
            name=name,
            message=message,
        )
        console.print(
            f"created version {v.name} ({v.n_items} items) in {v.path}; manifest sha256 "
            f"{v.manifest_sha256[:16]}",
            highlight=False,
        )

    run_or_exit(_run)


@version_app.command("list")
def list_(root: Root = Path("versions")) -> None:
    """List the versions, oldest first.

    Example: labelwise version list --root versions
    """
    from labelwise.versions import list_versions

    run_or_exit(lambda: print_frame(list_versions(root), title=f"Versions in {root}"))


@version_app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Version name.")], root: Root = Path("versions")
) -> None:
    """Verify a version against its manifest and show its provenance and counts.

    Example: labelwise version show v2 --root versions
    """
    from labelwise.versions import load_version

    def _run() -> None:
        v = load_version(root, name)
        m = v.manifest
        print_summary(
            {
                "name": v.name,
                "created": m["created"],
                "parent": m.get("parent") or "-",
                "message": m.get("message") or "-",
                "aggregation": json.dumps(m.get("aggregation") or {}),
                "items kept / removed": f"{m['counts']['kept']} / {m['counts']['removed']}",
                "splits": json.dumps(m["counts"]["splits"]),
                "manifest sha256": v.manifest_sha256,
                "verified": "every file matches its manifest hash",
            },
            title=f"Version {v.name}",
        )
        counts = v.kept().groupby(["label", v.kept()["split"].fillna("(none)")]).size()
        print_frame(counts.unstack(fill_value=0).reset_index(), title="Items per class and split")
        decided = v.items[v.items["action"] != ""]
        if len(decided):
            print_frame(decided[["item", "label", "status", "action", "reason"]], title="Decisions")

    run_or_exit(_run)


@version_app.command("diff")
def diff(
    a: Annotated[str, typer.Argument(help="Older version.")],
    b: Annotated[str, typer.Argument(help="Newer version.")],
    root: Root = Path("versions"),
) -> None:
    """Items added, removed, relabeled and moved from A to B, with reasons; per class.

    Example: labelwise version diff v1 v2 --root versions
    """
    from labelwise.versions import diff_versions, load_version

    def _run() -> None:
        d = diff_versions(load_version(root, a), load_version(root, b))
        print_summary(
            {
                "added": len(d.added),
                "removed": len(d.removed),
                "relabeled": len(d.relabeled),
                "moved between splits": len(d.moved),
            },
            title=f"{a} -> {b}",
        )
        for frame, title in (
            (d.added, "Added"),
            (d.removed, "Removed"),
            (d.relabeled, "Relabeled"),
            (d.moved, "Moved"),
        ):
            if len(frame):
                print_frame(frame, title=title)
        print_frame(d.per_class, title="Per class")

    run_or_exit(_run)


@version_app.command("export")
def export(
    name: Annotated[str, typer.Argument(help="Version name.")],
    out: Annotated[Path, typer.Argument(help="Output file (parquet, csv) or folder (hf).")],
    format: Annotated[str, typer.Option("--format", help="parquet, csv or hf.")] = "parquet",
    root: Root = Path("versions"),
) -> None:
    """Export a version's kept items for training (image folders: the Python API).

    Example: labelwise version export v2 train.parquet --root versions
    """
    from labelwise.versions import export_version, load_version

    def _run() -> None:
        path = export_version(load_version(root, name), out, format=format)  # type: ignore[arg-type]
        console.print(f"exported version {name} to {path}", highlight=False)

    run_or_exit(_run)
