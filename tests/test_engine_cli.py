"""``labelwise engine run|resume`` end to end on digits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits
from typer.testing import CliRunner

from labelwise.cli import app

runner = CliRunner()


@pytest.fixture
def files(tmp_path):
    X, y = load_digits(return_X_y=True)
    np.save(tmp_path / "X.npy", X[:700])
    pd.DataFrame({"label": [f"d{v}" for v in y[:700]]}).to_csv(tmp_path / "y.csv", index=False)
    return tmp_path / "X.npy", tmp_path / "y.csv"


def _run(files, out, *extra):
    X, y = files
    args = ["engine", "run", "--features", str(X), "--labels", str(y), "--oracle", "labels",
            "--cost-per-answer", "0.04", "--target-accuracy", "0.9", "--batch-size", "40",
            "--out", str(out), *extra]  # fmt: skip
    return runner.invoke(app, args)


def test_run_then_resume(files, tmp_path):
    out = tmp_path / "run"
    res = _run(files, out, "--budget", "8")
    assert res.exit_code == 0, res.output
    assert "round   1" in res.output and "label array" in res.output
    ledger = pd.read_csv(out / "ledger.csv")
    assert ledger["cost"].sum() <= 8 + 1e-9
    labels = pd.read_csv(out / "labels.csv")
    y = pd.read_csv(files[1])["label"].to_numpy()
    assert (labels["label"].to_numpy() == y[labels["row"].to_numpy()]).all()
    again = runner.invoke(app, ["engine", "resume", str(out)])
    assert again.exit_code == 0, again.output
    pd.testing.assert_frame_equal(pd.read_csv(out / "ledger.csv"), ledger)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--budget", "-5"], "budget must be >= 0"),
        (["--budget", "5", "--oracle", "magic"], "--oracle must be one of"),
        (["--budget", "5", "--target-accuracy", "1.5"], "target_accuracy"),
    ],
)
def test_bad_inputs_exit_2_with_a_message(files, tmp_path, extra, message):
    res = _run(files, tmp_path / "bad", *extra)
    assert res.exit_code == 2
    assert message in res.output
    assert not (tmp_path / "bad" / "LATEST").exists()


def test_resume_of_a_plain_folder_is_a_clear_error(tmp_path):
    res = runner.invoke(app, ["engine", "resume", str(tmp_path)])
    assert res.exit_code == 2 and "not an engine run folder" in res.output


def test_replay_oracle_from_files(tmp_path):
    from _crowd import make_crowd

    ann, truth = make_crowd(n_items=240, seed=5)
    frame = ann.to_frame()
    frame["item"] = "q" + frame["item"].astype(str)
    frame["label"] = frame["label"].map(dict(enumerate("wxyz")))
    frame.to_csv(tmp_path / "answers.csv", index=False)
    ids = ["q" + str(i) for i in ann.item_ids]
    rng = np.random.default_rng(0)
    feats = pd.DataFrame(np.eye(4)[truth] * 2 + rng.normal(0, 1, (240, 4)), columns=list("abcd"))
    feats.insert(0, "item", ids)
    feats.to_csv(tmp_path / "X.csv", index=False)
    gold = pd.Series(np.array(list("wxyz"))[truth]).where(np.arange(240) % 2 == 0)
    pd.DataFrame({"label": gold}).to_csv(tmp_path / "gold.csv", index=False)
    out = tmp_path / "run"
    args = ["engine", "run", "--features", str(tmp_path / "X.csv"), "--labels",
            str(tmp_path / "gold.csv"), "--oracle", "replay", "--annotations",
            str(tmp_path / "answers.csv"), "--budget", "120", "--cost-per-answer", "1",
            "--target-accuracy", "0.99", "--batch-size", "30", "--out", str(out)]  # fmt: skip
    res = runner.invoke(app, args)
    assert "oracle: replay" in res.output, res.output
    ledger = pd.read_csv(out / "ledger.csv")
    assert 0 < ledger["cost"].sum() <= 120
    labels = pd.read_csv(out / "labels.csv")
    rows = labels["row"].to_numpy()
    assert set(labels["label"]) <= set("wxyz") and rows.max() < 240
    assert len(ledger) == len(ledger.drop_duplicates(["item", "worker"]))
    # every row labeled has recorded answers, and its label is (almost always: the model
    # prior may overrule a single weak answer, or two disagreeing ones, when the budget
    # ends before the item's next answer) one its annotators gave
    by_row = frame.assign(row=frame["item"].str[1:].astype(int)).groupby("row")["label"]
    given = by_row.apply(set)
    assert set(rows) <= set(given.index)
    hits = [lab in given[r] for r, lab in zip(rows, labels["label"], strict=True)]
    assert np.mean(hits) >= 0.9
