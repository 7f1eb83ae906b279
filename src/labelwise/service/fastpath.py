"""The two endpoints every annotator calls all the time, served without FastAPI's
routing, dependency injection and response classes, and the security headers as a
plain ASGI wrapper.

Why: ``POST /api/projects/{name}/next`` and ``POST /api/projects/{name}/answers`` are
almost all of the service's traffic, and FastAPI's per-request machinery (route
matching, dependency resolution, a ``BaseHTTPMiddleware`` task per request, JSON
encoding through ``jsonable_encoder``) cost more CPU than the work itself. Here they
are parsed with orjson, validated by the same pydantic model (``AnswerIn``, straight
from the JSON bytes), authenticated by the same token cache, and answered with the
same JSON bodies, statuses and error messages; every other path goes to the FastAPI
application unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from pydantic import BaseModel, ValidationError

from labelwise.errors import LabelwiseError
from labelwise.service.auth import ServiceError

if TYPE_CHECKING:
    from labelwise.service.core import LabelService

__all__ = ["HotPaths", "SecurityHeaders", "validation_message"]

ASGIApp = Any


def validation_message(errors: list[Any]) -> str:
    """The ``error`` text of a 422: each failing field and what is wrong with it."""
    parts = []
    for err in errors:
        where = ".".join(str(x) for x in err.get("loc", ()) if x != "body")
        parts.append(f"{where or 'body'}: {err.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts)


class SecurityHeaders:
    """Add the security headers to every response that does not set them (FastAPI's
    own ``/docs`` pages keep their scripts: no Content-Security-Policy there)."""

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        self.no_csp = [h for h in self.headers if h[0] != b"content-security-policy"]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.no_csp if scope["path"] in ("/docs", "/redoc") else self.headers

        async def send_with_headers(msg: dict[str, Any]) -> None:
            if msg["type"] == "http.response.start":
                have = {k.lower() for k, _ in msg.get("headers", [])}
                msg["headers"] = [*msg.get("headers", []), *(h for h in extra if h[0] not in have)]
            await send(msg)

        await self.app(scope, receive, send_with_headers)


class HotPaths:
    """ASGI wrapper serving ``next`` and ``answers`` directly (see the module's text).

    Parameters
    ----------
    app : ASGI application
        Everything else goes here.
    service : LabelService
    answer_model : pydantic model
        Validates an answer's body (the API's ``AnswerIn``).
    max_body : int
        Largest body accepted (413 beyond).
    headers : dict
        Security headers added to each response.
    """

    def __init__(
        self,
        app: ASGIApp,
        service: LabelService,
        answer_model: type[BaseModel],
        max_body: int,
        headers: dict[str, str],
    ) -> None:
        self.app = self.fastapi = app
        self.state = app.state  # the service and the worker, as on the FastAPI app
        self.svc = service
        self.model = answer_model
        self.max_body = max_body
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            parts = scope["path"].split("/")  # "", "api", "projects", name, what
            if (
                len(parts) == 5
                and parts[1] == "api"
                and parts[2] == "projects"
                and parts[3]
                and parts[4] in ("next", "answers")
            ):
                await self._serve(parts[3], parts[4], scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _serve(self, name: str, what: str, scope: Any, receive: Any, send: Any) -> None:
        token = None
        for k, v in scope["headers"]:
            if k == b"content-length" and v.isdigit() and int(v) > self.max_body:
                await self._send(send, 413, self._too_large())
                return
            if k == b"authorization" and v[:7].lower() == b"bearer ":
                token = v[7:].strip().decode("latin-1")
        body = b""
        more = True
        while more:
            msg = await receive()
            if msg["type"] != "http.request":
                return  # the client went away
            body += msg.get("body", b"")
            more = msg.get("more_body", False)
            if len(body) > self.max_body:
                await self._send(send, 413, self._too_large())
                return
        svc = self.svc
        try:
            who = svc.cached_person(token) or svc.authenticate(token)
            if what == "next":
                task = await svc.awrite(*svc.next_task_op(who, name))
                out: dict[str, Any] = (
                    {"task": task.to_json(name)}
                    if task is not None
                    else {
                        "task": None,
                        "reason": "nothing left for you in this project: thank you!",
                    }
                )
                status = 200
            else:
                try:
                    a: Any = self.model.model_validate_json(body or b"null")
                except ValidationError as e:
                    errors = e.errors(include_url=False)
                    if any(err.get("type") == "json_invalid" for err in errors):
                        raise_msg = "invalid request: the body is not valid JSON."
                    else:
                        raise_msg = validation_message(errors)
                    await self._send(send, 422, {"error": raise_msg})
                    return
                op = svc.answer_op(who, name, a.item_id, a.label, a.client_key)
                ans, created = await svc.awrite(*op)
                out = {**ans, "created": created}
                status = 201 if created else 200
        except ServiceError as e:
            await self._send(send, e.status, {"error": str(e)})
            return
        except LabelwiseError as e:
            await self._send(send, 422, {"error": str(e)})
            return
        await self._send(send, status, out)

    def _too_large(self) -> dict[str, str]:
        return {"error": f"request body larger than {self.max_body:,} bytes."}

    async def _send(self, send: Any, status: int, out: Any) -> None:
        data = orjson.dumps(out)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(data)).encode()),
                    *self.headers,
                ],
            }
        )
        await send({"type": "http.response.body", "body": data})
