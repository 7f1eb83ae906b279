"""Weak supervision: labeling functions, the vote matrix, its analysis and the label model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from labelwise.annotations import Annotations
from labelwise.cli import app
from labelwise.errors import InputError
from labelwise.weak import (
    ABSTAIN,
    FunctionError,
    Item,
    LabelModel,
    VoteMatrix,
    apply_functions,
    function_summary,
    keyword_function,
    labeling_function,
    load_functions,
    majority_vote,
    pattern_function,
    prototype_votes,
)

CLASSES = ["sport", "money"]


@labeling_function
def says_goal(x):
    return "sport" if "goal" in x.text else ABSTAIN


@labeling_function(name="says_bank")
def _bank(x):
    return "money" if "bank" in x["text"] else ABSTAIN


@labeling_function
def never(x):
    return ABSTAIN


@labeling_function
def fragile(x):
    if "boom" in x.text:
        raise RuntimeError("cannot parse")
    return ABSTAIN


@labeling_function
def wrong_class(x):
    return "weather" if "rain" in x.text else ABSTAIN


TABLE = pd.DataFrame(
    {
        "id": ["a", "b", "c", "d", "e"],
        "text": ["late goal", "bank rates", "goal at the bank", "boom", "rain again"],
    }
)


def test_apply_votes_and_names():
    votes = apply_functions(TABLE, [says_goal, _bank], classes=CLASSES, item_col="id")
    assert votes.functions == ("says_goal", "says_bank")
    assert votes.item_ids.tolist() == ["a", "b", "c", "d", "e"]
    assert votes.codes.tolist() == [[0, -1], [-1, 1], [0, 1], [-1, -1], [-1, -1]]
    assert votes.to_frame().loc[2, "says_bank"] == "money"
    assert len(votes.errors) == 0


def test_function_that_raises_is_reported_with_the_item_not_a_crash():
    votes = apply_functions(
        TABLE, [says_goal, fragile, wrong_class], classes=CLASSES, item_col="id"
    )
    assert votes.codes[:, 0].tolist() == [0, -1, 0, -1, -1]  # other functions unaffected
    assert (votes.codes[:, 1:] == -1).all()
    errs = votes.errors.set_index("function")
    assert errs.loc["fragile", "item"] == "d"
    assert "RuntimeError: cannot parse" in errs.loc["fragile", "error"]
    assert errs.loc["wrong_class", "item"] == "e"
    assert "'weather'" in errs.loc["wrong_class", "error"]
    summary = function_summary(votes).set_index("function")
    assert summary.loc["fragile", "n_errors"] == 1
    with pytest.raises(FunctionError, match=r"'fragile' raised on item 'd'"):
        apply_functions(TABLE, [fragile], classes=CLASSES, item_col="id", on_error="raise")


def test_abstain_only_function_changes_nothing():
    gold = ["sport", "money", "sport", "money", "sport"]
    with_never = apply_functions(TABLE, [says_goal, _bank, never], classes=CLASSES)
    without = apply_functions(TABLE, [says_goal, _bank], classes=CLASSES)
    summary = function_summary(with_never, gold=gold).set_index("function")
    assert summary.loc["never", "coverage"] == 0
    assert np.isnan(summary.loc["never", "accuracy"])
    assert summary.loc["says_goal", "accuracy"] == 1.0
    assert summary.loc["says_goal", "conflict"] == pytest.approx(1 / 5)
    a = LabelModel().fit(with_never)
    b = LabelModel().fit(without)
    np.testing.assert_allclose(a.proba_, b.proba_, atol=1e-9)
    assert np.isnan(a.accuracy_[2])


def test_empty_vote_matrices():
    empty_table = TABLE.iloc[:0]
    votes = apply_functions(empty_table, [says_goal, _bank], classes=CLASSES)
    assert votes.codes.shape == (0, 2)
    assert function_summary(votes)["coverage"].tolist() == [0.0, 0.0]
    with pytest.raises(InputError, match="no items"):
        LabelModel().fit(votes)
    # items but not one vote: every item keeps the prior
    silent = apply_functions(TABLE, [never], classes=CLASSES)
    model = LabelModel().fit(silent)
    np.testing.assert_allclose(model.proba_, 0.5)
    assert not model.covered_.any()
    no_functions = VoteMatrix.from_codes(np.zeros((3, 0), dtype=int), classes=CLASSES)
    assert LabelModel().fit(no_functions).proba_.shape == (3, 2)
    assert majority_vote(no_functions).shape == (3,)


def _synthetic_votes(seed=0, n=3000, k=3):
    """Three good independent functions and five exact copies of a poor one."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)

    def lf(acc, cov):
        out = np.where(rng.random(n) < acc, y, (y + rng.integers(1, k, n)) % k)
        return np.where(rng.random(n) < cov, out, -1)

    good = [lf(0.85, 0.5) for _ in range(3)]
    poor = lf(0.45, 0.9)
    codes = np.column_stack(good + [poor] * 5)
    return VoteMatrix.from_codes(codes, classes=["a", "b", "c"]), y


