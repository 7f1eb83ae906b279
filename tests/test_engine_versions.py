"""The engine leaves a dataset version per round: diffs name each round's new items,
the audit's decisions are recorded, and a resumed run versions no round twice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from typer.testing import CliRunner

from labelwise.cli import app
from labelwise.engine import DataEngine, EngineConfig, SimulatedCrowdOracle
from labelwise.simulate import make_pool
from labelwise.versions import diff_versions, list_versions, load_version

X, Y = load_digits(return_X_y=True)
ORDER = np.random.default_rng(0).permutation(len(Y))
X, Y = X[ORDER] / 16.0, Y[ORDER].astype(np.int64)
XP, YP, XT, YT = X[:400], Y[:400], X[1400:], Y[1400:]
# one item in ten is one every annotator gets wrong (an ambiguous image): the audit
# sees the model contradict those consensus labels
FLIP = np.random.default_rng(0).random(len(YP)) < 0.1
YBAD = np.where(FLIP, (YP + 1) % 10, YP)
POOL = make_pool(20, 10, random_state=0, proportions={"reliable": 1.0})
IDS = [f"img{j:04d}" for j in range(len(YP))]
CLASSES = [f"digit-{k}" for k in range(10)]


@pytest.fixture(autouse=True)
def _one_blas_thread():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


def _engine(budget: float = 250.0) -> DataEngine:
    cfg = EngineConfig(budget=budget, target_accuracy=0.97, batch_size=40, random_state=3,
                       audit_threshold=0.2)  # fmt: skip
    return DataEngine(LogisticRegression(C=10.0, max_iter=300), cfg)


def _run(out, budget: float = 250.0, **kw):
    return _engine(budget).run(XP, SimulatedCrowdOracle(YBAD, POOL), X_test=XT, y_test=YT,
                               directory=out, item_ids=IDS, class_names=CLASSES, **kw)  # fmt: skip


class _Stop(Exception):
    pass


def test_each_round_is_a_version_whose_diff_lists_the_new_items(tmp_path):
    res = _run(tmp_path)
    rounds = res.history["round"].tolist()
    assert len(rounds) >= 3
    listed = list_versions(tmp_path / "versions")
    assert listed["name"].tolist() == [f"round-{r:04d}" for r in rounds]
    assert listed["message"].iloc[0] == "engine round 1"
    assert listed["message"].iloc[-1] == f"engine round {rounds[-1]} ({res.stop_reason})"
    assert res.version == tmp_path / "versions" / f"round-{rounds[-1]:04d}"
    ledger = res.ledger.to_frame()
    first_round = ledger.groupby("item")["round"].min()
    for r in rounds[1:]:
        a = load_version(tmp_path / "versions", f"round-{r - 1:04d}")
        b = load_version(tmp_path / "versions", f"round-{r:04d}")
        assert b.manifest["parent"] == a.name
        d = diff_versions(a, b)
        new = {IDS[i] for i in first_round.index[first_round == r]}
        assert set(d.added["item"]) == new
        # every round adds items, except a last one whose few remaining coins went to
        # the audit's re-asks (they come first)
        assert len(new) > 0 or (r == rounds[-1] and res.money > 250.0 - 5)
        assert (
            d.added["reason"] == f"added: selected in round {r} by margin active learning"
        ).all()
        assert not len(d.removed)
        # the answers behind the labels: the ledger up to this round, by name
        assert len(b.annotations) == int((ledger["round"] <= r).sum())
        assert set(b.annotations["worker"]) <= {str(w) for w in range(20)}
        assert set(b.items["label"]) <= set(CLASSES)
        assert b.manifest["aggregation"]["params"]["aggregator"] == "ds"
        # every item the audit sent back this round carries the decision
        audited = b.items[b.items["action"] == "audit"]
        assert len(audited) == int(res.history.loc[res.history["round"] == r, "audited"].iloc[0])
        assert (audited["reason"] == "model contradicts the consensus, re-asked").all()
    assert res.history["audited"].sum() > 0  # the audit acted at least once
    reasked = pd.concat(
        [load_version(tmp_path / "versions", f"round-{r:04d}").items.assign(round=r)
         for r in rounds]
    ).query("action == 're-asked'")  # fmt: skip
    assert len(reasked) and reasked["reason"].str.startswith("audit of round").all()
    final = load_version(tmp_path / "versions", res.version.name)
    labels = res.labels.assign(item=[IDS[i] for i in res.labels["item"]],
                               label=[CLASSES[k] for k in res.labels["label"]])  # fmt: skip
    merged = final.items.merge(labels, on="item", suffixes=("", "_run"))
    assert len(merged) == len(labels) == final.n_items
    assert (merged["label"] == merged["label_run"]).all()
    np.testing.assert_allclose(merged["confidence"], merged["confidence_run"])


def test_resume_versions_no_round_twice(tmp_path):
    straight = _run(tmp_path / "straight")

    def stop_after_two(row):
        if row["round"] == 2:
            raise _Stop

    out = tmp_path / "run"
    with pytest.raises(_Stop):
        _run(out, on_round=stop_after_two)
    before = load_version(out / "versions", "round-0002").manifest_sha256
    # killed after round 2's version was written but before round 2 was committed
    (out / "LATEST").write_text("0001")
    res = _engine().resume(out, XP, SimulatedCrowdOracle(YBAD, POOL), X_test=XT, y_test=YT)
    names = list_versions(out / "versions")["name"].tolist()
    assert names == list_versions(tmp_path / "straight" / "versions")["name"].tolist()
    assert len(names) == len(set(names)) == len(straight.history)
    assert load_version(out / "versions", "round-0002").manifest_sha256 == before
    assert not list((out / "versions").glob(".tmp-*"))
    for name in names:  # the resumed run's versions hold what the straight run's hold
        a = load_version(tmp_path / "straight" / "versions", name)
        b = load_version(out / "versions", name)
        pd.testing.assert_frame_equal(a.items, b.items)
        pd.testing.assert_frame_equal(a.annotations, b.annotations)
    assert res.version is not None and res.version.name == names[-1]
    # resuming a finished run writes nothing new
    _engine().resume(out, XP, SimulatedCrowdOracle(YBAD, POOL), X_test=XT, y_test=YT)
    assert list_versions(out / "versions")["name"].tolist() == names


def test_cli_prints_the_version(tmp_path):
    np.save(tmp_path / "X.npy", X[:500])
    pd.DataFrame({"label": [f"d{v}" for v in Y[:500]]}).to_csv(tmp_path / "y.csv", index=False)
    out = tmp_path / "run"
    res = CliRunner().invoke(app, [
        "engine", "run", "--features", str(tmp_path / "X.npy"), "--labels",
        str(tmp_path / "y.csv"), "--oracle", "labels", "--cost-per-answer", "0.04",
        "--target-accuracy", "0.99", "--batch-size", "40", "--budget", "5", "--out", str(out),
    ])  # fmt: skip
    assert res.exit_code == 0, res.output
    names = list_versions(out / "versions")["name"].tolist()
    assert len(names) >= 2
    assert f"dataset version {names[-1]}" in res.output
    assert f"labelwise version diff {names[-2]} {names[-1]}" in res.output
    shown = CliRunner().invoke(app, ["version", "show", names[-1], "--root", str(out / "versions")])
    assert shown.exit_code == 0, shown.output
    v = load_version(out / "versions", names[-1])
    assert set(v.items["label"]) <= {f"d{k}" for k in range(10)}
    rows = pd.read_csv(out / "labels.csv")["row"].astype(str)
    assert set(v.items["item"]) == set(rows)  # named by the features file's ids (rows)
