"""Data in and out of a project: exports that ``Annotations.read`` and ``labelwise
aggregate`` read back, imports of items and answers, and Label Studio's JSON format
both ways (so a Label Studio project moves over in one command, and back).

Exports
    ``answers``: one row per live answer ``item, worker, label, created_at,
    duration_ms, seq, source, client_key``. ``consensus``: the output of ``labelwise aggregate``
    on that very table (Dawid-Skene, or majority vote for fixed-overlap projects) with
    the project's classes declared, so the two agree exactly.
"""

from __future__ import annotations

import io
import json
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, insert, select, update

from labelwise.aggregate import make_aggregator
from labelwise.annotations import Annotations
from labelwise.service.auth import Conflict, Invalid
from labelwise.service.core import LabelService
from labelwise.service.db import answers, items, people, projects
from labelwise.service.schema import ItemIn

__all__ = [
    "FORMATS",
    "answers_frame",
    "consensus_frame",
    "export_label_studio",
    "frame_bytes",
    "import_answers",
    "import_label_studio",
    "items_from_folder",
    "items_from_table",
]

FORMATS = {
    "csv": "text/csv",
    "jsonl": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp"}


def answers_frame(svc: LabelService, project: str) -> pd.DataFrame:
    """Every live (not undone) answer of ``project``, oldest first."""
    pid = svc.project_id(project)
    p = svc.project(project)
    with svc.db.read() as conn:
        rows = conn.execute(
            select(
                items.c.external_id.label("item"),
                people.c.name.label("worker"),
                answers.c.label,
                answers.c.created_at,
                answers.c.duration_ms,
                answers.c.seq,
                answers.c.source,
                answers.c.client_key,
            )
            .join(items, items.c.id == answers.c.item_id)
            .join(people, people.c.id == answers.c.person_id)
            .where(answers.c.project_id == pid, answers.c.undone.is_(False))
            .order_by(answers.c.seq)
        ).all()
    frame = pd.DataFrame(
        rows,
        columns=[
            "item",
            "worker",
            "label",
            "created_at",
            "duration_ms",
            "seq",
            "source",
            "client_key",
        ],
    )
    classes = list(p.classes)
    frame["label"] = [classes[c] for c in frame["label"]]
    frame["duration_ms"] = frame["duration_ms"].astype("Int64")
    return frame


def consensus_method(policy: str) -> str:
    """The aggregator a project's consensus export uses."""
    return "mv" if policy == "fixed" else "ds"


def consensus_frame(
    svc: LabelService, project: str, answers: pd.DataFrame | None = None
) -> pd.DataFrame:
    """``labelwise aggregate`` on the answers export (classes declared); ``answers``:
    that export when the caller has read it already."""
    p = svc.project(project)
    frame = answers_frame(svc, project) if answers is None else answers
    if frame.empty:
        return pd.DataFrame(columns=["item", "label", "confidence", "n_annotations", "agreement"])
    ann = Annotations.from_frame(frame, classes=list(p.classes))
    model = make_aggregator(consensus_method(p.policy))
    with warnings.catch_warnings():  # convergence notes belong to the CLI, not a download
        warnings.simplefilter("ignore")
        model.fit(ann)
    return model.to_frame()


def frame_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """``frame`` written as csv, jsonl or parquet."""
    if fmt == "csv":
        return frame.to_csv(index=False).encode()
    if fmt == "jsonl":
        return frame.to_json(orient="records", lines=True).encode()
    if fmt == "parquet":
        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        return buf.getvalue()
    raise Invalid(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}.")


def items_from_table(frame: pd.DataFrame) -> list[ItemIn]:
    """Items from a table with ``id`` and ``text`` (or ``content`` and ``kind``) columns,
    optional ``gold``; any other numeric columns named ``f0, f1, ...`` are features."""
    if "id" not in frame.columns:
        raise Invalid(f"an items table needs an 'id' column; got {list(frame.columns)}.")
    col = "text" if "text" in frame.columns else "content"
    if col not in frame.columns:
        raise Invalid("an items table needs a 'text' or a 'content' column.")
    fcols = [c for c in frame.columns if str(c).startswith("f") and str(c)[1:].isdigit()]
    out = []
    for row_no, row in enumerate(frame.to_dict("records")):
        kind = row.get("kind") or "text"
        gold = row.get("gold")
        try:
            out.append(
                ItemIn(
                    id=str(row["id"]),
                    kind=kind,
                    content=row[col],
                    gold=None if gold is None or gold != gold else str(gold),
                    features=[float(row[c]) for c in fcols] or None,
                )
            )
        except ValueError as e:
            raise Invalid(f"items table row {row_no}: {e}") from None
    return out


def items_from_folder(project_folder: str | Path, sub: str = ".") -> list[ItemIn]:
    """One image item per image file under ``project_folder/sub`` (sorted by path)."""
    root = Path(project_folder).resolve()
    base = (root / sub).resolve()
    if not base.is_relative_to(root) or not base.is_dir():
        raise Invalid(f"image folder {sub!r} is not a folder inside the project folder.")
    files = sorted(f for f in base.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file())
    return [
        ItemIn(id=str(f.relative_to(root)), kind="image", content=str(f.relative_to(root)))
        for f in files
    ]


def import_answers(
    svc: LabelService, project: str, frame: pd.DataFrame, *, source: str = "import"
) -> int:
    """Add existing answers ``item, worker, label`` (all or none); unknown workers are
    created without a token. Returns how many were added."""
    for c in ("item", "worker", "label"):
        if c not in frame.columns:
            raise Invalid(f"an answers table needs columns item, worker, label; missing {c!r}.")
    pid = svc.project_id(project)
    p = svc.project(project)
    classes = list(p.classes)
    now = time.time()

    def op(conn: Connection) -> tuple[int, None]:
        ids = dict(
            conn.execute(
                select(items.c.external_id, items.c.id).where(items.c.project_id == pid)
            ).all()
        )
        gold = dict(
            conn.execute(select(items.c.id, items.c.gold).where(items.c.project_id == pid)).all()
        )
        seq = int(
            conn.execute(select(projects.c.answer_seq).where(projects.c.id == pid)).scalar_one()
        )
        workers: dict[str, int] = {}
        seen: set[tuple[int, int]] = set()
        rows = []
        counts: dict[int, int] = {}
        for n, r in enumerate(frame[["item", "worker", "label"]].itertuples(index=False)):
            item_id = ids.get(str(r.item))
            if item_id is None:
                raise Invalid(f"answers row {n}: item {str(r.item)[:80]!r} is not in {project!r}.")
            if str(r.label) not in classes:
                raise Invalid(
                    f"answers row {n}: label {str(r.label)[:80]!r} is not one of "
                    f"{', '.join(classes)}."
                )
            name = str(r.worker)
            if name not in workers:
                workers[name] = svc._person_by_name(conn, name, create=True)
            key = (item_id, workers[name])
            if key in seen:
                raise Conflict(f"answers row {n}: {name!r} answered {str(r.item)!r} twice.")
            seen.add(key)
            seq += 1
            rows.append(
                dict(
                    project_id=pid,
                    item_id=item_id,
                    person_id=workers[name],
                    label=classes.index(str(r.label)),
                    client_key=f"{source}-{pid}-{seq}",
                    seq=seq,
                    created_at=now,
                    duration_ms=None,
                    undone=False,
                    source=source,
                )
            )
            if gold[item_id] is None:
                counts[item_id] = counts.get(item_id, 0) + 1
        live_dupes = conn.execute(
            select(answers.c.item_id, answers.c.person_id).where(
                answers.c.project_id == pid, answers.c.undone.is_(False)
            )
        ).all()
        clash = seen & {(a.item_id, a.person_id) for a in live_dupes}
        if clash:
            raise Conflict(f"{len(clash)} imported answers repeat answers already in {project!r}.")
        if rows:
            conn.execute(insert(answers), rows)
            for item_id, c in counts.items():
                conn.execute(
                    update(items)
                    .where(items.c.id == item_id)
                    .values(n_answers=items.c.n_answers + c)
                )
            conn.execute(
                update(projects)
                .where(projects.c.id == pid)
                .values(answer_seq=seq, version=projects.c.version + 1)
            )
        return len(rows), None

    return int(svc._write(pid, op))


def _ls_choice(annotation: dict[str, Any]) -> str | None:
    for res in annotation.get("result") or []:
        choices = (res.get("value") or {}).get("choices")
        if res.get("type") == "choices" and choices:
            return str(choices[0])
    return None


def import_label_studio(
    svc: LabelService, project: str, tasks: list[dict[str, Any]]
) -> tuple[int, int]:
    """Import a Label Studio JSON export (tasks with ``data`` and ``annotations``):
    items first, then their choice annotations as answers by ``ls-<completed_by>``.
    Returns ``(items, answers)`` added."""
    if not isinstance(tasks, list):
        raise Invalid("a Label Studio export is a JSON list of tasks.")
    new_items: list[ItemIn] = []
    rows = []
    for n, t in enumerate(tasks):
        if not isinstance(t, dict) or not isinstance(t.get("data"), dict):
            raise Invalid(f"Label Studio task {n}: no 'data' object.")
        data = t["data"]
        tid = str(t.get("id", n))
        try:
            if isinstance(data.get("text"), str):
                new_items.append(ItemIn(id=tid, kind="text", content=data["text"]))
            elif isinstance(data.get("image"), str):
                img = data["image"]
                kind = "url" if img.startswith(("http://", "https://")) else "image"
                new_items.append(ItemIn(id=tid, kind=kind, content=img))
            else:
                new_items.append(ItemIn(id=tid, kind="json", content=data))
        except ValueError as e:
            raise Invalid(f"Label Studio task {n}: {e}") from None
        for a in t.get("annotations") or []:
            if a.get("was_cancelled"):
                continue
            label = _ls_choice(a)
            if label is None:
                continue
            who = a.get("completed_by")
            if isinstance(who, dict):
                who = who.get("email") or who.get("id")
            rows.append({"item": tid, "worker": f"ls-{who}", "label": label})
    n_items = svc.add_items(project, new_items)
    n_answers = (
        import_answers(
            svc,
            project,
            pd.DataFrame(rows, columns=["item", "worker", "label"]),
            source="labelstudio",
        )
        if rows
        else 0
    )
    return n_items, n_answers


def export_label_studio(svc: LabelService, project: str) -> list[dict[str, Any]]:
    """The project as Label Studio tasks: ``data``, one annotation per answer (a
    ``choices`` result) and the consensus as a prediction with its confidence."""
    pid = svc.project_id(project)
    p = svc.project(project)
    frame = answers_frame(svc, project)
    cons = consensus_frame(svc, project).set_index("item") if not frame.empty else None
    with svc.db.read() as conn:
        rows = conn.execute(
            select(items.c.external_id, items.c.kind, items.c.content)
            .where(items.c.project_id == pid)
            .order_by(items.c.id)
        ).all()
    by_item = {k: g for k, g in frame.groupby("item")} if not frame.empty else {}
    out = []
    for n, r in enumerate(rows):
        if r.kind == "json":
            data = json.loads(r.content)
        elif r.kind in ("image", "url"):
            data = {"image": r.content}
        else:
            data = {"text": r.content}
        task: dict[str, Any] = {"id": n + 1, "data": {**data, "labelwise_id": r.external_id}}
        g = by_item.get(r.external_id)
        task["annotations"] = [
            {
                "completed_by": a.worker,
                "created_at": a.created_at,
                "result": [
                    {
                        "from_name": "label",
                        "to_name": "item",
                        "type": "choices",
                        "value": {"choices": [a.label]},
                    }
                ],
            }
            for a in ([] if g is None else g.itertuples())
        ]
        if cons is not None and r.external_id in cons.index:
            c = cons.loc[r.external_id]
            task["predictions"] = [
                {
                    "model_version": f"labelwise-{consensus_method(p.policy)}",
                    "score": float(c["confidence"]),
                    "result": [
                        {
                            "from_name": "label",
                            "to_name": "item",
                            "type": "choices",
                            "value": {"choices": [str(c["label"])]},
                        }
                    ],
                }
            ]
        out.append(task)
    return out