def test_label_model_beats_majority_vote_and_discounts_copies():
    votes, y = _synthetic_votes()
    mv = (majority_vote(votes) == y).mean()
    default = LabelModel().fit(votes)
    assert (default.proba_.argmax(axis=1) == y).mean() > mv + 0.04
    # without shrinkage (the defaults are tuned for keyword functions on real text)
    auto = LabelModel(shrinkage=0.0, correlation_threshold=0.3).fit(votes)
    plain = LabelModel(shrinkage=0.0, correlation="ignore").fit(votes)
    acc_auto = (auto.proba_.argmax(axis=1) == y).mean()
    acc_plain = (plain.proba_.argmax(axis=1) == y).mean()
    assert acc_auto > mv + 0.15
    assert acc_auto > acc_plain + 0.1  # counting the five copies five times misleads
    np.testing.assert_allclose(auto.weight_[3:], 0.2, atol=0.02)  # five copies, one vote
    assert auto.weight_[:3].min() > 0.9
    np.testing.assert_allclose(auto.accuracy_[:3], 0.85, atol=0.03)
    np.testing.assert_allclose(auto.accuracy_[3], 0.45, atol=0.05)
    # predicting the fitted items again reproduces the fit
    np.testing.assert_allclose(auto.predict_proba(votes), auto.proba_, atol=1e-9)


def test_functions_and_crowd_in_one_model():
    votes, y = _synthetic_votes(seed=1, n=1500)
    rng = np.random.default_rng(5)
    items = np.repeat(np.arange(0, 1500, 2), 3)  # every other item, three people each
    workers = rng.integers(0, 20, items.shape[0])
    answers = np.where(rng.random(items.shape[0]) < 0.8, y[items], (y[items] + 1) % 3)
    frame = pd.DataFrame({"item": items, "worker": workers, "label": answers})
    frame = frame.drop_duplicates(["item", "worker"])
    crowd = Annotations.from_frame(
        frame.assign(label=np.array(["a", "b", "c"])[frame["label"]]), classes=["a", "b", "c"]
    )
    alone = LabelModel().fit(votes)
    joint = LabelModel().fit(votes, crowd=crowd)
    both = (joint.proba_[:1500].argmax(axis=1) == y).mean()
    assert both > (alone.proba_.argmax(axis=1) == y).mean() + 0.03
    assert joint.crowd_skill_ is not None and joint.crowd_skill_.between(0.6, 0.95).all()
    # known classes are clamped, and an unknown class name is a clear error
    gold = {i: "abc"[y[i]] for i in range(100)}
    clamped = LabelModel().fit(votes, gold=gold)
    assert (clamped.proba_[np.arange(100), y[:100]] == 1.0).all()
    with pytest.raises(InputError, match="'zebra' of item 3"):
        LabelModel().fit(votes, gold={3: "zebra"})


