"""The HTTP API and the pages: :func:`create_app` builds the ASGI application.

Annotator endpoints (``/api/projects/{name}/...``) need the token of a person
assigned to the project; admin endpoints (``/api/admin/...``) an admin's token. Every
error is JSON ``{"error": "..."}`` with its status: 401 no or wrong token, 403 not
allowed, 404 unknown project or item, 409 a clash with the current state, 413 a body
over the limit, 422 a body that breaks the schema. Pages are static files
(``/annotate``, ``/admin``) that read the token from the URL fragment, which never
reaches the server or its logs.
"""

from __future__ import annotations

import contextlib
import json
import mimetypes
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from fastapi import Body, Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from labelwise.errors import LabelwiseError
from labelwise.service.auth import Forbidden, Invalid, NotFound, Person, ServiceError
from labelwise.service.core import LabelService
from labelwise.service.db import items, open_database
from labelwise.service.fastpath import HotPaths, SecurityHeaders, validation_message
from labelwise.service.schema import ItemIn, ProjectSpec, check_image_path
from labelwise.service.transfer import (
    FORMATS,
    answers_frame,
    consensus_frame,
    export_label_studio,
    frame_bytes,
    import_answers,
    import_label_studio,
)
from labelwise.service.versioning import consensus_version
from labelwise.service.worker import ModelWorker

__all__ = ["MAX_BODY", "MAX_IMPORT_BODY", "create_app"]

STATIC = Path(__file__).resolve().parent / "static"
#: Largest request body on annotator endpoints, and on admin imports.
MAX_BODY = 64 * 1024
MAX_IMPORT_BODY = 64 * 1024 * 1024
_KEY = r"^[A-Za-z0-9_.:-]{1,100}$"
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' http: https: data: blob:; script-src 'self'; "
        "style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
}


class _BodyLimit:
    """Refuse a request body over the limit with 413, before any handler runs
    (by Content-Length when given, else while streaming)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = MAX_IMPORT_BODY if scope["path"].startswith("/api/admin/") else MAX_BODY
        for k, v in scope.get("headers", []):
            if k == b"content-length" and v.isdigit() and int(v) > limit:
                await _too_large(send, limit)
                return
        if scope["method"] in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        # read the whole body first (it is small, or refused): a handler never sees a part
        chunks, size, more = [], 0, True
        while more:
            msg = await receive()
            if msg["type"] != "http.request":
                return  # the client went away
            chunks.append(msg.get("body", b""))
            size += len(chunks[-1])
            more = msg.get("more_body", False)
            if size > limit:
                await _too_large(send, limit)
                return
        body = b"".join(chunks)
        sent = False

        async def replay() -> Any:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _too_large(send: Any, limit: int) -> None:
    body = json.dumps({"error": f"request body larger than {limit:,} bytes."}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class AnswerIn(BaseModel):
    """Body of ``POST /answers``."""

    model_config = ConfigDict(extra="forbid")
    item_id: int
    label: str = Field(max_length=100)
    client_key: str = Field(pattern=_KEY)


class SkipIn(BaseModel):
    """Body of ``POST /skip``."""

    model_config = ConfigDict(extra="forbid")
    item_id: int


class PersonIn(BaseModel):
    """Body of ``POST /api/admin/people``."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    role: str = "annotator"


class AssignIn(BaseModel):
    """Body of ``POST /api/admin/projects/{name}/assign``."""

    model_config = ConfigDict(extra="forbid")
    people: list[str] = Field(min_length=1, max_length=10_000)


class AnswersIn(BaseModel):
    """Body of ``POST /api/admin/projects/{name}/import/answers``."""

    model_config = ConfigDict(extra="forbid")
    rows: list[dict[str, str]]


def _person(request: Request, authorization: Annotated[str | None, Header()] = None) -> Person:
    token = None
    if authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    svc: LabelService = request.app.state.service
    return svc.authenticate(token)


def _admin(p: Annotated[Person, Depends(_person)]) -> Person:
    if not p.is_admin:
        raise Forbidden("this endpoint needs an admin token.")
    return p


Who = Annotated[Person, Depends(_person)]
Admin = Annotated[Person, Depends(_admin)]


