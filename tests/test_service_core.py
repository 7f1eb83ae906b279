"""The service's operations on SQLite: migrations, leases, idempotent answers, skip,
undo, restart, several processes on one database, imports and exports, model worker."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select, update

from _service import label_concurrently, new_service, text_project
from labelwise.annotations import Annotations
from labelwise.routing import DynamicOverlap, FixedOverlap, GoldQuestions, ModelAssisted
from labelwise.service import ItemIn, LabelService, ProjectSpec, open_database
from labelwise.service.auth import Conflict, Invalid
from labelwise.service.db import answers, items, leases, metadata
from labelwise.service.transfer import (
    answers_frame,
    consensus_frame,
    export_label_studio,
    frame_bytes,
    import_answers,
    import_label_studio,
    items_from_folder,
    items_from_table,
)
from labelwise.service.worker import ModelWorker


def _who(svc: LabelService, name: str):  # type: ignore[no-untyped-def]
    from labelwise.service.auth import Person

    with svc.db.read() as c:
        from labelwise.service.db import people

        row = c.execute(select(people).where(people.c.name == name)).one()
    return Person(row.id, row.name, row.role)


def test_migrations_match_the_tables(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    svc = new_service(tmp_path, durable=True)
    with svc.db.read() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    with svc.db.read() as conn:  # WAL and durable commits
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
    open_database(svc.db.url)  # a second start finds nothing to migrate


def test_idempotent_answer_skip_and_undo(tmp_path: Path) -> None:
    svc = new_service(tmp_path)
    text_project(svc, n_items=4, overlap=1, annotators=("a", "b"))
    a, b = _who(svc, "a"), _who(svc, "b")
    t = svc.next_task(a, "t")
    assert t is not None
    renewed = svc.next_task(a, "t")  # asking again renews the same lease
    assert renewed is not None and renewed.item_id == t.item_id
    out, created = svc.answer(a, "t", t.item_id, "dog", "key-1")
    assert created
    again, created2 = svc.answer(a, "t", t.item_id, "dog", "key-1")
    assert not created2 and again == out
    with pytest.raises(Conflict, match="already used"):
        svc.answer(a, "t", t.item_id, "cat", "key-1")
    with pytest.raises(Conflict, match="already answered"):
        svc.answer(a, "t", t.item_id, "cat", "key-2")
    with pytest.raises(Invalid, match="not one of the project's classes: cat, dog, bird"):
        svc.answer(a, "t", t.item_id, "horse", "key-3")
    # overlap 1: b never gets a's item, nor may answer it
    got_b = svc.next_task(b, "t")
    assert got_b is not None and got_b.item_id != t.item_id
    with pytest.raises(Conflict, match="all the answers it needs"):
        svc.answer(b, "t", t.item_id, "cat", "kb")
    # skip: never offered again to b
    svc.skip(b, "t", got_b.item_id)
    offered = set()
    while (n := svc.next_task(b, "t")) is not None:
        offered.add(n.item_id)
        svc.answer(b, "t", n.item_id, "cat", f"b{n.item_id}")
    assert got_b.item_id not in offered and t.item_id not in offered and len(offered) == 2
    # undo: a's answer leaves, the item comes back to a, the counts follow
    back = svc.undo(a, "t")
    assert back is not None and back.item_id == t.item_id
    frame = answers_frame(svc, "t")
    assert len(frame) == 2 and (frame["worker"] == "b").all()
    assert svc.stats("t")["answers"] == 2
    svc.answer(a, "t", t.item_id, "bird", "key-4")
    assert svc.stats("t")["answers"] == 3
    assert svc.undo(b, "t") is not None and svc.undo(b, "t") is not None
    assert svc.undo(b, "t") is None


def test_undo_updates_the_cache_without_a_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An undo takes the answer out of the routing cache (CampaignState.remove): the
    counts, votes and answers then equal a cache rebuilt from the database."""
    from labelwise.service.live import LiveProject

    svc = new_service(tmp_path)
    text_project(svc, n_items=12, overlap=2, policy="dynamic", annotators=("a", "b"))
    a, b = _who(svc, "a"), _who(svc, "b")
    for who in (a, b, a, b, a):
        t = svc.next_task(who, "t")
        assert t is not None
        svc.answer(who, "t", t.item_id, "dog" if who is a else "cat", f"{who.name}{t.item_id}")
    live = svc.live(svc.project_id("t"))
    before = live.state.n_answers.sum()
    rebuilt = []
    real = LiveProject.rebuild
    monkeypatch.setattr(LiveProject, "rebuild", lambda self, c: rebuilt.append(1) or real(self, c))
    back = svc.undo(a, "t")
    assert back is not None and svc.undo(b, "t") is not None
    assert rebuilt == [] and live.state.n_answers.sum() == before - 2
    monkeypatch.undo()
    ref = LiveProject(live.project_id)
    with svc.db.read() as c:
        ref.rebuild(c)
    np.testing.assert_array_equal(live.state.n_answers, ref.state.n_answers)
    np.testing.assert_array_equal(live.state.votes, ref.state.votes)
    np.testing.assert_array_equal(live.state.worker_answers, ref.state.worker_answers)
    assert sorted(zip(*live.state.collected(), strict=True)) == sorted(
        zip(*ref.state.collected(), strict=True)
    )
    # the undone item is a's again, and answering it counts once more
    svc.answer(a, "t", back.item_id, "bird", "again")
    assert live.state.n_answers.sum() == before - 1 and rebuilt == []


