"""The aggregation commands end to end: real files in, tables and files out, clear errors."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from _crowd import make_crowd
from labelwise.cli import app

runner = CliRunner()


@pytest.fixture
def files(tmp_path):
    ann, _truth = make_crowd(n_items=120, seed=7)
    frame = ann.to_frame()
    frame["item"] = "img-" + frame["item"].astype(str)
    frame["label"] = frame["label"].map({0: "cat", 1: "dog", 2: "bird", 3: "fish"})
    path = tmp_path / "annotations.csv"
    frame.to_csv(path, index=False)
    gold = pd.DataFrame(
        {"item": [f"img-{i}" for i in range(20)], "label": ["cat", "dog", "bird", "fish"] * 5}
    )
    gold_path = tmp_path / "gold.csv"
    gold.to_csv(gold_path, index=False)
    return path, gold_path


def test_help_on_every_command():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    names = [c.name or c.callback.__name__ for c in app.registered_commands]
    assert {"aggregate", "annotators", "demo"} <= set(names)
    for command in names:
        assert command in result.output
        sub = runner.invoke(app, [command, "--help"])
        assert sub.exit_code == 0, sub.output
        assert "Usage" in sub.output and "Example" in sub.output, command


@pytest.mark.parametrize("method", ["mv", "wmv", "ds", "onecoin", "glad", "mace"])
def test_aggregate_writes_one_row_per_item(files, tmp_path, method):
    path, _ = files
    out = tmp_path / f"labels-{method}.csv"
    result = runner.invoke(app, ["aggregate", str(path), "--method", method, "-o", str(out)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert list(frame.columns[:5]) == ["item", "label", "confidence", "n_annotations", "agreement"]
    assert len(frame) == 120 and set(frame["label"].dropna()) <= {"cat", "dog", "bird", "fish"}
    assert "mean agreement" in result.output and method in result.output


def test_aggregate_with_gold_clamps_gold_items(files, tmp_path):
    path, gold = files
    out = tmp_path / "labels.parquet"
    result = runner.invoke(app, ["aggregate", str(path), "--gold", str(gold), "-o", str(out)])
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out).set_index("item")
    g = pd.read_csv(gold).set_index("item")["label"]
    assert (frame.loc[g.index, "label"] == g).all()
    assert "gold items" in result.output


def test_annotators_table_and_csv(files, tmp_path):
    path, gold = files
    out = tmp_path / "quality.csv"
    result = runner.invoke(
        app, ["annotators", str(path), "--gold", str(gold), "-o", str(out), "--min-items", "5"]
    )
    assert result.exit_code == 0, result.output
    q = pd.read_csv(out)
    assert {"worker", "agreement", "gold_accuracy", "scored", "note", "ds skill"} <= set(q.columns)
    scored = q[q["scored"]]
    assert len(scored) > 0 and scored["quality"].is_monotonic_increasing
    assert q["scored"].is_monotonic_decreasing  # unscored annotators come last


def test_bad_input_is_one_clear_line_and_no_output_file(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("item,annotator,label\na,w,x\n")
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["aggregate", str(bad), "-o", str(out)])
    assert result.exit_code == 2
    assert "missing column(s) ['worker']" in result.output
    assert not out.exists()
    result = runner.invoke(
        app, ["aggregate", str(bad), "--worker-col", "annotator", "--classes", "x", "-o", str(out)]
    )
    assert result.exit_code == 2 and "only one class" in result.output
    result = runner.invoke(
        app, ["aggregate", str(bad), "--method", "nope", "--worker-col", "annotator"]
    )
    assert result.exit_code == 2 and "Unknown aggregation method 'nope'" in result.output


def test_duplicates_option(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("item,worker,label\na,w1,x\na,w1,y\nb,w2,y\na,w2,x\n")
    result = runner.invoke(app, ["aggregate", str(path), "-m", "mv"])
    assert result.exit_code == 2 and "more than once" in result.output
    result = runner.invoke(app, ["aggregate", str(path), "-m", "mv", "--duplicates", "keep_last"])
    assert result.exit_code == 0, result.output


def test_real_labelme_run(shared_data, tmp_path):
    ann = shared_data / "crowd" / "labelme" / "annotations.csv"
    gold = shared_data / "crowd" / "labelme" / "gold.csv"
    out = tmp_path / "labelme.csv"
    result = runner.invoke(app, ["aggregate", str(ann), "-m", "ds", "-o", str(out)])
    assert result.exit_code == 0, result.output
    pred = pd.read_csv(out).set_index("item")["label"]
    truth = pd.read_csv(gold).set_index("item")["label"]
    acc = (pred.reindex(truth.index) == truth).mean()
    assert acc > 0.78  # Dawid-Skene on LabelMe: about 0.79 (majority vote 0.76)
