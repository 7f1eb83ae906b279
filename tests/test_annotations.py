"""Annotations: reading every format, id handling, and one clear error per bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from labelwise import Annotations, AnnotationsError
from labelwise.annotations import read_gold

FRAME = pd.DataFrame(
    {
        "item": ["a", "a", "b", "b", "c"],
        "worker": ["w1", "w2", "w1", "w3", "w2"],
        "label": ["cat", "dog", "dog", "dog", "cat"],
    }
)


def test_from_frame_encodes_codes_and_maps():
    ann = Annotations.from_frame(FRAME)
    assert ann.n_annotations == 5 and ann.n_items == 3 and ann.n_workers == 3
    assert list(ann.classes) == ["cat", "dog"]
    assert list(ann.item_ids[ann.item]) == list(FRAME["item"])
    assert list(ann.classes[ann.label]) == list(FRAME["label"])
    assert ann.item.dtype == np.int32 and ann.label.dtype == np.int32
    pd.testing.assert_frame_equal(ann.to_frame(), FRAME, check_dtype=False)


@pytest.mark.parametrize("ext", ["csv", "tsv", "jsonl", "parquet"])
def test_read_every_format(tmp_path, ext):
    path = tmp_path / f"ann.{ext}"
    if ext == "csv":
        FRAME.to_csv(path, index=False)
    elif ext == "tsv":
        FRAME.to_csv(path, sep="\t", index=False)
    elif ext == "jsonl":
        FRAME.to_json(path, orient="records", lines=True)
    else:
        FRAME.to_parquet(path)
    ann = Annotations.read(path)
    assert ann.n_annotations == 5 and list(ann.classes) == ["cat", "dog"]


def test_integer_ids_and_labels_stay_integers(tmp_path):
    df = pd.DataFrame({"item": [10, 10, 2], "worker": [1, 2, 1], "label": [0, 1, 1]})
    path = tmp_path / "a.csv"
    df.to_csv(path, index=False)
    ann = Annotations.read(path)
    assert ann.item_ids.tolist() == [2, 10]
    assert ann.classes.tolist() == [0, 1]


def test_leading_zero_ids_are_kept_as_strings(tmp_path):
    df = pd.DataFrame({"item": ["007", "7"], "worker": ["a", "a"], "label": ["x", "y"]})
    path = tmp_path / "a.csv"
    df.to_csv(path, index=False)
    assert sorted(Annotations.read(path).item_ids.tolist()) == ["007", "7"]


def test_configurable_column_names():
    df = FRAME.rename(columns={"item": "task", "worker": "annotator", "label": "answer"})
    ann = Annotations.from_frame(df, item="task", worker="annotator", label="answer")
    assert ann.n_items == 3


def test_declared_classes_keep_order_and_unseen_classes():
    ann = Annotations.from_frame(FRAME, classes=["dog", "cat", "bird"])
    assert ann.classes.tolist() == ["dog", "cat", "bird"]
    assert ann.vote_counts().shape == (3, 3)


def test_missing_column():
    with pytest.raises(AnnotationsError, match=r"missing column\(s\) \['worker'\]"):
        Annotations.from_frame(FRAME.drop(columns=["worker"]))


def test_empty_table_and_empty_file(tmp_path):
    with pytest.raises(AnnotationsError, match="empty"):
        Annotations.from_frame(FRAME.iloc[:0])
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(AnnotationsError, match="is empty"):
        Annotations.read(empty)
    header_only = tmp_path / "header.csv"
    header_only.write_text("item,worker,label\n")
    with pytest.raises(AnnotationsError, match="no rows"):
        Annotations.read(header_only)


def test_missing_file_and_unknown_extension(tmp_path):
    with pytest.raises(AnnotationsError, match="does not exist"):
        Annotations.read(tmp_path / "nope.csv")
    odd = tmp_path / "a.xlsx"
    odd.write_text("x")
    with pytest.raises(AnnotationsError, match="unknown extension"):
        Annotations.read(odd)


def test_label_outside_declared_classes_names_row_and_value():
    with pytest.raises(AnnotationsError, match=r"row 0 has label 'cat', which is not one of"):
        Annotations.from_frame(FRAME, classes=["dog", "bird"])


@pytest.mark.parametrize("col", ["item", "worker", "label"])
def test_nan_ids_or_labels(col):
    df = FRAME.copy()
    df.loc[3, col] = np.nan
    with pytest.raises(AnnotationsError, match=rf"column '{col}' has a missing value .* at row 3"):
        Annotations.from_frame(df)


def test_empty_string_label_in_csv(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("item,worker,label\na,w1,cat\nb,w1,\nc,w2,dog\n")
    with pytest.raises(AnnotationsError, match="column 'label' has a missing value .* at row 1"):
        Annotations.read(path)


def test_one_class_only():
    df = FRAME.assign(label="cat")
    with pytest.raises(AnnotationsError, match="only one class"):
        Annotations.from_frame(df)
    # a declared second class makes it valid
    assert Annotations.from_frame(df, classes=["cat", "dog"]).n_classes == 2


def test_duplicate_policy():
    df = pd.concat([FRAME, FRAME.iloc[[0]].assign(label="dog")], ignore_index=True)
    with pytest.raises(
        AnnotationsError,
        match=r"worker 'w1' labeled item 'a' more than once \(first repeat at row 5",
    ):
        Annotations.from_frame(df)
    last = Annotations.from_frame(df, duplicates="keep_last")
    assert last.n_annotations == 5
    kept = last.to_frame()
    assert kept[(kept.item == "a") & (kept.worker == "w1")].label.tolist() == ["dog"]
    assert Annotations.from_frame(df, duplicates="keep_all").n_annotations == 6
    with pytest.raises(AnnotationsError, match="'duplicates' parameter"):
        Annotations.from_frame(df, duplicates="drop")  # type: ignore[arg-type]


def test_answer_matrix_and_votes():
    ann = Annotations.from_frame(FRAME)
    s = ann.answer_matrix()
    assert s.shape == (3, 3 * 2) and s.sum() == 5
    votes = ann.vote_counts()
    np.testing.assert_array_equal(votes, [[1, 1], [0, 2], [1, 0]])
    np.testing.assert_array_equal(
        np.asarray(s.sum(axis=0)).reshape(3, 2).sum(axis=0), votes.sum(axis=0)
    )


def test_gold_encoding_and_errors(tmp_path):
    ann = Annotations.from_frame(FRAME)
    codes = ann.encode_gold({"a": "dog", "c": "cat"})
    assert codes.tolist() == [1, -1, 0]
    path = tmp_path / "gold.csv"
    pd.DataFrame({"item": ["a", "zzz"], "label": ["dog", "cat"]}).to_csv(path, index=False)
    with pytest.raises(
        AnnotationsError, match=r"gold row 1 names item 'zzz', which has no annotation"
    ):
        ann.encode_gold(read_gold(path))
    with pytest.raises(AnnotationsError, match="gold row 0 has label 'bird'"):
        ann.encode_gold({"a": "bird"})
    with pytest.raises(AnnotationsError, match="second, different label"):
        ann.encode_gold(pd.DataFrame({"item": ["a", "a"], "label": ["cat", "dog"]}))
    with pytest.raises(AnnotationsError, match="gold is missing column"):
        ann.encode_gold(pd.DataFrame({"id": ["a"], "label": ["cat"]}))


def test_from_codes_checks_ranges():
    with pytest.raises(AnnotationsError, match="label code 5 at row 1"):
        Annotations.from_codes([0, 1], [0, 0], [0, 5], n_items=2, n_workers=1, n_classes=3)


def test_subset_keeps_alignment():
    ann = Annotations.from_frame(FRAME)
    sub = ann.subset(ann.worker == 0)
    assert sub.n_items == ann.n_items and sub.n_annotations == 2