def test_abandoned_lease_returns_the_item(tmp_path: Path) -> None:
    svc = new_service(tmp_path)
    text_project(svc, n_items=1, overlap=1, annotators=("a", "b"))
    a, b = _who(svc, "a"), _who(svc, "b")
    t = svc.next_task(a, "t")
    assert t is not None and svc.next_task(b, "t") is None  # leased: nothing for b
    with svc.db.write() as c:
        c.execute(update(leases).values(expires_at=0.0))  # a walked away
    tb = svc.next_task(b, "t")
    assert tb is not None and tb.item_id == t.item_id
    svc.answer(b, "t", tb.item_id, "cat", "kb")
    with pytest.raises(Conflict, match="lease had expired"):
        svc.answer(a, "t", t.item_id, "dog", "ka")
    assert svc.release_expired() == 1


def test_restart_rebuilds_the_same_state(tmp_path: Path) -> None:
    svc = new_service(tmp_path)
    text_project(svc, n_items=30, overlap=3, policy="dynamic", annotators=("a", "b", "c"))
    rng = np.random.default_rng(0)
    for name in ("a", "b", "c"):
        who = _who(svc, name)
        for j in range(20):
            t = svc.next_task(who, "t")
            if t is None:
                break
            svc.answer(
                who, "t", t.item_id, ["cat", "dog", "bird"][int(rng.integers(3))], f"{name}{j}"
            )
    live = svc.live(svc.project_id("t"))
    assert isinstance(live.policy, DynamicOverlap)
    with live.lock, svc.db.read() as c:
        live.rebuild(c)
    fresh = new_service(tmp_path)  # a restart: a new service on the same file
    fresh.stats("t")
    other = fresh.live(fresh.project_id("t"))
    np.testing.assert_allclose(other.state.post, live.state.post)
    np.testing.assert_array_equal(other.state.n_answers, live.state.n_answers)


@pytest.mark.parametrize("policy", ["fixed", "dynamic"])
def test_two_processes_share_one_database(tmp_path: Path, policy: str) -> None:
    """Two services (separate caches and connections, as two server processes) and
    eight threads: no item beyond its overlap, no answer lost or twice."""
    svc1 = new_service(tmp_path)
    names = tuple(f"w{i}" for i in range(8))
    text_project(svc1, n_items=40, overlap=2, policy=policy, annotators=names)
    svc2 = LabelService(open_database(svc1.db.url, synchronous="NORMAL"))
    acked = label_concurrently((svc1, svc2), names, "t", per_person=40)
    frame = answers_frame(svc1, "t")
    assert len(frame) == len(acked) == 80  # every item filled to exactly its overlap
    assert frame.groupby("item").size().max() == 2
    assert not frame.duplicated(["item", "worker"]).any()
    with svc1.db.read() as c:
        counts = dict(c.execute(select(items.c.external_id, items.c.n_answers)).all())
    assert counts == frame.groupby("item").size().to_dict()


