"""``labelwise serve``: the labeling service (needs the ``service`` extra)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from labelwise.cli._app import app
from labelwise.cli._common import console, run_or_exit
from labelwise.errors import InputError


@app.command()
def serve(
    folder: Annotated[
        Path,
        typer.Option("--folder", help="Project folder: the SQLite file and the image files."),
    ] = Path("."),
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Database URL (default: SQLite file labelwise.db in --folder). "
            "PostgreSQL: postgresql+psycopg://user:password@host/dbname",
        ),
    ] = None,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            "--workers", help="Server processes (PostgreSQL; SQLite is best served by one)."
        ),
    ] = 1,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo", help="Create a ready project on the embedded digit images and print the URLs."
        ),
    ] = False,
    admin: Annotated[
        str | None,
        typer.Option("--admin", help="Create an admin of this name and print their token."),
    ] = None,
    from_labelstudio: Annotated[
        Path | None,
        typer.Option(
            "--from-labelstudio", help="Create --project from a Label Studio JSON export."
        ),
    ] = None,
    project: Annotated[
        str | None, typer.Option("--project", help="Project name for --from-labelstudio.")
    ] = None,
    classes: Annotated[
        str | None, typer.Option("--classes", help="Comma-separated classes (--from-labelstudio).")
    ] = None,
    setup_only: Annotated[
        bool, typer.Option("--setup-only", help="Do the set-up (--demo, --admin, ...), then exit.")
    ] = False,
) -> None:
    """Run the labeling service: people label in a browser; it routes, aggregates, learns.

    Example: labelwise serve --demo   (prints the annotator and admin URLs with tokens)
    """

    def _run() -> None:
        try:
            import uvicorn

            from labelwise.service import LabelService, open_database, sqlite_url
            from labelwise.service.setup import from_label_studio, make_demo
        except ImportError as e:
            raise InputError(
                f"the service needs its extra: pip install 'labelwise[service]' ({e})"
            ) from None
        root = folder.resolve()
        root.mkdir(parents=True, exist_ok=True)
        url = db or sqlite_url(root / "labelwise.db")
        svc = LabelService(open_database(url))
        base = f"http://{host}:{port}"
        if demo:
            made = make_demo(svc, root)
            console.print(f"[bold]demo project[/] {made.project!r} in {root}")
            console.print(
                f"admin page:     {base}/admin?project={made.project}#token={made.admin_token}"
            )
            for who, tok in made.annotator_tokens.items():
                console.print(f"{who} page: {base}/annotate?project={made.project}#token={tok}")
        if admin:
            _, tok = svc.create_person(admin, "admin")
            console.print(f"admin {admin!r} token: {tok}")
            console.print(f"admin page: {base}/admin#token={tok}")
        if from_labelstudio is not None:
            if not project:
                raise InputError("--from-labelstudio needs --project NAME.")
            cls = [c.strip() for c in classes.split(",")] if classes else None
            n_items, n_answers = from_label_studio(
                svc, from_labelstudio, project=project, classes=cls, folder=str(root)
            )
            console.print(f"imported {n_items} items and {n_answers} answers into {project!r}")
        svc.db.dispose()
        if setup_only:
            return
        console.print(f"serving on {base} (database: {url.split('@')[-1]}); Ctrl-C stops")
        os.environ["LABELWISE_DB"] = url
        uvicorn.run(
            "labelwise.service.api:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
        )

    run_or_exit(_run)
