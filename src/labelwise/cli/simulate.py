"""``labelwise simulate``: run routing policies on a simulated crowd, print the curves."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labelwise.cli._app import app
from labelwise.cli._common import (
    check_output_option,
    console,
    print_frame,
    progress,
    run_or_exit,
)
from labelwise.errors import ParameterError

BEDS = ("toy", "digits", "labelme")


@app.command()
def simulate(
    testbed: Annotated[
        str,
        typer.Option(
            "--testbed",
            help="toy (5 classes, 2-D features), digits (the demo's crowd, fitted) or a crowd "
            "data set name/folder (e.g. labelme: a pool fitted to its annotations).",
        ),
    ] = "toy",
    policy: Annotated[
        list[str] | None,
        typer.Option(
            "--policy",
            "-p",
            help="Policy to run (repeat): fixed, dynamic, random, uncertainty, eig, gold, model, "
            "model-eig. Default: all that the test bed allows.",
        ),
    ] = None,
    items: Annotated[
        int | None,
        typer.Option(
            "--items",
            help="Items (toy default 2000; fitted pools: the data set's items).",
            min=2,
        ),
    ] = None,
    workers: Annotated[int, typer.Option("--workers", help="Simulated annotators.", min=1)] = 50,
    target: Annotated[
        float,
        typer.Option("--target", help="Posterior confidence that finishes an item.", min=0, max=1),
    ] = 0.99,
    cap: Annotated[
        int, typer.Option("--cap", help="Most answers per item (fixed: k).", min=1)
    ] = 10,
    budget: Annotated[
        int | None,
        typer.Option("--budget", help="Most answers to buy (default: until done).", min=1),
    ] = None,
    money: Annotated[
        float | None, typer.Option("--money", help="Most money to spend.", min=0)
    ] = None,
    seeds: Annotated[
        int, typer.Option("--seeds", help="Repeats per policy (seeds 0..n-1).", min=1)
    ] = 1,
    batch_size: Annotated[
        int, typer.Option("--batch-size", help="Requests served on the same state.", min=1)
    ] = 32,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the curves (long table) here.",
            callback=check_output_option,
        ),
    ] = None,
    random_state: Annotated[int, typer.Option("--random-state", help="Seed of the test bed.")] = 0,
) -> None:
    """Replay a labeling campaign under each routing policy against a simulated crowd.

    Prints label accuracy against annotations spent and the answers per item each
    policy needs; -o writes the curves. Example: labelwise simulate --testbed toy
    --items 2000 --workers 50 -p fixed -p eig -o curves.csv
    """
    from labelwise.routing import POLICIES, Budget, compare_policies, curve_table, reach_table

    def _run() -> None:
        bed = _testbed(testbed, items, workers, random_state)
        names = list(policy) if policy else list(POLICIES)
        for name in names:
            if name not in POLICIES:
                raise ParameterError(
                    f"--policy must be one of {', '.join(POLICIES)}; got {name!r}."
                )
        spend = None if budget is None and money is None else Budget(budget, money)
        runs = len(names) * seeds
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            done += n
            on_progress("campaigns (policy x seed)", done, runs)

        with progress("simulate") as on_progress:
            on_progress("campaigns (policy x seed)", 0, runs)
            curves = compare_policies(
                bed, names, target=target, cap=cap, seeds=tuple(range(seeds)), budget=spend,
                batch_size=batch_size, on_run=lambda *_: advance(1),
            )  # fmt: skip
        console.print(
            f"test bed {bed.name}: {bed.n_items:,} items, {bed.pool.n_workers} annotators, "
            f"{bed.pool.n_classes} classes; target {target:g}, cap {cap}",
            highlight=False,
        )
        top = float(curves["per_item"].max())
        grid = sorted(
            {g for g in (0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20) if g <= top}
            | {round(top, 2)}
        )
        print_frame(curve_table(curves, grid), title="Label accuracy by annotations per item")
        print_frame(
            reach_table(curves), title="Annotations per item to reach an accuracy", digits=3
        )
        if output is not None:
            from labelwise.io import write_frame

            write_frame(curves, output)
            console.print(f"wrote {len(curves)} rows to {output}")

    run_or_exit(_run)


def _testbed(name: str, items: int | None, workers: int, seed: int):  # type: ignore[no-untyped-def]
    from labelwise.datasets import load_crowd, load_digits_crowd
    from labelwise.simulate import make_toy_testbed, testbed_from_crowd

    if name == "toy":
        return make_toy_testbed(2000 if items is None else items, workers, random_state=seed)
    crowd = load_digits_crowd(random_state=seed) if name == "digits" else load_crowd(name)
    return testbed_from_crowd(crowd, n_items=items, n_workers=workers, random_state=seed)
