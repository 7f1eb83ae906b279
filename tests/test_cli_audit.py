"""``labelwise audit`` and ``labelwise prune`` end to end on real files, and the report section."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits
from typer.testing import CliRunner

from labelwise.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("audit")
    X, y = load_digits(return_X_y=True)
    X, y = X[:600].copy(), y[:600].copy()
    X[599] = X[0]  # an exact duplicate
    y[599] = y[0]
    names = np.array(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
        dtype=object,
    )
    given = y.copy()
    given[[10, 20, 30]] = (y[[10, 20, 30]] + 5) % 10  # clear flips
    np.save(d / "X.npy", X)
    pd.DataFrame({"label": names[given]}).to_csv(d / "y.csv", index=False)
    np.save(d / "Xt.npy", np.vstack([X[[5, 6]], np.full((1, 64), 7.0)]))
    ann = pd.DataFrame(
        [
            (i, w, names[y[i]] if w != "bad" else names[(y[i] + 1) % 10])
            for i in range(600)
            for w in ("a", "b", "bad")
        ],
        columns=["item", "worker", "label"],
    )
    ann.to_csv(d / "ann.csv", index=False)
    return d


def test_audit_writes_one_row_per_flagged_item(files):
    out = files / "issues.csv"
    res = runner.invoke(
        app,
        [
            "audit",
            "--features",
            str(files / "X.npy"),
            "--labels",
            str(files / "y.csv"),
            "--test-features",
            str(files / "Xt.npy"),
            "--annotations",
            str(files / "ann.csv"),
            "--folds",
            "3",
            "-o",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "label_issue" in res.output and "test_leakage" in res.output
    frame = pd.read_csv(out)
    labels = frame[frame["issue"] == "label_issue"]
    assert {10, 20, 30} <= set(labels["row"])
    assert labels.set_index("row").loc[10, "given"] == "five"  # the user's names come back
    exact = frame[frame["issue"] == "exact_duplicate"]
    assert exact[["related", "row"]].values.tolist() == [[0, 599]]
    leak = frame[frame["issue"] == "test_leakage"]
    assert set(leak["row"]) == {0, 1} and set(leak["related"]) == {5, 6}


def test_audit_clear_errors(files, tmp_path):
    bad = tmp_path / "X.npy"
    X = np.load(files / "X.npy")
    X[3, 2] = np.nan
    np.save(bad, X)
    res = runner.invoke(app, ["audit", "--features", str(bad)])
    assert res.exit_code == 2
    assert "row 3, column 2" in res.output
    short = tmp_path / "y.csv"
    pd.DataFrame({"label": [1, 2]}).to_csv(short, index=False)
    res = runner.invoke(app, ["audit", "--features", str(files / "X.npy"), "--labels", str(short)])
    assert res.exit_code == 2
    assert "has 2 rows but the features have 600" in res.output


def test_prune_command(files):
    out = files / "kept.csv"
    res = runner.invoke(
        app,
        [
            "prune",
            "--features",
            str(files / "X.npy"),
            "--labels",
            str(files / "y.csv"),
            "--fraction",
            "0.5",
            "-o",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    kept = pd.read_csv(out)
    assert len(kept) == 300 and kept["row"].is_unique
    res = runner.invoke(
        app,
        [
            "prune",
            "--features",
            str(files / "X.npy"),
            "--labels",
            str(files / "y.csv"),
            "--fraction",
            "0.2",
            "--strategy",
            "class_balanced",
            "-o",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["prune", "--features", str(files / "X.npy"), "--fraction", "2"])
    assert res.exit_code == 2 and "'fraction' parameter of prune" in res.output


def test_audit_report_section_fast(tmp_path):
    from labelwise.datasets import load_digits_crowd
    from labelwise.report.demo import DemoContext
    from labelwise.report.sections.audit import build_section

    ctx = DemoContext(crowd=load_digits_crowd(), fast=True, out_dir=tmp_path)
    section = build_section(ctx)
    assert section.key == "audit"
    assert "label issues flagged" in section.summary
    kinds = [type(b).__name__ for b in section.blocks]
    assert kinds.count("Figure") == 2  # gallery and near-duplicate pairs
