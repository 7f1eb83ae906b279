"""``labelwise select`` end to end on real files."""

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
    d = tmp_path_factory.mktemp("select")
    X, y = load_digits(return_X_y=True)
    X, y = X[:500], y[:500]
    np.save(d / "X.npy", X)
    names = np.array(list("abcdefghij"))[y].astype(object)
    names[60:] = None  # blank = unlabeled
    pd.DataFrame({"label": names}).to_csv(d / "y.csv", index=False)
    pd.DataFrame({"label": [None] * 500}).to_csv(d / "none.csv", index=False)
    return d


def _select(d, *extra):
    return runner.invoke(
        app, ["select", "--features", str(d / "X.npy"), "--labels", str(d / "y.csv"), *extra]
    )


def test_select_prints_and_writes_unlabeled_ids(files) -> None:
    out = files / "next.csv"
    res = _select(files, "--strategy", "margin", "-n", "12", "-o", str(out))
    assert res.exit_code == 0, res.output
    assert "Label next: 12 of 440 unlabeled rows" in res.output
    table = pd.read_csv(out)
    assert list(table.columns) == ["rank", "id", "predicted", "confidence"]
    assert table["id"].is_unique and (table["id"] >= 60).all()
    assert set(table["predicted"]) <= set("abcdefghij")


def test_select_with_seals_is_repeatable(files) -> None:
    a = _select(files, "--seals-k", "10", "-n", "8", "-o", str(files / "a.csv"))
    _select(files, "--seals-k", "10", "-n", "8", "-o", str(files / "b.csv"))
    assert a.exit_code == 0, a.output
    assert "SEALS candidates (k=10)" in a.output
    assert pd.read_csv(files / "a.csv").equals(pd.read_csv(files / "b.csv"))


def test_select_cold_start_without_labels(files) -> None:
    res = runner.invoke(
        app,
        [
            "select",
            "--features",
            str(files / "X.npy"),
            "--labels",
            str(files / "none.csv"),
            "-n",
            "10",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "cold start" in res.output


def test_select_errors(files) -> None:
    res = _select(files, "-n", "1000")
    assert res.exit_code == 2
    assert "a batch of 1000 is larger than the 440 unlabeled rows" in res.output
    res = _select(files, "--strategy", "magic")
    assert res.exit_code == 2 and "'strategy' parameter of ActiveLearner" in res.output
    res = _select(files, "--strategy", "target", "--target", "z")
    assert res.exit_code == 2 and "--target 'z' is not a labeled class" in res.output
