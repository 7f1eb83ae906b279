"""``labelwise plan`` end to end on real files."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits
from typer.testing import CliRunner

from labelwise.cli import app
from test_scaling_curves import KnownCurve, known_curve_data

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


def test_plan_reports_unreachable_target(files, tmp_path):
    # a model that levels off at 0.75 (1 - 2 n^-0.5 - 0.25): 0.95 is out of reach
    X, y = known_curve_data(n=4000)
    np.save(tmp_path / "X.npy", X)
    pd.DataFrame({"label": y}).to_csv(tmp_path / "y.csv", index=False)
    with (tmp_path / "model.pkl").open("wb") as fh:
        pickle.dump(KnownCurve(C=0.25), fh)
    args = ("--estimator-file", str(tmp_path / "model.pkl"), "--target-accuracy", "0.95")
    res = _plan((tmp_path / "X.npy", tmp_path / "y.csv"), *args, "--seeds", "3", "--sizes", "8")
    assert res.exit_code == 0, res.output
    assert "unreachable" in res.output
    assert "none (the target is unreachable with this data)" in res.output
    # a quarter of the labels wrong, two seeds at five sizes: the plan names no strategy
    # and prints no inf
    res = _plan((files[0], files[1].with_name("noisy.csv")), "--target-accuracy", "0.95")
    assert res.exit_code == 0, res.output
    assert "reaching 0.95: none" in res.output and "inf" not in res.output


def test_plan_already_reached_prices_nothing(files, tmp_path):
    out = tmp_path / "plan.csv"
    res = _plan(files, "--target-accuracy", "0.5", "--output", str(out))
    assert res.exit_code == 0, res.output
    assert "already reached" in res.output
    table = pd.read_csv(out)
    assert (table["money"] == 0).all() and (table["items to label"] == 0).all()
    assert (table["verdict"] == "already reached").all()


def test_plan_for_the_users_model(tmp_path):
    # the planner must use the model it is given: KnownCurve's accuracy with n labels is
    # 1 - 8 n^-0.5 - 0.05 (0.80 at the 3,000 training labels), so 0.85 takes 6,400
    X, y = known_curve_data(n=4000)
    np.save(tmp_path / "X.npy", X)
    pd.DataFrame({"label": y}).to_csv(tmp_path / "y.csv", index=False)
    with (tmp_path / "model.pkl").open("wb") as fh:
        pickle.dump(KnownCurve(A=8.0), fh)
    out = tmp_path / "plan.csv"
    res = _plan(
        (tmp_path / "X.npy", tmp_path / "y.csv"),
        "--estimator-file",
        str(tmp_path / "model.pkl"),
        "--target-accuracy",
        "0.85",
        "--sizes",
        "6",
        "--output",
        str(out),
    )
    assert res.exit_code == 0, res.output
    assert "pickle can run any code" in res.output
    assert "plan for model" in res.output and "KnownCurve(A=8.0)" in res.output
    table = pd.read_csv(out).set_index("strategy")
    clean = plan_row_items(res.output)
    assert 5_000 <= clean <= 8_000, res.output
    needed = table["items needed"].dropna()
    assert len(needed) and (needed == needed.round()).all()
    assert "inf" not in res.output.replace("interval", "")


def plan_row_items(output: str) -> int:
    """The clean labels the summary gives for the target (the first number on its row)."""
    line = next(ln for ln in output.splitlines() if "clean labels for" in ln)
    cell = line.split("│")[2]
    return int(re.search(r"[\d,]+", cell).group().replace(",", ""))


def test_plan_named_estimator_with_parameters(files):
    res = _plan(
        files,
        "--target-accuracy",
        "0.9",
        "--estimator",
        "logreg",
        "--param",
        "C=10",
        "--param",
        "scale=false",
    )
    assert res.exit_code == 0, res.output
    assert "LogisticRegression(C=10)" in res.output and "StandardScaler" not in res.output
    res = _plan(files, "--target-accuracy", "0.9", "--param", "gamma=2")
    assert res.exit_code == 2 and "no parameter 'gamma'" in res.output
    res = _plan(files, "--target-accuracy", "0.9", "--param", "C")
    assert res.exit_code == 2 and "KEY=VALUE" in res.output
    res = _plan(files, "--target-accuracy", "0.9", "--estimator-file", "nope.pkl")
    assert res.exit_code == 2 and "does not exist" in res.output


def test_plan_errors(files, tmp_path):
    res = _plan(files, "--target-accuracy", "0.9", "--estimator", "svm")
    assert res.exit_code == 2 and "--estimator must be one of" in res.output
    res = _plan((tmp_path / "missing.npy", files[1]), "--target-accuracy", "0.9")
    assert res.exit_code == 2 and "does not exist" in res.output
    res = _plan(files, "--target-accuracy", "0.9", "--cost-per-label", "-1")
    assert res.exit_code == 2 and "'--cost-per-label': must be greater than 0" in res.output
