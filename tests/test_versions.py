"""Versions: diffs with reasons, refusal of tampered files, atomic writes, exports, CLI."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from labelwise.aggregate import DawidSkene
from labelwise.cli import app
from labelwise.versions import (
    VersionError,
    VersionIntegrityError,
    create_version,
    diff_versions,
    export_version,
    list_versions,
    load_version,
)


@pytest.fixture
def labeled(crowd):
    ann, _truth = crowd
    model = DawidSkene().fit(ann)
    items = model.to_frame()[["item", "label", "confidence"]]
    items["label"] = items["label"].astype(str)
    items["split"] = np.where(np.arange(len(items)) % 5 == 0, "test", "train")
    return ann, items


def test_one_relabeled_item_is_exactly_what_the_diff_shows(tmp_path, labeled):
    ann, items = labeled
    agg = {"method": "DawidSkene", "params": {"random_state": 0}}
    v1 = create_version(tmp_path, items, annotations=ann, aggregation=agg, message="round 1")
    classes = sorted(items["label"].astype(str).unique())
    target = str(items["item"].iloc[7])
    old = str(items["label"].iloc[7])
    new = next(c for c in classes if c != old)
    relabeled = items.copy()
    relabeled.loc[7, "label"] = new
    decisions = pd.DataFrame(
        {"item": [target], "action": ["relabeled"], "reason": ["label issue, annotators re-asked"]}
    )
    v2 = create_version(tmp_path, relabeled, annotations=ann, aggregation=agg, decisions=decisions)
    d = diff_versions(v1, v2)
    assert d.relabeled.to_dict("records") == [
        {
            "item": target,
            "old_label": old,
            "new_label": new,
            "reason": "relabeled: label issue, annotators re-asked",
        }
    ]
    assert len(d.added) == len(d.removed) == len(d.moved) == 0
    pc = d.per_class.set_index("class")
    assert pc.loc[old, "change"] == -1 and pc.loc[new, "change"] == 1
    assert pc["change"].abs().sum() == 2
    assert v2.manifest["parent"] == "v1"
    assert diff_versions(v1, v1).is_empty


def test_removed_and_added_items_carry_their_reasons(tmp_path, labeled):
    _ann, items = labeled
    v1 = create_version(tmp_path, items.iloc[:-1], name="before")
    dup_of = items["item"].iloc[0]
    gone = str(items["item"].iloc[3])
    decisions = pd.DataFrame(
        {"item": [gone], "action": ["removed"], "reason": [f"near duplicate of item {dup_of}"]}
    )
    v2 = create_version(tmp_path, items, decisions=decisions, name="after")
    d = diff_versions(v1, v2)
    assert d.removed[["item", "reason"]].values.tolist() == [
        [gone, f"removed: near duplicate of item {dup_of}"]
    ]
    assert d.added["item"].tolist() == [str(items["item"].iloc[-1])]
    assert v2.n_items == len(items) - 1
    assert v2.items.set_index("item").loc[gone, "status"] == "removed"


def test_a_changed_file_is_refused(tmp_path, labeled):
    ann, items = labeled
    v = create_version(tmp_path, items, annotations=ann)
    frame = pd.read_parquet(v.path / "items.parquet")
    frame.loc[0, "label"] = "tampered"
    frame.to_parquet(v.path / "items.parquet", index=False)
    with pytest.raises(
        VersionIntegrityError, match=r"items.parquet no longer matches its manifest"
    ):
        load_version(tmp_path, v.name)
    (v.path / "annotations.parquet").unlink()
    with pytest.raises(VersionIntegrityError, match="missing annotations.parquet"):
        load_version(tmp_path, v.name)


def test_versions_are_immutable_and_named(tmp_path, labeled):
    _ann, items = labeled
    create_version(tmp_path, items, name="v1")
    with pytest.raises(VersionError, match="already exists"):
        create_version(tmp_path, items, name="v1")
    with pytest.raises(VersionError, match="not usable"):
        create_version(tmp_path, items, name="../escape")
    with pytest.raises(VersionError, match="no version 'v9'.*'v1'"):
        load_version(tmp_path, "v9")
    bad = items.copy()
    bad.loc[2, "label"] = None
    with pytest.raises(VersionError, match=r"row 2\) has no label"):
        create_version(tmp_path, bad)
    assert list_versions(tmp_path)["name"].tolist() == ["v1"]


KILLED_WRITE = textwrap.dedent(
    """
    import os, signal, sys
    import pandas as pd
    from labelwise.versions import store

    real = store._write_parquet
    def write_then_die(frame, path):
        meta = real(frame, path)
        if path.name == "annotations.parquet":  # items written, manifest not yet
            os.kill(os.getpid(), signal.SIGKILL)
        return meta
    store._write_parquet = write_then_die
    items = pd.DataFrame({"item": ["a", "b"], "label": ["x", "y"]})
    ann = pd.DataFrame({"item": ["a", "b"], "worker": ["w", "w"], "label": ["x", "y"]})
    store.create_version(sys.argv[1], items, annotations=ann, name="v2")
    """
)


def test_a_killed_write_leaves_no_half_version(tmp_path, labeled):
    _ann, items = labeled
    create_version(tmp_path, items, name="v1")
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_WRITE, str(tmp_path)], capture_output=True, timeout=120
    )
    assert proc.returncode == -9, proc.stderr.decode()
    assert not (tmp_path / "v2").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]  # debris, hidden
    assert list_versions(tmp_path)["name"].tolist() == ["v1"]
    v2 = create_version(tmp_path, items, name="v2")  # the next write clears the debris
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
    assert load_version(tmp_path, "v2").n_items == v2.n_items


def test_exports(tmp_path, labeled):
    _ann, items = labeled
    v = create_version(tmp_path / "versions", items)
    export_version(v, tmp_path / "out.csv", format="csv")
    back = pd.read_csv(tmp_path / "out.csv")
    assert len(back) == len(items) and {"label", "split", "confidence"} <= set(back.columns)
    export_version(v, tmp_path / "out.parquet")
    assert len(pd.read_parquet(tmp_path / "out.parquet")) == len(items)
    rng = np.random.default_rng(0)
    images = {str(i): rng.integers(0, 255, (8, 8), dtype=np.uint8) for i in items["item"]}
    folder = export_version(v, tmp_path / "imgs", format="imagefolder", images=images)
    written = sorted(folder.rglob("*.png"))
    assert len(written) == len(items)
    first = items.iloc[0]
    assert (folder / first["split"] / str(first["label"]) / f"{first['item']}.png").exists()
    with pytest.raises(VersionError, match="already exists"):
        export_version(v, folder, format="imagefolder", images=images)
    with pytest.raises(ValueError, match="no image for item"):
        export_version(v, tmp_path / "imgs2", format="imagefolder", images={})
    assert not (tmp_path / "imgs2").exists()


def test_export_hugging_face(tmp_path, labeled):
    datasets = pytest.importorskip("datasets")
    _ann, items = labeled
    v = create_version(tmp_path / "versions", items)
    out = export_version(v, tmp_path / "hf", format="hf")
    dd = datasets.load_from_disk(str(out))
    assert sorted(dd) == ["test", "train"]
    assert sum(len(dd[k]) for k in dd) == len(items)


def test_cli_split_and_version_round_trip(tmp_path, crowd):
    ann, _ = crowd
    ann_path = tmp_path / "ann.csv"
    ann.to_frame().to_csv(ann_path, index=False)
    runner = CliRunner()
    items = ann.to_frame().drop_duplicates("item")[["item", "label"]]
    items["patient"] = [f"p{i % 17}" for i in range(len(items))]
    items.to_csv(tmp_path / "items.csv", index=False)
    root = str(tmp_path / "versions")
    res = runner.invoke(
        app,
        [
            "split",
            str(tmp_path / "items.csv"),
            "--group-col",
            "patient",
            "--method",
            "balanced",
            "--tolerance",
            "0.1",
            "-o",
            str(tmp_path / "split.csv"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "Items per class and split" in res.output
    res = runner.invoke(
        app,
        [
            "version",
            "create",
            "--annotations",
            str(ann_path),
            "--method",
            "mv",
            "--split",
            str(tmp_path / "split.csv"),
            "-m",
            "round 1",
            "--root",
            root,
        ],
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        app,
        ["version", "create", "--annotations", str(ann_path), "--method", "ds", "--root", root],
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["version", "diff", "v1", "v2", "--root", root])
    assert res.exit_code == 0, res.output
    assert "Per class" in res.output and "moved between splits" in res.output
    res = runner.invoke(app, ["version", "show", "v1", "--root", root])
    assert "every file matches" in res.output
    res = runner.invoke(app, ["version", "list", "--root", root])
    assert "round 1" in res.output
    out = tmp_path / "train.csv"
    res = runner.invoke(
        app, ["version", "export", "v1", str(out), "--format", "csv", "--root", root]
    )
    assert res.exit_code == 0, res.output
    assert set(pd.read_csv(out)["split"]) == {"train", "val", "test"}
    res = runner.invoke(app, ["version", "show", "v7", "--root", root])
    assert res.exit_code == 2 and "no version 'v7'" in res.output