def create_app(
    database_url: str | None = None,
    *,
    service: LabelService | None = None,
    start_worker: bool = True,
) -> HotPaths:
    """The labeling service's ASGI application: the FastAPI app (``.fastapi``) behind
    :class:`~labelwise.service.fastpath.HotPaths`, which serves ``next`` and
    ``answers`` itself.

    Give ``database_url`` (SQLite or PostgreSQL, migrated on open) or an existing
    ``service``. The background model worker starts and stops with the app.
    """
    owned = service is None
    if service is None:
        if database_url is None:
            raise Invalid("create_app needs a database_url or a service.")
        service = LabelService(open_database(database_url))
    svc = service
    worker = ModelWorker(svc)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if start_worker:
            worker.start()
        yield
        worker.stop()
        if owned:  # flush the writer's queue, close the connections
            svc.close()

    app = FastAPI(title="labelwise labeling service", lifespan=lifespan)
    app.state.service = svc
    app.state.worker = worker
    app.add_middleware(_BodyLimit)
    app.add_middleware(SecurityHeaders, headers=_SECURITY_HEADERS)

    @app.exception_handler(ServiceError)
    async def _service_error(_r: Request, e: ServiceError) -> JSONResponse:
        return JSONResponse({"error": str(e)}, status_code=e.status)

    @app.exception_handler(LabelwiseError)
    async def _labelwise_error(_r: Request, e: LabelwiseError) -> JSONResponse:
        return JSONResponse({"error": str(e)}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_r: Request, e: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": validation_message(list(e.errors()))}, status_code=422)

    # ---------------------------------------------------------------- pages
    @app.get("/", include_in_schema=False)
    def _root() -> RedirectResponse:
        return RedirectResponse("/annotate")

    @app.get("/annotate", include_in_schema=False)
    def _annotate() -> FileResponse:
        return FileResponse(STATIC / "annotate.html")

    @app.get("/admin", include_in_schema=False)
    def _admin() -> FileResponse:
        return FileResponse(STATIC / "admin.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # ---------------------------------------------------------------- annotators
    @app.get("/api/health")
    def health() -> dict[str, Any]:
        return {"ok": True, "database": "sqlite" if svc.db.is_sqlite else "postgresql"}

    @app.get("/api/me")
    def me(who: Who) -> dict[str, Any]:
        return {"name": who.name, "role": who.role, "projects": svc.projects_of(who)}

    @app.get("/api/projects/{name}")
    def project(name: str, who: Who) -> dict[str, Any]:
        pid = svc.project_id(name)
        svc.check_access(who, pid)
        p = svc.project(name)
        return {
            "name": p.name,
            "title": p.title,
            "classes": list(p.classes),
            "keys": list(p.keys),
            "instructions": p.instructions,
            "template": p.template,
            "lease_seconds": p.lease_seconds,
        }

    # served by HotPaths before FastAPI sees them; kept here for the OpenAPI page
    @app.post("/api/projects/{name}/next")
    async def next_task(name: str, who: Who) -> JSONResponse:
        task = await svc.awrite(*svc.next_task_op(who, name))
        if task is None:
            return JSONResponse(
                {"task": None, "reason": "nothing left for you in this project: thank you!"}
            )
        return JSONResponse({"task": task.to_json(name)})

    @app.post("/api/projects/{name}/answers")
    async def answer(name: str, body: AnswerIn, who: Who) -> JSONResponse:
        op = svc.answer_op(who, name, body.item_id, body.label, body.client_key)
        out, created = await svc.awrite(*op)
        return JSONResponse({**out, "created": created}, status_code=201 if created else 200)

    @app.post("/api/projects/{name}/skip")
    def skip(name: str, body: SkipIn, who: Who) -> dict[str, Any]:
        svc.skip(who, name, body.item_id)
        return {"skipped": body.item_id}

    @app.post("/api/projects/{name}/undo")
    def undo(name: str, who: Who) -> dict[str, Any]:
        task = svc.undo(who, name)
        if task is None:
            return {"task": None, "reason": "nothing to undo."}
        return {"task": task.to_json(name)}

    @app.get("/api/projects/{name}/progress")
    def progress(name: str, who: Who) -> dict[str, Any]:
        return svc.progress(who, name)

    @app.get("/api/projects/{name}/items/{item_id}/file")
    def item_file(name: str, item_id: int, who: Who) -> FileResponse:
        pid = svc.project_id(name)
        svc.check_access(who, pid)
        p = svc.project(name)
        with svc.db.read() as conn:
            it = conn.execute(
                items.select()
                .with_only_columns(items.c.kind, items.c.content)
                .where(items.c.id == item_id, items.c.project_id == pid)
            ).one_or_none()
        if it is None or it.kind != "image":
            raise NotFound(f"no image item {item_id} in project {name!r}.")
        path = check_image_path(p.folder, it.content)
        media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return FileResponse(path, media_type=media)

    # ---------------------------------------------------------------- admins
    @app.post("/api/admin/projects", status_code=201)
    def create_project(spec: ProjectSpec, _a: Admin) -> dict[str, Any]:
        return {"id": svc.create_project(spec), "name": spec.name}

    @app.post("/api/admin/projects/{name}/items", status_code=201)
    def add_items(name: str, body: Annotated[list[ItemIn], Body()], _a: Admin) -> dict[str, Any]:
        return {"added": svc.add_items(name, body)}

    @app.post("/api/admin/people", status_code=201)
    def add_person(body: PersonIn, _a: Admin) -> dict[str, Any]:
        p, token = svc.create_person(body.name, body.role)
        return {"id": p.id, "name": p.name, "role": p.role, "token": token}

    @app.post("/api/admin/projects/{name}/assign")
    def assign(name: str, body: AssignIn, _a: Admin) -> dict[str, Any]:
        return {"assigned": svc.assign(name, body.people)}

    @app.post("/api/admin/projects/{name}/import/answers", status_code=201)
    def import_rows(name: str, body: AnswersIn, _a: Admin) -> dict[str, Any]:
        frame = pd.DataFrame(body.rows, columns=["item", "worker", "label"])
        return {"added": import_answers(svc, name, frame)}

    @app.post("/api/admin/projects/{name}/import/labelstudio", status_code=201)
    def import_ls(
        name: str, body: Annotated[list[dict[str, Any]], Body()], _a: Admin
    ) -> dict[str, Any]:
        n_items, n_answers = import_label_studio(svc, name, body)
        return {"items": n_items, "answers": n_answers}

    @app.get("/api/admin/projects/{name}/stats")
    def stats(name: str, _a: Admin) -> dict[str, Any]:
        return svc.stats(name)

    @app.post("/api/admin/projects/{name}/refit", status_code=202)
    def refit(name: str, _a: Admin) -> dict[str, Any]:
        worker.request_refit(svc.project_id(name))
        return {"queued": True}

    @app.get("/api/admin/projects/{name}/export/labelstudio.json")
    def export_ls(name: str, _a: Admin) -> Response:
        body = json.dumps(export_label_studio(svc, name), default=str)
        return Response(
            body,
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="{name}-labelstudio.json"'},
        )

    @app.get("/api/admin/projects/{name}/export/{what}.{fmt}")
    def export(name: str, what: str, fmt: str, _a: Admin) -> Response:
        if what not in ("answers", "consensus"):
            raise NotFound(f"unknown export {what!r}; choose answers or consensus.")
        if fmt not in FORMATS:
            raise NotFound(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}.")
        svc.project_id(name)
        frame = answers_frame(svc, name)
        headers = {"Content-Disposition": f'attachment; filename="{name}-{what}.{fmt}"'}
        if what == "consensus":
            # each consensus export is a dataset version (labels, answers, method)
            answers_ = frame
            frame = consensus_frame(svc, name, answers_)
            version = consensus_version(svc, name, frame, answers_) if len(frame) else None
            if version is not None:
                headers["X-Labelwise-Version"] = version.name
                headers["X-Labelwise-Version-Path"] = str(version.path)
                headers["X-Labelwise-Version-Sha256"] = version.manifest_sha256
        return Response(frame_bytes(frame, fmt), media_type=FORMATS[fmt], headers=headers)

    # in front of FastAPI: the annotators' next/answers calls never reach its machinery
    return HotPaths(app, svc, AnswerIn, MAX_BODY, _SECURITY_HEADERS)


def app_from_env() -> HotPaths:
    """The app on the database named by ``$LABELWISE_DB`` (for ``uvicorn --factory`` and
    several server processes)."""
    import os

    url = os.environ.get("LABELWISE_DB")
    if not url:
        raise Invalid("set LABELWISE_DB to the database URL.")
    app = create_app(url)
    settle_heap()
    return app


def settle_heap() -> None:
    """Move every object that exists now (modules, classes, the app) out of reach of
    Python's cyclic garbage collector, once a server process has started.

    Why: a full collection walks every tracked object, and a started server holds a
    few hundred thousand of them (FastAPI, pydantic, SQLAlchemy, numpy's modules).
    Measured under the load benchmark, each full collection stopped the process for
    80-130 ms, several times in 20 s, delaying every request in flight: they were the
    service's p99. Frozen objects are never scanned again (they live as long as the
    process anyway); objects made later are collected as before.
    """
    import gc

    gc.collect()
    gc.freeze()
