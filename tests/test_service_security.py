"""Refusals: each bad request gets the right status and a clear message, and writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from _service import new_service, text_project
from labelwise.service import ItemIn, ProjectSpec, create_app
from labelwise.service.db import answers, items, leases, people, projects, skips

SQL = "x'); DROP TABLE answers; --"
HTML = "<script>alert(1)</script><img src=x onerror=alert(2)>"


@pytest.fixture
def env(tmp_path: Path) -> Any:
    folder = tmp_path / "project"
    (folder / "img").mkdir(parents=True)
    (folder / "img" / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "secret.txt").write_text("outside")
    svc = new_service(tmp_path)
    tokens = text_project(svc, "t", annotators=("ann1",), folder=str(folder))
    text_project(svc, "other", annotators=("ann2",))
    client = TestClient(create_app(service=svc, start_worker=False))
    return svc, tokens, client


def _counts(svc: Any) -> tuple[int, ...]:
    with svc.db.read() as c:
        return tuple(
            c.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (answers, items, leases, people, projects, skips)
        )


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_tokens_and_roles(env: Any) -> None:
    svc, tokens, c = env
    before = _counts(svc)
    r = c.post("/api/projects/t/next")
    assert r.status_code == 401 and "missing API token" in r.json()["error"]
    r = c.post("/api/projects/t/next", headers=_h("lw_wrong"))
    assert r.status_code == 401 and r.json()["error"] == "invalid API token."
    r = c.post("/api/projects/t/next", headers={"Authorization": "Basic abc"})
    assert r.status_code == 401
    for method, path in [
        ("GET", "/api/admin/projects/t/stats"),
        ("GET", "/api/admin/projects/t/export/answers.csv"),
        ("POST", "/api/admin/people"),
        ("POST", "/api/admin/projects"),
    ]:
        r = c.request(method, path, headers=_h(tokens["ann1"]), json={"name": "zz"})
        assert r.status_code == 403, path
        assert r.json()["error"] == "this endpoint needs an admin token."
    r = c.post("/api/projects/other/next", headers=_h(tokens["ann1"]))
    assert r.status_code == 403 and "not assigned" in r.json()["error"]
    r = c.get("/api/projects/other", headers=_h(tokens["ann1"]))
    assert r.status_code == 403
    r = c.post("/api/projects/nope/next", headers=_h(tokens["ann1"]))
    assert r.status_code == 404 and "no project named 'nope'" in r.json()["error"]
    assert c.get("/api/me", headers=_h(tokens["ann1"])).json()["projects"] == ["t"]
    assert _counts(svc) == before
    # the database keeps hashes only
    with svc.db.read() as conn:
        stored = set(conn.execute(select(people.c.token_hash)).scalars())
    assert not set(tokens.values()) & stored


def test_answers_outside_the_schema(env: Any) -> None:
    svc, tokens, c = env
    h = _h(tokens["ann1"])
    task = c.post("/api/projects/t/next", headers=h).json()["task"]
    before = _counts(svc)
    bad = [
        ({"item_id": task["item_id"], "label": "horse", "client_key": "k1"}, 422, "not one of"),
        ({"item_id": task["item_id"], "label": SQL, "client_key": "k1"}, 422, "not one of"),
        ({"item_id": task["item_id"], "label": "cat", "client_key": SQL}, 422, "client_key"),
        ({"item_id": task["item_id"], "label": "cat"}, 422, "client_key: Field required"),
        ({"item_id": 10**6, "label": "cat", "client_key": "k1"}, 404, "no item"),
        ({"item_id": "1 OR 1=1", "label": "cat", "client_key": "k1"}, 422, "item_id"),
        ({"item_id": task["item_id"], "label": "cat", "client_key": "k", "x": 1}, 422, "x"),
    ]
    for body, status, msg in bad:
        r = c.post("/api/projects/t/answers", json=body, headers=h)
        assert r.status_code == status, (body, r.text)
        assert msg in r.json()["error"], r.text
    # an item of another project cannot be answered through this one
    other = svc.project_id("other")
    with svc.db.read() as conn:
        foreign = conn.execute(select(items.c.id).where(items.c.project_id == other)).scalar()
    r = c.post(
        "/api/projects/t/answers",
        json={"item_id": foreign, "label": "cat", "client_key": "k9"},
        headers=h,
    )
    assert r.status_code == 404
    assert _counts(svc) == before


def test_oversized_body(env: Any) -> None:
    svc, tokens, c = env
    before = _counts(svc)
    body = b'{"item_id": 1, "label": "cat", "client_key": "' + b"a" * 70_000 + b'"}'
    r = c.post(
        "/api/projects/t/answers",
        content=body,
        headers={**_h(tokens["ann1"]), "Content-Type": "application/json"},
    )
    assert r.status_code == 413 and "larger than 65,536 bytes" in r.json()["error"]

    def chunks() -> Any:  # no Content-Length: cut off while streaming
        for _ in range(100):
            yield b" " * 1024

    r = c.post("/api/projects/t/skip", content=chunks(), headers=_h(tokens["ann1"]))
    assert r.status_code == 413
    assert _counts(svc) == before


def test_image_paths_outside_the_folder(env: Any, tmp_path: Path) -> None:
    svc, tokens, c = env
    before = _counts(svc)
    for path in ["../secret.txt", "/etc/passwd", "img/../../secret.txt", "missing.png"]:
        r = c.post(
            "/api/admin/projects/t/items",
            json=[
                {"id": "ok1", "content": "fine"},
                {"id": "bad", "kind": "image", "content": path},
            ],
            headers=_h(tokens["admin"]),
        )
        assert r.status_code == 422, path
        assert "project folder" in r.json()["error"], r.text
    (tmp_path / "project" / "link.png").symlink_to(tmp_path / "secret.txt")
    r = c.post(
        "/api/admin/projects/t/items",
        json=[{"id": "l", "kind": "image", "content": "link.png"}],
        headers=_h(tokens["admin"]),
    )
    assert r.status_code == 422 and "outside the project folder" in r.json()["error"]
    assert _counts(svc) == before  # the good item of each batch was not written either
    r = c.post(
        "/api/admin/projects/t/items",
        json=[{"id": "img", "kind": "image", "content": "img/a.png"}],
        headers=_h(tokens["admin"]),
    )
    assert r.status_code == 201


def test_sql_and_html_in_every_text_field(env: Any) -> None:
    svc, tokens, c = env
    a = _h(tokens["admin"])
    r = c.post("/api/admin/projects", json={"name": SQL, "classes": ["a", "b"]}, headers=a)
    assert r.status_code == 422 and "project name" in r.json()["error"]
    spec = {
        "name": "h",
        "title": HTML,
        "classes": [HTML, SQL],
        "instructions": HTML,
        "template": HTML,
    }
    assert c.post("/api/admin/projects", json=spec, headers=a).status_code == 201
    r = c.post(
        "/api/admin/projects/h/items",
        json=[{"id": SQL, "content": HTML}, {"id": HTML, "kind": "json", "content": {"t": SQL}}],
        headers=a,
    )
    assert r.status_code == 201
    r = c.post("/api/admin/people", json={"name": HTML}, headers=a)
    assert r.status_code == 201
    tok = r.json()["token"]
    assert (
        c.post("/api/admin/projects/h/assign", json={"people": [HTML]}, headers=a).status_code
        == 200
    )
    h = _h(tok)
    got = c.get("/api/projects/h", headers=h).json()
    assert got["title"] == HTML and got["classes"] == [HTML, SQL] and got["instructions"] == HTML
    for _ in range(2):
        t = c.post("/api/projects/h/next", headers=h).json()["task"]
        assert t["content"] in (HTML, {"t": SQL})
        r = c.post(
            "/api/projects/h/answers",
            json={"item_id": t["item_id"], "label": SQL, "client_key": "k" + str(t["item_id"])},
            headers=h,
        )
        assert r.status_code == 201
    csv = c.get("/api/admin/projects/h/export/answers.csv", headers=a)
    assert csv.headers["content-type"].startswith("text/csv")
    assert SQL in csv.text and HTML in csv.text
    assert c.get("/api/admin/projects/h/stats", headers=a).json()["answers"] == 2
    # JSON answers are never sniffed as HTML, and the pages forbid inline script
    r = c.get("/annotate")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "script-src 'self'" in r.headers["content-security-policy"]
    with svc.db.read() as conn:  # the tables are all there
        assert conn.execute(select(func.count()).select_from(answers)).scalar_one() == 2


def test_annotators_never_see_gold_or_other_labels(env: Any) -> None:
    svc, tokens, c = env
    svc.create_project(ProjectSpec(name="g", classes=["a", "b"], overlap=2))
    svc.add_items("g", [ItemIn(id="gold1", content="x", gold="a"), ItemIn(id="r1", content="y")])
    svc.assign("g", ["ann1"])
    h = _h(tokens["ann1"])
    for _ in range(3):
        body = c.post("/api/projects/g/next", headers=h).json()
        if body["task"] is None:
            break
        assert set(body["task"]) == {"item_id", "external_id", "kind", "content", "expires_at"}
        c.post("/api/projects/g/skip", json={"item_id": body["task"]["item_id"]}, headers=h)
    prog = c.get("/api/projects/g/progress", headers=h).json()
    assert set(prog) == {"my_answers", "items", "items_done", "progress"}
    assert c.get("/api/admin/projects/g/export/answers.csv", headers=h).status_code == 403
