"""The estimators on DaskAnnotations: the in-memory results, partition by partition.

One real LocalCluster (2 worker processes) serves the whole module. The fault test
kills one of its worker processes in the middle of an EM fit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed")

import itertools

from _crowd import make_crowd
from conftest import _shared_data
from labelwise import (
    MACE,
    Annotations,
    DawidSkene,
    MajorityVote,
    OneCoinDawidSkene,
    WeightedMajorityVote,
)
from labelwise.aggregate import GLAD
from labelwise.distributed import DaskAnnotations, connect
from labelwise.errors import AnnotationsError, ParameterError

METHODS = [
    (DawidSkene, {}),
    (OneCoinDawidSkene, {}),
    (MACE, {}),
    (MajorityVote, {"ties": "flag"}),
    (WeightedMajorityVote, {"ties": "flag", "n_rounds": 3, "weights": "log_odds"}),
]


@pytest.fixture(scope="module")
def client():
    with connect(n_workers=2) as c:
        yield c


def _same(model, ref, proba_atol):
    """The Dask fit's rows, skills and parameters equal the in-memory fit's."""
    got = model.result_.to_frame(proba=True).set_index("item").loc[ref.items_]
    expected = ref.to_frame().set_index("item")
    same = (got["label"] == expected["label"]) | (got["label"].isna() & expected["label"].isna())
    assert same.all()
    p = got[[f"proba_{c}" for c in ref.classes_]].to_numpy()
    np.testing.assert_allclose(p, ref.proba_, atol=proba_atol, rtol=0)
    assert (got["n_annotations"] == expected["n_annotations"]).all()
    np.testing.assert_allclose(got["agreement"], expected["agreement"], atol=1e-12)
    np.testing.assert_allclose(model.skill_, ref.skill_, atol=proba_atol * 10, equal_nan=True)
    assert list(model.workers_) == list(ref.workers_)
    if hasattr(ref, "n_iter_"):
        assert model.n_iter_ == ref.n_iter_ and model.converged_ == ref.converged_
        np.testing.assert_allclose(model.prior_, ref.prior_, atol=proba_atol)
        np.testing.assert_allclose(model.confusion_, ref.confusion_, atol=proba_atol)


def _thirds(frame, n):
    bounds = np.linspace(0, len(frame), n + 1).astype(int)
    return [frame.iloc[a:b] for a, b in itertools.pairwise(bounds)]


@pytest.mark.parametrize("crowd", ["rte", "labelme"])
def test_real_crowds_every_method(client, crowd):
    data = _shared_data()
    if data is None:
        pytest.skip("needs the real data folder ../shared/data")
    path = data / "crowd" / crowd / "annotations.csv"
    dask_ann = DaskAnnotations.read(path, client=client, npartitions=3)
    ann = Annotations.read(path)
    assert (dask_ann.n_annotations, dask_ann.n_items) == (ann.n_annotations, ann.n_items)
    # every method on LabelMe (8 classes); RTE (many answers per item) with the EM models
    methods = METHODS if crowd == "labelme" else METHODS[:2]
    for cls, params in methods:
        _same(cls(**params).fit(dask_ann), cls(**params).fit(ann), 1e-6)


def test_one_million_synthetic_answers_from_parquet(client, tmp_path):
    """1M answers in 3 Parquet files: the same labels, posteriors within 5e-6 (float32)."""
    rng = np.random.default_rng(0)
    n_items, per_item, k = 200_000, 5, 4
    acc = rng.uniform(0.55, 0.95, 300)
    truth = rng.integers(0, k, n_items)
    item = np.repeat(np.arange(n_items), per_item)
    worker = ((rng.integers(0, 300, n_items)[:, None] + np.arange(per_item) * 11) % 300).ravel()
    right = rng.random(item.size) < acc[worker]
    label = np.where(right, truth[item], (truth[item] + rng.integers(1, k, item.size)) % k)
    frame = pd.DataFrame({"item": item, "worker": worker})
    frame["label"] = np.array(["ant", "bee", "cat", "dog"])[label]
    folder = tmp_path / "answers"
    folder.mkdir()
    shuffled = frame.sample(frac=1, random_state=0)
    for j, part in enumerate(_thirds(shuffled, 3)):
        part.to_parquet(folder / f"part-{j}.parquet", index=False)
    dask_ann = DaskAnnotations.read(folder, client=client)
    assert dask_ann.n_annotations == 1_000_000 and dask_ann.npartitions == 4
    ann = Annotations.from_frame(frame)
    # the in-memory M-step sums S.T @ T over all 200,000 items in one float32
    # accumulation, the partitions in four: the posteriors differ by up to 3e-6 here
    model = DawidSkene().fit(dask_ann)
    _same(model, DawidSkene().fit(ann), 5e-6)


def test_gold_duplicates_and_globs(client, tmp_path):
    ann, truth = make_crowd(n_items=300, accuracies=(0.9, 0.7, 0.6, 0.8), k=3, seed=3)
    frame = ann.to_frame()
    frame = pd.concat([frame, frame.iloc[[5]].assign(label=(frame["label"].iloc[5] + 1) % 3)])
    for j, part in enumerate(_thirds(frame, 2)):
        part.to_csv(tmp_path / f"a{j}.csv", index=False)
    pattern = str(tmp_path / "a*.csv")
    with pytest.raises(AnnotationsError, match=r"labeled item .* more than once"):
        DaskAnnotations.read(pattern, client=client)
    dask_ann = DaskAnnotations.read(pattern, client=client, duplicates="keep_last")
    mem = Annotations.from_frame(frame, duplicates="keep_last")
    gold = pd.DataFrame({"item": np.arange(0, 300, 10), "label": truth[:300:10]})
    _same(DawidSkene().fit(dask_ann, gold=gold), DawidSkene().fit(mem, gold=gold), 1e-6)
    bad_gold = pd.DataFrame({"item": [10_000], "label": [0]})
    with pytest.raises(AnnotationsError, match="item 10000, which has no annotation"):
        DawidSkene().fit(dask_ann, gold=bad_gold)


def test_errors_name_what_is_wrong(client, tmp_path):
    (tmp_path / "a.csv").write_text("item,worker,label\n1,w1,x\n1,w2,\n")
    with pytest.raises(
        AnnotationsError, match=r"column 'label' has a missing value .*a.csv.* row 1"
    ):
        DaskAnnotations.read(tmp_path / "a.csv", client=client)
    (tmp_path / "b.csv").write_text("item,annotator,label\n1,w1,x\n")
    with pytest.raises(AnnotationsError, match=r"missing column\(s\) \['worker'\]"):
        DaskAnnotations.read(tmp_path / "b.csv", client=client)
    with pytest.raises(AnnotationsError, match="holds no .parquet or .csv file"):
        DaskAnnotations.read(tmp_path / "*.parquet", client=client)
    (tmp_path / "c.csv").write_text("item,worker,label\n1,w1,x\n2,w1,y\n")
    data = DaskAnnotations.read(tmp_path / "c.csv", client=client)
    with pytest.raises(AnnotationsError, match="not one of the declared classes"):
        DaskAnnotations.read(tmp_path / "c.csv", client=client, classes=["x", "z"])
    with pytest.raises(ParameterError, match="GLAD's M-step optimises every item"):
        GLAD().fit(data)
    with pytest.raises(ParameterError, match="'tol' parameter of DawidSkene"):
        DawidSkene(tol=2).fit(data)


def test_cli_dask_engine_writes_parquet_atomically(client, tmp_path):
    from typer.testing import CliRunner

    from labelwise.cli import app

    ann, _ = make_crowd(n_items=500, k=3, seed=2)
    ann.to_frame().to_csv(tmp_path / "ann.csv", index=False)
    out = tmp_path / "labels"
    address = client.scheduler.address
    runner = CliRunner()
    args = ["aggregate", str(tmp_path / "ann.csv"), "--engine", "dask", "-o", str(out)]
    res = runner.invoke(app, [*args, "--scheduler", address])
    assert res.exit_code == 0, res.output
    assert "dashboard" in res.output and "Parquet parts" in res.output
    written = pd.read_parquet(out).set_index("item").sort_index()
    ref = DawidSkene().fit(ann).to_frame().set_index("item").sort_index()
    assert (written["label"] == ref["label"]).all()
    res = runner.invoke(app, [*args, "-m", "glad"], env={"LABELWISE_SCHEDULER": address})
    assert res.exit_code == 2 and "error: --method glad does not run on --engine dask" in res.output
    res = runner.invoke(app, ["aggregate", str(tmp_path / "nope"), "--scheduler", address])
    assert res.exit_code == 2 and "do not exist" in res.output


def test_a_killed_aggregate_run_leaves_the_previous_output(client, tmp_path):
    """SIGKILL while the parts are being written: the folder holds the previous run's
    files, byte for byte, and no part of the new one."""
    rng = np.random.default_rng(1)
    n = 100_000
    frame = pd.DataFrame(
        {
            "item": rng.integers(0, n // 4, n),
            "worker": rng.integers(0, 200, n),
            "label": rng.integers(0, 3, n),
        }
    )
    src = tmp_path / "ann.parquet"
    frame.to_parquet(src)
    out = tmp_path / "labels"
    cmd = [str(Path(sys.executable).parent / "labelwise"), "aggregate", str(src), "-m", "mv"]
    cmd += ["--duplicates", "keep_all", "-o", str(out), "--scheduler", client.scheduler.address]
    from typer.testing import CliRunner

    from labelwise.cli import app

    assert CliRunner().invoke(app, cmd[1:]).exit_code == 0  # the previous run, in-process
    previous = {p.name: p.read_bytes() for p in out.iterdir()}
    assert len(previous) >= 2
    frame.assign(label=(frame["label"] + 1) % 3).to_parquet(src)
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:
        if "writing Parquet parts" in line:
            proc.send_signal(signal.SIGKILL)
            break
    proc.stderr.close()
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    time.sleep(0.5)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == previous
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".labels.tmp-")]
    assert len(leftovers) <= 1  # the killed run's hidden folder, never under labels/


def test_a_worker_killed_in_the_middle_of_em(client, tmp_path):
    """Kill one worker process at iteration 3: the lost partitions are rebuilt from
    their files and the fit ends with exactly the numbers of an undisturbed fit."""
    ann, _ = make_crowd(n_items=3000, accuracies=(0.9, 0.7, 0.6, 0.8, 0.65), k=3, seed=8)
    ann.to_frame().to_parquet(tmp_path / "answers.parquet", row_group_size=3000)
    dask_ann = DaskAnnotations.read(tmp_path / "answers.parquet", client=client)
    calm = DawidSkene(tol=1e-7).fit(dask_ann)
    killed = []

    def kill_at_iteration_3(stage, done, total):
        if "EM" in stage and done == 3 and not killed:
            pids = client.run(os.getpid)
            victim = sorted(pids)[0]
            os.kill(pids[victim], signal.SIGKILL)
            killed.append(victim)

    dask_ann.progress = kill_at_iteration_3
    hit = DawidSkene(tol=1e-7).fit(dask_ann)
    assert killed  # (the nanny restarts the worker process in the background)
    np.testing.assert_array_equal(hit.confusion_, calm.confusion_)
    assert hit.log_likelihood_ == calm.log_likelihood_
    a = hit.result_.to_frame(proba=True).sort_values("item").reset_index(drop=True)
    b = calm.result_.to_frame(proba=True).sort_values("item").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_no_dask_on_import():
    code = "import sys, labelwise, labelwise.cli, labelwise.distributed; "
    code += "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert Path(__file__).name == "test_distributed.py"