def test_exports_read_back_and_match_aggregate(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from labelwise.cli import app

    svc = new_service(tmp_path)
    text_project(svc, n_items=15, overlap=3, policy="dynamic", annotators=("a", "b", "c", "d"))
    rng = np.random.default_rng(1)
    for name in ("a", "b", "c", "d"):
        who = _who(svc, name)
        for j in range(15):
            t = svc.next_task(who, "t")
            if t is None:
                break
            svc.answer(
                who, "t", t.item_id, ["cat", "dog", "bird"][int(rng.integers(2))], f"{name}{j}"
            )
    frame = answers_frame(svc, "t")
    for fmt in ("csv", "jsonl", "parquet"):
        path = tmp_path / f"answers.{fmt}"
        path.write_bytes(frame_bytes(frame, fmt))
        ann = Annotations.read(path, classes=["cat", "dog", "bird"])
        assert ann.n_annotations == len(frame)
    cons = consensus_frame(svc, "t")
    out = tmp_path / "agg.csv"
    r = CliRunner().invoke(
        app,
        [
            "aggregate",
            str(tmp_path / "answers.csv"),
            "-m",
            "ds",
            "--classes",
            "cat,dog,bird",
            "-o",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    offline = pd.read_csv(out)
    assert offline["item"].tolist() == cons["item"].tolist()
    assert offline["label"].tolist() == cons["label"].tolist()
    np.testing.assert_allclose(offline["confidence"], cons["confidence"], rtol=1e-9)


def test_imports_and_label_studio_round_trip(tmp_path: Path) -> None:
    svc = new_service(tmp_path)
    folder = tmp_path / "proj"
    (folder / "imgs").mkdir(parents=True)
    for n in ("b.png", "a.jpg", "notes.txt"):
        (folder / "imgs" / n).write_bytes(b"x")
    svc.create_project(ProjectSpec(name="p", classes=["pos", "neg"], folder=str(folder)))
    table = pd.DataFrame(
        {"id": ["t1", "t2", "t3"], "text": ["good", "bad", "meh"], "gold": ["pos", None, None]}
    )
    assert svc.add_items("p", items_from_table(table)) == 3
    found = items_from_folder(folder, "imgs")
    assert [i.content for i in found] == ["imgs/a.jpg", "imgs/b.png"]
    assert svc.add_items("p", found) == 2
    with pytest.raises(Conflict, match="exists already"):
        svc.add_items("p", found)
    prior = pd.DataFrame(
        {"item": ["t2", "t2", "t3"], "worker": ["x", "y", "x"], "label": ["neg", "neg", "pos"]}
    )
    assert import_answers(svc, "p", prior) == 3
    with pytest.raises(Conflict, match="repeat answers"):
        import_answers(svc, "p", prior.iloc[:1])
    with pytest.raises(Invalid, match="row 0: label 'maybe'"):
        import_answers(
            svc, "p", pd.DataFrame({"item": ["t1"], "worker": ["x"], "label": ["maybe"]})
        )
    assert svc.stats("p")["answers"] == 3
    ls = export_label_studio(svc, "p")
    assert len(ls) == 5
    t2 = next(t for t in ls if t["data"].get("labelwise_id") == "t2")
    assert [a["result"][0]["value"]["choices"] for a in t2["annotations"]] == [["neg"], ["neg"]]
    assert t2["predictions"][0]["result"][0]["value"]["choices"] == ["neg"]
    # and back in, as a Label Studio user would move over
    svc.create_project(ProjectSpec(name="q", classes=["pos", "neg"], folder=str(folder)))
    n_items, n_answers = import_label_studio(svc, "q", json.loads(json.dumps(ls)))
    assert (n_items, n_answers) == (5, 3)
    back = answers_frame(svc, "q")
    assert sorted(back["label"]) == ["neg", "neg", "pos"]
    assert set(back["worker"]) == {"ls-x", "ls-y"}


def test_model_worker_fits_without_blocking(tmp_path: Path) -> None:
    from sklearn.datasets import load_digits

    d = load_digits()
    X, y = d.data[:300], d.target[:300]
    keep = y < 3
    X, y = X[keep], y[keep]
    svc = new_service(tmp_path)
    svc.create_project(
        ProjectSpec(
            name="m",
            classes=["0", "1", "2"],
            overlap=1,
            policy="model",
            policy_params={"confident": 0.6, "min_train": 10},
            model_every=20,
        )
    )
    svc.add_items(
        "m",
        [
            ItemIn(id=str(i), content=f"digit {i}", features=list(map(float, X[i])))
            for i in range(len(y))
        ],
    )
    _, _ = svc.create_person("a")
    svc.assign("m", ["a"])
    who = _who(svc, "a")
    pid = svc.project_id("m")
    live = svc.live(pid)
    worker = ModelWorker(svc)
    for j in range(60):
        t = svc.next_task(who, "m")
        assert t is not None
        svc.answer(who, "m", t.item_id, str(y[int(t.external_id)]), f"k{j}")
    assert isinstance(live.policy, ModelAssisted)
    assert worker.work(pid, live)
    assert live.model["status"] == "fitted" and live.model["agreement_with_consensus"] > 0.9
    assert live.state.item_log_prior is not None
    # the requests go on while the model is installed
    assert svc.next_task(who, "m") is not None
    stats = svc.stats("m")
    assert stats["model"]["status"] == "fitted"


def test_gold_items_wrap_any_policy(tmp_path: Path) -> None:
    svc = new_service(tmp_path)
    svc.create_project(ProjectSpec(name="g", classes=["a", "b"], overlap=2, policy="fixed"))
    svc.add_items(
        "g",
        [ItemIn(id="g1", content="x", gold="a")]
        + [ItemIn(id=f"r{i}", content="y") for i in range(3)],
    )
    svc.create_person("w")
    svc.assign("g", ["w"])
    who = _who(svc, "w")
    svc.next_task(who, "g")
    live = svc.live(svc.project_id("g"))
    assert isinstance(live.policy, GoldQuestions) and isinstance(live.policy.policy, FixedOverlap)
    seen = []
    while (t := svc.next_task(who, "g")) is not None:
        seen.append(t.external_id)
        svc.answer(who, "g", t.item_id, "a", t.external_id)
    assert sorted(seen) == ["g1", "r0", "r1", "r2"]
    s = svc.stats("g")
    assert s["gold_answers"] == 1 and s["annotators"][0]["gold_accuracy"] == 1.0
    with svc.db.read() as c:
        assert c.execute(select(items.c.n_answers).where(items.c.external_id == "g1")).scalar() == 0
        assert len(c.execute(select(answers)).all()) == 4


def test_the_core_never_imports_the_service() -> None:
    import subprocess
    import sys

    code = (
        "import sys, labelwise, labelwise.routing, labelwise.aggregate, labelwise.active, "
        "labelwise.scaling, labelwise.curate, labelwise.report, labelwise.datasets; "
        "import labelwise.cli.serve; "
        "bad = [m for m in sys.modules if m.startswith(('labelwise.service', 'fastapi', "
        "'sqlalchemy', 'uvicorn'))]; print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_demo_project_and_serve_setup(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from labelwise.cli import app
    from labelwise.service import create_app
    from labelwise.service.setup import make_demo

    svc = new_service(tmp_path)
    made = make_demo(svc, tmp_path / "demo", n_items=12, n_gold=2, annotators=2)
    c = TestClient(create_app(service=svc, start_worker=False))
    h = {"Authorization": f"Bearer {made.annotator_tokens['annotator1']}"}
    task = c.post("/api/projects/digits/next", headers=h).json()["task"]
    assert task["kind"] == "image"
    img = c.get(task["content"], headers=h)
    assert img.status_code == 200 and img.headers["content-type"] == "image/png"
    assert img.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert c.get(task["content"]).status_code == 401
    assert svc.stats("digits")["gold_items"] == 2
    # the CLI's set-up steps: an admin, and a project moved over from Label Studio
    ls = tmp_path / "ls.json"
    ls.write_text(json.dumps(export_label_studio(svc, "digits")))
    r = CliRunner().invoke(
        app,
        [
            "serve",
            "--folder",
            str(tmp_path / "demo"),
            "--setup-only",
            "--admin",
            "boss",
            "--from-labelstudio",
            str(ls),
            "--project",
            "moved",
            "--classes",
            ",".join(map(str, range(10))),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "admin 'boss' token: lw_" in r.output and "imported 12 items and 0 answers" in r.output


@pytest.mark.parametrize("policy", ["fixed", "dynamic"])
def test_next_tasks_of_one_batch_are_routed_together(tmp_path: Path, policy: str) -> None:
    """Next-task requests queued while the writer is busy are planned by one policy
    evaluation; every plan still passes the database checks: no item beyond its
    overlap, nobody gets an item twice, a skipped item is never offered again."""
    import threading

    svc = new_service(tmp_path)
    names = tuple(f"a{i}" for i in range(8))
    text_project(svc, n_items=20, overlap=2, policy=policy, annotators=names)
    who = [_who(svc, n) for n in names]
    assert svc.writer is not None
    first = svc.next_task(who[0], "t")
    assert first is not None
    svc.skip(who[0], "t", first.item_id)
    answered: list[tuple[str, int]] = []
    for rnd in range(4):
        gate = threading.Event()
        hold = svc.writer.submit(None, lambda conn, g=gate: (g.wait(10), None))
        futs = [svc.writer.submit(*svc.next_task_op(w, "t")) for w in who]
        gate.set()
        hold.result()
        tasks = [f.result() for f in futs]
        got = [t.item_id for t in tasks if t is not None]
        assert got and max(got.count(i) for i in got) <= 2  # leases within the overlap
        assert tasks[0] is None or tasks[0].item_id != first.item_id
        for w, t in zip(who, tasks, strict=True):
            if t is not None:
                svc.answer(w, "t", t.item_id, "cat", f"{w.name}-{rnd}")
                answered.append((w.name, t.item_id))
    assert svc.writer.plans >= 4 * 7  # the skipper routes alone
    assert len(answered) == len(set(answered))
    per_item = pd.Series([i for _, i in answered]).value_counts()
    assert per_item.max() <= 2
    assert (who[0].name, first.item_id) not in answered
    with svc.db.read() as c:
        n = dict(c.execute(select(items.c.id, items.c.n_answers)).all())
    assert all(n[i] == k for i, k in per_item.items())
    svc.close()
