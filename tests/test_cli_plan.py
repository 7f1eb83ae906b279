"""``labelwise plan`` end to end on real files."""

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
    d = tmp_path_factory.mktemp("plan")
    X, y = load_digits(return_X_y=True)
    X, y = X[:700], y[:700]
    np.save(d / "X.npy", X)
    labels = pd.Series(y.astype(object))
    labels[650:] = None  # unlabeled rows are left out of the curve
    pd.DataFrame({"label": labels}).to_csv(d / "y.csv", index=False)
    # a quarter of the labels wrong: measured accuracy cannot pass about 0.8
    rng = np.random.default_rng(0)
    noisy = np.where(rng.random(700) < 0.25, rng.integers(0, 10, 700), y)
    pd.DataFrame({"label": noisy}).to_csv(d / "noisy.csv", index=False)
    return d / "X.npy", d / "y.csv"


def _plan(files, *extra):
    X, y = files
    return runner.invoke(
        app,
        [
            "plan",
            "--features",
            str(X),
            "--labels",
            str(y),
            "--seeds",
            "2",
            "--sizes",
            "5",
            "--cost-per-label",
            "0.04",
            *extra,
        ],
    )


def test_plan_prints_requirement_and_money(files, tmp_path):
    out = tmp_path / "plan.csv"
    res = _plan(files, "--target-accuracy", "0.9", "--output", str(out))
    assert res.exit_code == 0, res.output
    assert "labeled items" in res.output and "650" in res.output
    assert "dynamic overlap" in res.output and "cheapest strategy reaching 0.9:" in res.output
    table = pd.read_csv(out)
    assert len(table) == 4 and {"money", "money low", "money high"} <= set(table.columns)


def test_plan_reports_unreachable_target(files):
    res = _plan((files[0], files[1].with_name("noisy.csv")), "--target-accuracy", "0.95")
    assert res.exit_code == 0, res.output
    assert "unreachable" in res.output
    assert "none (the target is unreachable with this data)" in res.output


def test_plan_errors(files, tmp_path):
    res = _plan(files, "--target-accuracy", "0.9", "--estimator", "svm")
    assert res.exit_code == 2 and "--estimator must be one of" in res.output
    res = _plan((tmp_path / "missing.npy", files[1]), "--target-accuracy", "0.9")
    assert res.exit_code == 2 and "does not exist" in res.output
    res = _plan(files, "--target-accuracy", "0.9", "--cost-per-label", "-1")
    assert res.exit_code == 2 and "'--cost-per-label': must be greater than 0" in res.output
