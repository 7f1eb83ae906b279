"""Each consensus export of the labeling service is a dataset version that
``labelwise version show`` verifies; answering writes none."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from _service import new_service, text_project
from labelwise.cli import app as cli
from labelwise.service import create_app
from labelwise.versions import diff_versions, list_versions, load_version

CLASSES = ("cat", "dog", "bird")


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _answer_all(c: TestClient, token: str, project: str, pick) -> int:  # type: ignore[no-untyped-def]
    n = 0
    while True:
        task = c.post(f"/api/projects/{project}/next", headers=_h(token)).json()["task"]
        if task is None:
            return n
        r = c.post(
            f"/api/projects/{project}/answers",
            json={"item_id": task["item_id"], "label": pick(task["external_id"]),
                  "client_key": f"{token[-6:]}-{task['item_id']}"},
            headers=_h(token),
        )  # fmt: skip
        assert r.status_code == 201, r.text
        n += 1


def test_consensus_export_is_a_version_show_verifies(tmp_path: Path) -> None:
    folder = tmp_path / "proj"
    folder.mkdir()
    svc = new_service(tmp_path)
    tokens = text_project(svc, "t", n_items=8, overlap=2, annotators=("a", "b"),
                          folder=str(folder))  # fmt: skip
    c = TestClient(create_app(service=svc, start_worker=False))
    truth = {f"i{j:03d}": CLASSES[j % 3] for j in range(8)}
    n = _answer_all(c, tokens["a"], "t", truth.get)
    n += _answer_all(c, tokens["b"], "t", lambda i: "bird" if i == "i000" else truth[i])
    assert n == 16
    root = folder / "versions" / "t"
    admin = _h(tokens["admin"])
    assert c.get("/api/admin/projects/t/export/answers.csv", headers=admin).status_code == 200
    assert not root.exists()  # answers and answer exports write no version

    r = c.get("/api/admin/projects/t/export/consensus.csv", headers=admin)
    assert r.status_code == 200
    assert r.headers["x-labelwise-version"] == "v1"
    assert Path(r.headers["x-labelwise-version-path"]) == root / "v1"
    shown = CliRunner().invoke(cli, ["version", "show", "v1", "--root", str(root)])
    assert shown.exit_code == 0, shown.output
    v1 = load_version(root, "v1")
    assert r.headers["x-labelwise-version-sha256"] == v1.manifest_sha256
    csv = pd.read_csv(io.StringIO(r.text))
    items = v1.items.set_index("item").loc[csv["item"]]
    assert items["label"].tolist() == csv["label"].tolist()
    pd.testing.assert_series_equal(
        items["confidence"].reset_index(drop=True), csv["confidence"], check_names=False
    )
    assert len(v1.annotations) == 16 and set(v1.annotations["worker"]) == {"a", "b"}
    assert v1.manifest["aggregation"]["method"] == "mv"
    assert v1.manifest["aggregation"]["params"]["routing"] == "fixed"

    # the same answers exported again (any format) name the same version
    again = c.get("/api/admin/projects/t/export/consensus.parquet", headers=admin)
    assert again.headers["x-labelwise-version"] == "v1"
    assert list_versions(root)["name"].tolist() == ["v1"]

    # an undone answer changes the consensus: the next export is a new version
    assert c.post("/api/projects/t/undo", headers=_h(tokens["b"])).status_code == 200
    third = c.get("/api/admin/projects/t/export/consensus.jsonl", headers=admin)
    assert third.headers["x-labelwise-version"] == "v2"
    v2 = load_version(root, "v2")
    assert v2.manifest["parent"] == "v1" and len(v2.annotations) == 15
    n1 = v1.items.set_index("item")["n_annotations"]
    n2 = v2.items.set_index("item")["n_annotations"].reindex(n1.index, fill_value=0)
    assert (n1 - n2).tolist().count(1) == 1 and (n1 - n2).sum() == 1
    assert diff_versions(v1, v2).removed.empty
    svc.close()


def test_project_without_folder_keeps_versions_beside_the_database(tmp_path: Path) -> None:
    svc = new_service(tmp_path)
    tokens = text_project(svc, "nofolder", n_items=3, overlap=1, annotators=("a",))
    c = TestClient(create_app(service=svc, start_worker=False))
    admin = _h(tokens["admin"])
    empty = c.get("/api/admin/projects/nofolder/export/consensus.csv", headers=admin)
    assert "x-labelwise-version" not in empty.headers  # no answer, nothing to version
    _answer_all(c, tokens["a"], "nofolder", lambda i: "dog")
    r = c.get("/api/admin/projects/nofolder/export/consensus.csv", headers=admin)
    assert r.headers["x-labelwise-version"] == "v1"
    v = load_version(tmp_path / "versions" / "nofolder", "v1")
    assert v.n_items == 3 and set(v.items["label"]) == {"dog"}
    svc.close()
