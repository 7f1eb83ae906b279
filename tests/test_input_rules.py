"""The rules at the door, end to end: class names, missing values, ids, matching by id,
fitted attributes, a model too weak to audit labels, progress, and a light import."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits
from typer.testing import CliRunner

from labelwise import Annotations, DawidSkene, MajorityVote, make_aggregator
from labelwise.aggregate import METHODS
from labelwise.cli import app
from labelwise.curate import audit_dataset
from labelwise.errors import (
    AnnotationsError,
    InputError,
    NotFittedError,
    SimilarClassesWarning,
    WeakModelWarning,
)
from labelwise.io import read_labels, write_frame

runner = CliRunner()


def _frame(labels: list[object]) -> pd.DataFrame:
    n = len(labels)
    return pd.DataFrame(
        {"item": np.arange(n) // 2, "worker": np.arange(n) % 2, "label": pd.Series(labels)}
    )


# ------------------------------------------------------------------ class names
def test_surrounding_spaces_are_one_class_silently():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ann = Annotations.from_frame(_frame([" cat", "cat", "dog ", "dog"]))
    assert ann.classes.tolist() == ["cat", "dog"]


@pytest.mark.parametrize(
    ("labels", "named"),
    [
        (["cat", "Cat", "dog", "dog"], "'Cat' (1 rows), 'cat' (1 rows)"),
        (["1", "1.0", "2", "2"], "'1.0'"),
        (["New York", "new  york", "LA", "LA"], "'New York'"),
    ],
)
def test_near_identical_class_names_warn_and_stay_apart(labels, named):
    with pytest.warns(SimilarClassesWarning, match="differ only in case, spacing or number"):
        ann = Annotations.from_frame(_frame(labels))
    assert ann.n_classes == 3
    with pytest.warns(SimilarClassesWarning) as record:
        Annotations.from_frame(_frame(labels))
    assert named.split(",")[0] in str(record[0].message)


def test_number_and_text_one_are_one_class_with_a_warning():
    with pytest.warns(SimilarClassesWarning, match="mixes numbers and text"):
        ann = Annotations.from_frame(_frame([1, "1", 2, "2"]))
    assert ann.classes.tolist() == [1, 2]


def test_distinct_names_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Annotations.from_frame(_frame(["cat", "dog", "bird", "fish"]))
        Annotations.from_frame(_frame([1, 2, 3, 10]))


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_none_na_null_are_class_names_and_only_empty_is_missing(tmp_path, suffix):
    frame = _frame(["None", "NA", "null", "NaN", "n/a", "None"])
    path = tmp_path / f"ann{suffix}"
    write_frame(frame, path)
    ann = Annotations.read(path)
    assert sorted(ann.classes.tolist()) == ["NA", "NaN", "None", "n/a", "null"]
    frame.loc[3, "label"] = None
    write_frame(frame, path)
    with pytest.raises(AnnotationsError, match="column 'label' has a missing value .* row 3"):
        Annotations.read(path)


# ------------------------------------------------------------------------- ids
def test_ids_beyond_int64_stay_text(tmp_path):
    huge = 2**63 + 5
    frame = pd.DataFrame(
        {"item": [str(huge), str(huge), "7", "7"], "worker": ["a", "b"] * 2, "label": list("xyxx")}
    )
    path = tmp_path / "ann.csv"
    frame.to_csv(path, index=False)
    ann = Annotations.read(path)
    assert ann.item_ids.tolist() == ["7", str(huge)]
    small = frame.assign(item=["9223372036854775807"] * 2 + ["7"] * 2)  # int64's max: 19 digits
    assert Annotations.from_frame(small).item_ids.dtype == object
    floats = pd.DataFrame({"item": [2.0**60, 2.0**60, 1.0, 1.0], "worker": [0, 1] * 2,
                           "label": [0, 1, 0, 0]})  # fmt: skip
    assert Annotations.from_frame(floats).item_ids.dtype.kind == "f"  # not silently rounded


# ---------------------------------------------------------------- labels by id
def test_labels_are_matched_by_id_not_by_row(tmp_path):
    ids = np.array(["a", "b", "c", "d"])
    labels = pd.DataFrame({"id": ["c", "a", "d"], "label": ["z", "x", "w"]})
    path = tmp_path / "labels.csv"
    labels.to_csv(path, index=False)
    got = read_labels(path, ids=ids, n_rows=4)
    assert got.tolist() == ["x", None, "z", "w"]  # b has no row: unlabeled


def test_labels_by_id_against_row_numbers_of_bare_features(tmp_path):
    rng = np.random.default_rng(1)
    order = rng.permutation(50)
    y = np.arange(50) % 3
    path = tmp_path / "y.csv"
    pd.DataFrame({"item": order, "label": y[order]}).to_csv(path, index=False)
    got = read_labels(path, n_rows=50)
    assert (got.to_numpy() == y).all()


@pytest.mark.parametrize(
    ("ids", "match"),
    [
        (["a", "a", "b"], r"row 1 repeats id 'a'"),
        (["a", "q", "b"], r"row 1 has id 'q', which is not among the features' ids"),
    ],
)
def test_labels_ids_that_cannot_be_matched(tmp_path, ids, match):
    path = tmp_path / "labels.csv"
    pd.DataFrame({"id": ids, "label": [0, 1, 0]}).to_csv(path, index=False)
    with pytest.raises(InputError, match=match):
        read_labels(path, ids=np.array(["a", "b", "c"]), n_rows=3)


def test_labels_without_ids_must_have_one_row_per_item(tmp_path):
    path = tmp_path / "labels.csv"
    pd.DataFrame({"label": [0, 1, 0]}).to_csv(path, index=False)
    with pytest.raises(InputError, match="has 3 rows but the features have 4; add an id column"):
        read_labels(path, n_rows=4)


def test_audit_cli_matches_shuffled_labels_by_id(tmp_path):
    X, y = load_digits(return_X_y=True)
    X, y = X[:300], y[:300]
    np.save(tmp_path / "X.npy", X)
    order = np.random.default_rng(0).permutation(300)
    pd.DataFrame({"id": order, "label": y[order]}).to_csv(tmp_path / "y.csv", index=False)
    out = tmp_path / "issues.csv"
    res = runner.invoke(
        app,
        ["audit", "--features", str(tmp_path / "X.npy"), "--labels", str(tmp_path / "y.csv"),
         "-o", str(out)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    issues = pd.read_csv(out)
    # clean digits labels: a handful of flags, not the 192 of 200 of a row-order match
    assert (issues["issue"] == "label_issue").sum() <= 10


# ------------------------------------------------------------- fitted attributes
@pytest.mark.parametrize("name", list(METHODS))
def test_fitted_attributes_before_fit(name):
    model = make_aggregator(name)
    with pytest.raises(NotFittedError, match=f"This {type(model).__name__} instance is not"):
        _ = model.labels_
    assert not hasattr(model, "proba_")
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        _ = model.nonsense


def test_aggregators_stay_sklearn_estimators(crowd):
    from sklearn.base import clone

    model = DawidSkene(max_iter=70)
    twin = clone(model)
    assert twin.get_params()["max_iter"] == 70 and twin is not model
    assert repr(model) == "DawidSkene(max_iter=70)"
    assert MajorityVote().set_params(ties="flag").ties == "flag"
    with pytest.raises(ValueError, match="Invalid parameter 'nope' for DawidSkene"):
        model.set_params(nope=1)
    ann, _ = crowd
    assert clone(model).fit(ann).labels_.shape == (ann.n_items,)


# ------------------------------------------------------- a model too weak to audit
def _weak_and_strong():
    X, y = load_digits(return_X_y=True)
    X, y = X[:500], y[:500]
    noise = np.random.default_rng(0).normal(size=X.shape)  # features that say nothing
    return X, noise, y


def test_audit_with_a_model_no_better_than_the_baseline_flags_nothing():
    _X, noise, y = _weak_and_strong()
    with pytest.warns(WeakModelWarning, match="not trustworthy"):
        rep = audit_dataset(noise, y, n_splits=3)
    check = rep.model_check
    assert check is not None and not check.trusted
    assert check.accuracy < 0.2 and check.baseline == pytest.approx(np.bincount(y).max() / 500)
    assert (rep.issues["issue"] == "label_issue").sum() == 0
    assert rep.summary.set_index("issue").loc["label_issue", "count"] == 0
    assert rep.label_issues is not None and rep.label_issues.n_estimated > 250  # what it hid


def test_audit_with_a_good_model_still_flags_real_flips():
    X, _noise, y = _weak_and_strong()
    given = y.copy()
    flipped = np.arange(0, 500, 25)
    given[flipped] = (y[flipped] + 3) % 10
    with warnings.catch_warnings():
        warnings.simplefilter("error", WeakModelWarning)
        rep = audit_dataset(X, given, n_splits=3)
    assert rep.model_check is not None and rep.model_check.trusted
    flagged = set(rep.issues.loc[rep.issues["issue"] == "label_issue", "row"])
    assert len(flagged & set(flipped)) >= 15


def test_audit_cli_prints_accuracy_and_refuses_a_weak_model(tmp_path):
    _X, noise, y = _weak_and_strong()
    np.save(tmp_path / "X.npy", noise)
    pd.DataFrame({"label": y}).to_csv(tmp_path / "y.csv", index=False)
    res = runner.invoke(
        app,
        ["audit", "--features", str(tmp_path / "X.npy"), "--labels", str(tmp_path / "y.csv"),
         "--folds", "3", "-o", str(tmp_path / "issues.csv")],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "label model: out-of-fold accuracy 0.1" in res.output
    assert "most-frequent-class baseline 0.1" in res.output
    assert "not trustworthy" in res.output and "flags nothing" in res.output
    # progress on stderr, as plain lines (the runner is not a terminal)
    assert "audit: out-of-fold model 3/3 (100%)" in res.stderr
    assert "audit: neighbours, outliers, duplicates" in res.stderr


# --------------------------------------------------------------------- progress
def test_plain_progress_lines_are_throttled(capsys):
    from labelwise.cli._progress import _Lines

    lines = _Lines("plan", every=3600)
    for i in range(101):
        lines("learning curve", i, 100)
    lines("fit", 1, None)
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("plan: learning curve 0/100 (0%), elapsed 0:00:00")
    assert err[1].startswith("plan: learning curve 100/100 (100%)")
    assert err[2].startswith("plan: fit 1, elapsed") and len(err) == 3


# ----------------------------------------------------------------- light import
def test_import_does_not_load_heavy_libraries():
    heavy = ["sklearn", "matplotlib", "faiss", "dask", "distributed", "torch"]
    code = (
        f"import sys, labelwise, labelwise.cli; print([m for m in {heavy!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
    code = "import sys, labelwise; print([m for m in ('numpy', 'pandas') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_npz_features_take_the_numeric_array_and_its_ids(tmp_path):
    from labelwise.io import read_features

    items = np.array(["b", "a", "c"])
    images = np.arange(3 * 2 * 2 * 3, dtype=np.uint8).reshape(3, 2, 2, 3)
    np.savez(tmp_path / "imgs.npz", item=items, images=images)  # the LabelMe layout
    ids, X = read_features(tmp_path / "imgs.npz")
    assert ids.tolist() == ["b", "a", "c"] and X.shape == (3, 12) and X[1, 0] == 12