def test_parallel_apply_matches_serial():
    big = pd.concat([TABLE] * 40, ignore_index=True)
    serial = apply_functions(big, [says_goal, _bank, fragile], classes=CLASSES)
    parallel = apply_functions(
        big, [says_goal, _bank, fragile], classes=CLASSES, n_jobs=2, chunk_size=50
    )
    np.testing.assert_array_equal(serial.codes, parallel.codes)
    pd.testing.assert_frame_equal(serial.errors, parallel.errors)


def test_prototype_votes_from_a_few_examples():
    rng = np.random.default_rng(0)
    centres = np.eye(3, 8) * 3
    y = rng.integers(0, 3, 300)
    x = centres[y] + rng.normal(size=(300, 8)) * 0.5
    votes = prototype_votes(x, x[:15], np.array([*CLASSES, "x"])[y[:15]], classes=[*CLASSES, "x"])
    voted = votes.codes.max(axis=1)
    assert (voted >= 0).mean() > 0.8
    assert (voted[voted >= 0] == y[voted >= 0]).mean() > 0.95
    with pytest.raises(InputError, match="not one of the classes"):
        prototype_votes(x, x[:2], ["zzz", "sport"], classes=CLASSES)


LF_FILE = """
from labelwise.weak import ABSTAIN, labeling_function
CLASSES = ["sport", "money"]

@labeling_function
def goal(x):
    return "sport" if "goal" in x.text else ABSTAIN

@labeling_function
def bank(x):
    return "money" if "bank" in x.text else ABSTAIN

@labeling_function
def crashes(x):
    return 1 / 0 if "boom" in x.text else ABSTAIN
"""


def test_cli_weak_writes_votes_analysis_and_labels(tmp_path):
    lf_path = tmp_path / "lfs.py"
    lf_path.write_text(LF_FILE)
    assert [f.name for f in load_functions(lf_path)] == ["goal", "bank", "crashes"]
    table = TABLE.assign(gold=["sport", "money", "sport", None, None])
    table.to_csv(tmp_path / "items.csv", index=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "weak",
            str(lf_path),
            str(tmp_path / "items.csv"),
            "-o",
            str(out),
            "--item-col",
            "id",
            "--gold-col",
            "gold",
        ],
    )
    assert result.exit_code == 0, result.output
    votes = pd.read_csv(out / "votes.csv")
    assert list(votes.columns) == ["item", "goal", "bank", "crashes"]
    labels = pd.read_csv(out / "labels.csv")
    assert labels.loc[0, "label"] == "sport" and labels.loc[1, "label"] == "money"
    assert {"p_sport", "p_money", "majority_vote"} <= set(labels.columns)
    funcs = pd.read_csv(out / "functions.csv").set_index("function")
    assert funcs.loc["goal", "accuracy"] == 1.0
    errors = pd.read_csv(out / "errors.csv")
    assert errors.loc[0, "item"] == "d" and "ZeroDivisionError" in errors.loc[0, "error"]
    assert "function failure" in result.output
    bad = CliRunner().invoke(
        app, ["weak", str(tmp_path / "nope.py"), str(tmp_path / "items.csv"), "-o", str(out)]
    )
    assert bad.exit_code == 2 and "does not exist" in bad.output


def test_keyword_and_pattern_functions_vote_on_whole_words_and_abstain_elsewhere():
    goals = keyword_function("goals", "sport", ["goals?", "match"])
    price = pattern_function("price", "money", r"\$\d", field="headline")
    table = pd.DataFrame(
        {
            "text": ["Two GOALS late", "goalkeeper trade", "the match ended", "rates rise"],
            "headline": ["x", "costs $5", "y", "$3 fee"],
        }
    )
    votes = apply_functions(table, [goals, price], classes=CLASSES)
    frame = votes.to_frame().fillna("-")  # an abstain is a missing vote
    assert list(frame["goals"]) == ["sport", "-", "sport", "-"]  # "goalkeeper" is no word match
    assert list(frame["price"]) == ["-", "money", "-", "money"]
    assert goals.name == "goals" and price(Item(text="", headline="$9")) == "money"
