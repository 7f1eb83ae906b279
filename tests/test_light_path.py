"""The small-file fast path gives exactly what the pandas path gives, and a small
``labelwise aggregate`` runs without importing pandas or scipy (issue 18: start-up)."""

from __future__ import annotations

import csv
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _crowd import make_crowd
from labelwise import Annotations, DawidSkene
from labelwise._light_csv import read_light_annotations
from labelwise._tables import read_table
from labelwise.aggregate import dawid_skene
from labelwise.io import write_columns, write_frame

CROWD = Path(__file__).resolve().parents[2] / "shared" / "data" / "crowd"

# ids and class names as real files have them: integers, zero-padded codes, text with
# spaces and punctuation, numbers written as floats, the words NA/None, non-ASCII
_IDS = st.one_of(
    st.integers(-5, 10**6).map(str),
    st.sampled_from(["007", "0", "-0", "12345678901234567890", "a,b", 'q"uote', "é", "x y"]),
    st.text(alphabet="abcXYZ019 _-", min_size=1, max_size=6),
)
_LABELS = st.one_of(
    st.sampled_from([" cat", "cat", "Cat", "dog ", "1", "1.0", "2", "NA", "None", "null", " "]),
    st.integers(0, 3).map(str),
)


def _write(path: Path, rows: list[tuple[str, str, str]], delimiter: str = ",") -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        writer.writerow(["worker", "item", "note", "label"])
        writer.writerows((w, i, "n", y) for i, w, y in rows)


def _same(a: Annotations, b: Annotations) -> None:
    for name in ("item", "worker", "label", "item_ids", "worker_ids", "classes"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype.kind == y.dtype.kind or {x.dtype.kind, y.dtype.kind} <= {"O", "U", "T"}, name
        assert x.tolist() == y.tolist(), name
        assert [type(v) for v in x.tolist()] == [type(v) for v in y.tolist()], name


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.tuples(_IDS, _IDS, _LABELS), min_size=1, max_size=30), tsv=st.booleans())
def test_fast_path_equals_the_pandas_path_or_steps_aside(tmp_path, rows, tsv):
    path = tmp_path / ("a.tsv" if tsv else "a.csv")
    _write(path, rows, "\t" if tsv else ",")
    light = read_light_annotations(path, "item", "worker", "label")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            full = Annotations.from_frame(read_table(path))
        except Exception:
            assert light is None
            return
    if light is None:
        return
    assert not caught, "the fast path must step aside whenever the full path warns"
    _same(Annotations(**light), full)
    _same(Annotations.read(path), full)


def test_fast_path_takes_a_plain_file_and_steps_aside_for_unclean_ones(tmp_path):
    path = tmp_path / "a.csv"
    _write(path, [("i1", "w1", "cat"), ("i1", "w2", "dog"), ("i2", "w1", " cat")])
    light = read_light_annotations(path, "item", "worker", "label")
    assert light is not None
    assert light["classes"].tolist() == ["cat", "dog"]
    for rows in (
        [("i1", "w1", "cat"), ("i1", "w1", "dog")],  # a repeated (worker, item) pair
        [("i1", "w1", "cat"), ("i2", "w1", "")],  # a missing label
        [("i1", "w1", "cat"), ("i2", "w1", "Cat")],  # names that differ only in case
        [("i1", "w1", "cat"), ("i2", "w1", "cat")],  # one class
    ):
        _write(path, rows)
        assert read_light_annotations(path, "item", "worker", "label") is None, rows
    path.write_text("item,worker,label\ni1,w1,cat\ni2,w2\n")  # a ragged row
    assert read_light_annotations(path, "item", "worker", "label") is None


@pytest.mark.skipif(not CROWD.exists(), reason="needs ../shared/data/crowd")
@pytest.mark.parametrize("name", ["rte", "temp"])
def test_fast_path_on_real_crowds(tmp_path, name):
    source = next((CROWD / name).glob("annotations.*"))
    full = Annotations.from_frame(read_table(source))
    path = tmp_path / "a.csv"
    full.to_frame().to_csv(path, index=False)
    assert read_light_annotations(path, "item", "worker", "label") is not None
    _same(Annotations.read(path), Annotations.from_frame(read_table(path)))


def test_indexed_answers_products_equal_the_sparse_ones():
    ann, _ = make_crowd(n_items=300, seed=3)
    rng = np.random.default_rng(0)
    s = ann.answer_matrix(np.float64)
    idx = dawid_skene.IndexedAnswers(ann)
    rows = rng.random((ann.n_workers * ann.n_classes, ann.n_classes))
    post = rng.random((ann.n_items, ann.n_classes))
    np.testing.assert_allclose(idx @ rows, s @ rows, rtol=1e-12)
    np.testing.assert_allclose(idx.T @ post, np.asarray(s.T @ post), rtol=1e-12)


def test_dawid_skene_same_fit_on_both_answer_forms(monkeypatch):
    ann, _ = make_crowd(n_items=400, seed=5)
    small = DawidSkene().fit(ann)
    monkeypatch.setattr(dawid_skene, "INDEXED_ANSWERS_LIMIT", 0)
    large = DawidSkene().fit(ann)
    assert small.n_iter_ == large.n_iter_
    np.testing.assert_allclose(small.proba_, large.proba_, atol=1e-5)
    assert (small.labels_ == large.labels_).all()


@pytest.mark.parametrize("suffix", [".csv", ".tsv"])
def test_write_columns_writes_what_pandas_writes(tmp_path, suffix):
    columns = {
        "item": np.array(["a,1", 'b"2', "c"], dtype=object),
        "label": np.array(["cat", None, "x y"], dtype=object),
        "confidence": np.array([0.1, np.nan, 1 / 3]),
        "n_annotations": np.array([3, 0, 12]),
        "agreement": np.array([1.0, np.nan, 1e-7]),
        "tied": np.array([False, True, False]),
    }
    ours = write_columns(columns, tmp_path / f"ours{suffix}")
    theirs = write_frame(pd.DataFrame(columns), tmp_path / f"theirs{suffix}")
    assert ours.read_bytes() == theirs.read_bytes()


def test_small_aggregate_imports_neither_pandas_nor_scipy(tmp_path):
    ann, _ = make_crowd(n_items=200, seed=1)
    frame = ann.to_frame()
    frame["item"] = "img-" + frame["item"].astype(str)
    frame.to_csv(tmp_path / "a.csv", index=False)
    code = (
        "import sys\n"
        "from labelwise.cli import main\n"
        f"sys.argv = ['labelwise', 'aggregate', {str(tmp_path / 'a.csv')!r}, '-m', '{{m}}',"
        f" '-o', {str(tmp_path / 'out.csv')!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "print('HEAVY', [m for m in ('pandas', 'scipy', 'pydantic') if m in sys.modules])\n"
    )
    for method in ("mv", "ds"):
        out = subprocess.run(
            [sys.executable, "-c", code.replace("{m}", method)],
            capture_output=True,
            text=True,
            check=True,
        )
        assert "HEAVY []" in out.stdout, out.stdout + out.stderr
        written = pd.read_csv(tmp_path / "out.csv")
        assert len(written) == 200 and written["item"].str.startswith("img-").all()
