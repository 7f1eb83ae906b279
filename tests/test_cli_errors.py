"""Every command, fed bad input, answers with one ``error:`` line naming what is wrong.

The walk covers each class of bad input the issue found: features that are not a
numeric array (object dtype, garbage bytes, text, a folder, missing), outputs that
cannot be written (a folder, an unknown format, a parent that is a file, a refused
write), labels whose ids do not match the features, and options out of range. No
traceback, no ``unexpected`` (the boundary's last resort for labelwise bugs), exit 2,
and nothing written.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from labelwise.cli import app
from labelwise.cli._app import _Group
from labelwise.errors import InputError

runner = CliRunner()

# how to run each command on good files: {ann}, {X}, {y}, {out} are filled in
COMMANDS: dict[str, list[str]] = {
    "aggregate": ["aggregate", "{ann}", "-m", "mv", "-o", "{out}"],
    "annotators": ["annotators", "{ann}", "-m", "mv", "-o", "{out}"],
    "audit": ["audit", "--features", "{X}", "--labels", "{y}", "--folds", "2", "-o", "{out}"],
    "select": ["select", "--features", "{X}", "--labels", "{y}", "-n", "3", "-o", "{out}"],
    "plan": [
        "plan",
        "--features",
        "{X}",
        "--labels",
        "{y}",
        "--target-accuracy",
        "0.9",
        "--cost-per-label",
        "0.1",
        "--seeds",
        "1",
        "--sizes",
        "3",
        "-o",
        "{out}",
    ],
    "prune": ["prune", "--features", "{X}", "--fraction", "0.5", "-o", "{out}"],
    "simulate": [
        "simulate",
        "--items",
        "40",
        "--workers",
        "5",
        "--cap",
        "3",
        "-p",
        "fixed",
        "-o",
        "{out}",
    ],
}
FEATURE_COMMANDS = [c for c, args in COMMANDS.items() if "{X}" in args]


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    d = tmp_path_factory.mktemp("good")
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 20)
    X = rng.normal(size=(60, 4)) + y[:, None] * 3.0
    np.save(d / "X.npy", X)
    labels = pd.Series(np.array(["a", "b", "c"], dtype=object)[y])
    labels[::4] = None  # some unlabeled rows for select/plan
    pd.DataFrame({"label": labels}).to_csv(d / "y.csv", index=False)
    ann = pd.DataFrame(
        [(f"i{i}", w, "abc"[y[i]] if w != "w3" else "abc"[(y[i] + 1) % 3]) for i in range(60)
         for w in ("w1", "w2", "w3")],
        columns=["item", "worker", "label"],
    )  # fmt: skip
    ann.to_csv(d / "ann.csv", index=False)
    return d


def _args(command: str, good, **swap: str) -> list[str]:
    values = {
        "ann": str(good / "ann.csv"),
        "X": str(good / "X.npy"),
        "y": str(good / "y.csv"),
        "out": str(good / f"out-{command}.csv"),
    }
    values.update(swap)
    return [a.format(**values) for a in COMMANDS[command]]


def _assert_one_line_error(result, *needles: str) -> None:
    text = result.output
    assert result.exit_code == 2, text
    assert "Traceback" not in text and "unexpected" not in text, text
    errors = [line for line in text.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, text
    for needle in needles:
        assert needle in errors[0], (needle, text)


def test_every_registered_command_is_walked():
    names = {c.name or c.callback.__name__ for c in app.registered_commands}
    mine = {"aggregate", "annotators", "audit", "select", "plan", "prune", "simulate"}
    assert mine <= names and mine == set(COMMANDS)


@pytest.fixture(scope="module")
def bad_features(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    np.save(d / "objects.npy", np.array([[1, "a"], [None, 2.0]], dtype=object), allow_pickle=True)
    (d / "garbage.npy").write_bytes(b"this is not a numpy file at all" * 10)
    np.save(d / "text.npy", np.array([["a", "b"], ["c", "d"]]))
    np.save(d / "flat.npy", np.zeros(5))
    (d / "folder.npy").mkdir()
    return {
        "objects": (d / "objects.npy", "Python objects"),
        "garbage": (d / "garbage.npy", "garbage.npy"),
        "text": (d / "text.npy", "must be numbers"),
        "flat": (d / "flat.npy", "2-D"),
        "folder": (d / "folder.npy", "is a folder"),
        "missing": (d / "missing.npy", "does not exist"),
    }


@pytest.mark.parametrize("kind", ["objects", "garbage", "text", "flat", "folder", "missing"])
@pytest.mark.parametrize("command", FEATURE_COMMANDS)
def test_bad_features(command, kind, good, bad_features):
    path, needle = bad_features[kind]
    out = good / f"never-{command}-{kind}.csv"
    res = runner.invoke(app, _args(command, good, X=str(path), out=str(out)))
    _assert_one_line_error(res, needle)
    assert not out.exists()


@pytest.mark.parametrize("command", ["aggregate", "annotators"])
@pytest.mark.parametrize("kind", ["folder", "garbage", "missing", "header_only"])
def test_bad_annotations(command, kind, good, tmp_path):
    path = tmp_path / "ann.csv"
    if kind == "folder":
        path.mkdir()
    elif kind == "garbage":
        path.write_bytes(bytes(range(256)) * 4)
    elif kind == "header_only":
        path.write_text("item,worker,label\n")
    res = runner.invoke(app, _args(command, good, ann=str(path)))
    _assert_one_line_error(res, "ann.csv")


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize(
    "kind", ["folder", "xlsx", "parent_is_file", "no_extension", "unwritable_place"]
)
def test_bad_output_is_refused_before_any_work(command, kind, good, tmp_path):
    (tmp_path / "file.csv").write_text("x")
    out = {
        "folder": tmp_path,
        "xlsx": tmp_path / "out.xlsx",
        "parent_is_file": tmp_path / "file.csv" / "out.csv",
        "no_extension": tmp_path / "out",
        # even root cannot create files in /proc: a real refusal, not a simulated one
        "unwritable_place": Path("/proc/labelwise-test/out.csv"),
    }[kind]
    if kind == "unwritable_place" and not Path("/proc/self").exists():
        pytest.skip("no /proc on this system")
    res = runner.invoke(app, _args(command, good, out=str(out)))
    _assert_one_line_error(res, "--output")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.csv"]


@pytest.mark.parametrize("command", ["aggregate", "prune", "simulate"])
def test_refused_write_names_the_path(command, good, tmp_path, monkeypatch):
    # root may write anywhere, so the operating system's refusal is simulated
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("labelwise.io.tempfile.mkstemp", refuse)
    out = tmp_path / "locked" / "out.csv"
    res = runner.invoke(app, _args(command, good, out=str(out)))
    _assert_one_line_error(res, "Permission denied", "out.csv")
    assert not out.exists()


def test_demo_out_naming_a_file(tmp_path):
    (tmp_path / "report").write_text("a file, not a folder")
    res = runner.invoke(app, ["demo", "--out", str(tmp_path / "report"), "--fast"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    _assert_one_line_error(res, "--out", "is a file")


@pytest.mark.parametrize("command", ["audit", "select", "plan"])
def test_labels_with_unknown_ids(command, good, tmp_path):
    y = pd.read_csv(good / "y.csv")
    y.insert(0, "id", np.arange(len(y)) + 1000)  # not the features' row numbers
    path = tmp_path / "ids.csv"
    y.to_csv(path, index=False)
    res = runner.invoke(app, _args(command, good, y=str(path)))
    _assert_one_line_error(res, "ids.csv", "'id'", "1000")


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["simulate", "--items", "0"], "--items"),
        (["simulate", "--workers", "-3"], "--workers"),
        (["simulate", "--money", "-5"], "--money"),
        (["simulate", "--target", "1.5"], "--target"),
        (["select", "--features", "X.npy", "--labels", "y.csv", "-n", "0"], "--n"),
        (["audit", "--features", "X.npy", "--folds", "1"], "--folds"),
        (
            [
                "plan",
                "--features",
                "X",
                "--labels",
                "y",
                "--target-accuracy",
                "0.9",
                "--cost-per-label",
                "1",
                "--seeds",
                "0",
            ],
            "--seeds",
        ),
    ],
)
def test_options_out_of_range(args, option):
    res = runner.invoke(app, args)
    _assert_one_line_error(res, option)


def test_plan_refuses_a_negative_cost(good):
    args = _args("plan", good)
    args[args.index("0.1")] = "-0.1"
    res = runner.invoke(app, args)
    _assert_one_line_error(res, "--cost-per-label", "-0.1")


def test_negative_time_or_cost_in_annotations_is_refused(good, tmp_path):
    from labelwise import Annotations
    from labelwise.errors import AnnotationsError

    frame = pd.read_csv(good / "ann.csv")
    frame["cost"] = 0.05
    frame.loc[7, "cost"] = -0.05
    with pytest.raises(AnnotationsError, match=r"column 'cost' row 7 has -0.05"):
        Annotations.from_frame(frame, cost="cost")
    frame["cost"] = frame["cost"].astype(object)
    frame.loc[7, "cost"] = "free"
    with pytest.raises(AnnotationsError, match=r"column 'cost' row 7 has 'free'"):
        Annotations.from_frame(frame, cost="cost")


def test_ids_beyond_int64_and_class_names_none_na_null(tmp_path):
    huge = [str(2**64 + i) for i in range(4)]
    rows = [(h, w, lab) for h, lab in zip(huge, ["None", "NA", "null", "None"], strict=True)
            for w in ("w1", "w2")]  # fmt: skip
    path = tmp_path / "ann.csv"
    pd.DataFrame(rows, columns=["item", "worker", "label"]).to_csv(path, index=False)
    out = tmp_path / "labels.csv"
    res = runner.invoke(app, ["aggregate", str(path), "-m", "mv", "-o", str(out)])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert got["item"].tolist() == huge  # ids kept exactly, as text
    assert got["label"].tolist() == ["None", "NA", "null", "None"]


def test_jsonl_ids_beyond_int64(tmp_path):
    from labelwise import Annotations

    path = tmp_path / "ann.jsonl"
    path.write_text(
        "\n".join(
            f'{{"item": {2**64 + i}, "worker": "w{w}", "label": "{"ab"[i % 2]}"}}'
            for i in range(4)
            for w in range(2)
        )
    )
    ann = Annotations.read(path)  # pandas' JSON reader refuses these; the ids stay text
    assert ann.item_ids.tolist() == [str(2**64 + i) for i in range(4)]


def _boundary_app(exc: BaseException) -> typer.Typer:
    demo = typer.Typer(cls=_Group)

    @demo.command()
    def boom() -> None:
        raise exc

    @demo.command()
    def other() -> None:  # a second command keeps typer from collapsing the group
        """Unused."""

    return demo


@pytest.mark.parametrize(
    ("exc", "code", "needle"),
    [
        (InputError("column 'label' row 3 is empty."), 2, "column 'label' row 3"),
        (IsADirectoryError(21, "Is a directory", "out"), 2, "'out': Is a directory"),
        (PermissionError(13, "Permission denied", "/x/y.csv"), 2, "Permission denied"),
        (OverflowError("int too big"), 1, "unexpected OverflowError: int too big"),
    ],
)
def test_the_boundary_turns_any_exception_into_one_line(exc, code, needle, monkeypatch):
    monkeypatch.delenv("LABELWISE_DEBUG", raising=False)
    res = runner.invoke(_boundary_app(exc), ["boom"])
    assert res.exit_code == code
    assert "Traceback" not in res.output
    assert res.output.startswith("error:") and needle in res.output, res.output
    assert len(res.output.strip().splitlines()) == 1


def test_debug_shows_the_traceback_of_a_bug(monkeypatch):
    monkeypatch.setenv("LABELWISE_DEBUG", "1")
    res = runner.invoke(_boundary_app(OverflowError("int too big")), ["boom"])
    assert isinstance(res.exception, OverflowError)


def test_help_has_plain_metavars_and_version():
    from labelwise import __version__

    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output.strip() == f"labelwise {__version__}"
    names = [c.name or c.callback.__name__ for c in app.registered_commands]
    for command in names:
        text = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"}).output
        for ugly in ("<bool>", "<str>", "<int>", "<float>", "<path>", "list[", "{"):
            assert ugly not in text, (command, ugly, text)


def test_aggregate_help_lists_every_method():
    from labelwise.aggregate import METHODS
    from labelwise.cli.aggregate import METHOD_NAMES

    assert tuple(METHODS) == METHOD_NAMES


def test_no_half_written_output_when_a_run_fails(good, tmp_path):
    out = tmp_path / "labels.csv"
    out.write_text("the old output\n")
    bad = tmp_path / "ann.csv"
    bad.write_text("item,worker,label\n1,w1,a\n1,w1,b\n")  # a repeated answer: an error
    res = runner.invoke(app, ["aggregate", str(bad), "-o", str(out)])
    _assert_one_line_error(res, "more than once")
    assert out.read_text() == "the old output\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_unreadable_permissions_are_reported_when_not_root(good, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root may write anywhere")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    res = runner.invoke(app, _args("prune", good, out=str(locked / "out.csv")))
    _assert_one_line_error(res, "no write permission")


@pytest.mark.filterwarnings("default::labelwise.errors.SimilarClassesWarning")
def test_near_identical_classes_are_a_warning_line(tmp_path):
    rows = [(i, w, "cat" if (i + w) % 3 else "Cat") for i in range(12) for w in range(2)]
    path = tmp_path / "ann.csv"
    pd.DataFrame(rows, columns=["item", "worker", "label"]).to_csv(path, index=False)
    res = runner.invoke(app, ["aggregate", str(path), "-m", "mv"])
    assert res.exit_code == 0, res.output
    warned = [line for line in res.stderr.splitlines() if line.startswith("warning:")]
    assert len(warned) == 1 and "'Cat'" in warned[0] and "'cat'" in warned[0], res.stderr
