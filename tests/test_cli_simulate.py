"""``labelwise simulate`` end to end: the curve table, the CSV, clear errors."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from labelwise.cli import app

runner = CliRunner()


def test_simulate_prints_curves_and_writes_csv(tmp_path):
    out = tmp_path / "curves.csv"
    args = ["simulate", "--testbed", "toy", "--items", "300", "--workers", "20", "-p", "fixed",
            "-p", "eig", "-p", "model", "--cap", "8", "--seeds", "2", "-o", str(out)]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())  # rich wraps titles to the terminal width
    assert "Label accuracy" in text and "eig" in text and "model" in text
    curves = pd.read_csv(out)
    assert set(curves["policy"]) == {"fixed", "eig", "model"}
    assert set(curves["seed"]) == {0, 1}
    assert list(curves.columns[:7]) == [
        "policy", "seed", "annotations", "per_item", "money", "accuracy", "finished",
    ]  # fmt: skip
    fixed = curves[curves["policy"] == "fixed"]
    assert fixed["per_item"].max() == 8.0


def test_simulate_budget_and_fitted_pool():
    result = runner.invoke(app, ["simulate", "--testbed", "digits", "--items", "200",
                                 "-p", "dynamic", "--budget", "150"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "digits-crowd: 200 items" in result.output
    assert "0.750" in result.output  # stopped at 150 answers = 0.75 per item


def test_simulate_errors():
    bad = runner.invoke(app, ["simulate", "-p", "psychic"])
    assert bad.exit_code == 2
    assert "--policy must be one of" in bad.output
    missing = runner.invoke(app, ["simulate", "--testbed", "no-such-crowd"])
    assert missing.exit_code == 2
    # names the crowd, or (on a machine without ../shared/data) the missing folder
    assert "no-such-crowd" in missing.output or "shared data folder" in missing.output
    neg = runner.invoke(app, ["simulate", "--items", "50", "--cap", "0"])
    assert neg.exit_code == 2
    # the range as pydantic (typer >= 0.29) or click (typer < 0.29) words it
    assert "--cap" in neg.output
    assert "greater than or equal to 1" in neg.output or "x>=1" in neg.output
