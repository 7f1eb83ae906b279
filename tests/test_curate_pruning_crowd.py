"""Pruning strategies and crowd consensus quality, with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from labelwise.aggregate import DawidSkene, MajorityVote
from labelwise.annotations import Annotations
from labelwise.curate import consensus_quality, prototype_scores, prune
from labelwise.errors import InputError, ParameterError


def _blobs(seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = np.eye(4) * 10
    y = np.repeat(np.arange(4), 50)
    X = centres[y] + rng.normal(size=(200, 4))
    return X, y


def test_prototype_scores_low_near_centres():
    X, _ = _blobs()
    X[0] = np.array([10.0, 0, 0, 0])  # exactly a centre
    X[1] = np.array([5.0, 5.0, 0, 0])  # half way between two
    s = prototype_scores(X, n_clusters=4, random_state=0)
    assert s.shape == (200,)
    assert s[0] < np.median(s) < s[1]
    assert s[1] == s.max()


def test_prune_easy_hard_and_auto():
    X, _y = _blobs()
    s = prototype_scores(X, n_clusters=4, random_state=0)
    easy = prune(X, 0.2, scores=s, keep="easy")
    hard = prune(X, 0.2, scores=s, keep="hard")
    assert len(easy) == len(hard) == 40
    assert s[easy].max() <= s[hard].min()
    assert np.array_equal(prune(X, 0.2, scores=s), easy)  # auto: easy below 0.3
    assert np.array_equal(prune(X, 0.6, scores=s), prune(X, 0.6, scores=s, keep="hard"))
    assert (np.diff(easy) > 0).all()  # sorted, no repeats


def test_random_and_class_balanced_baselines():
    X, y = _blobs()
    y = np.r_[np.zeros(170, int), np.ones(20, int), np.full(10, 2)]
    r = prune(X, 0.5, strategy="random", random_state=1)
    assert len(r) == 100 and len(np.unique(r)) == 100
    assert np.array_equal(r, prune(X, 0.5, strategy="random", random_state=1))
    cb = prune(X, 0.3, strategy="class_balanced", labels=y, random_state=0)
    # 60 kept: 20 each, but class 2 has only 10, so class 0 takes the surplus
    assert np.bincount(y[cb]).tolist() == [30, 20, 10]
    with pytest.raises(InputError, match="needs labels"):
        prune(X, 0.3, strategy="class_balanced")
    with pytest.raises(ParameterError, match="'fraction' parameter of prune"):
        prune(X, 1.5)
    with pytest.raises(ParameterError, match="'strategy' parameter of prune"):
        prune(X, 0.5, strategy="best")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="Lengths differ: X has 200, labels has 3"):
        prune(X, 0.5, strategy="class_balanced", labels=[0, 1, 2])


def _crowd():
    # 3 annotators on 6 items; "c" is an adversary who is always wrong
    truth = np.array([0, 0, 1, 1, 0, 1])
    rows = []
    for i, t in enumerate(truth):
        rows += [(i, "a", t), (i, "b", t), (i, "c", 1 - t)]
    rows[3 * 5 + 1] = (5, "b", 0)  # item 5: a says 1, b says 0, c says 0
    item, worker, label = zip(*rows, strict=True)
    return Annotations.from_arrays(list(item), list(worker), list(label)), truth


def test_consensus_quality_puts_the_doubtful_item_first():
    ann, truth = _crowd()
    model = np.where(truth[:, None] == np.arange(2)[None, :], 0.9, 0.1)
    q = consensus_quality(ann, model, aggregator=MajorityVote())
    assert q.ranking[0] == 5  # majority says 0 but the model and the good annotator say 1
    assert q.quality[5] < 0.5 < q.quality[:5].min()
    assert q.suggested.tolist() == truth.tolist()
    assert q.posterior.sum(axis=1) == pytest.approx(np.ones(6))


def test_consensus_quality_uses_dawid_skene_confusions():
    ann, truth = _crowd()
    model = np.full((6, 2), 0.5)
    q = consensus_quality(ann, model, aggregator=DawidSkene())
    # the model (always 0.5) is no better than the baseline: it keeps the minimum weight,
    # and the confusion rows of Dawid-Skene read the adversary "c" backwards
    assert q.model_weight == pytest.approx(1e-3 * np.sqrt(3))
    assert q.suggested[:5].tolist() == truth[:5].tolist()
    assert q.posterior.sum(axis=1) == pytest.approx(np.ones(6))


def test_consensus_quality_errors():
    ann, _ = _crowd()
    with pytest.raises(InputError, match=r"proba has shape \(5, 2\); the annotations have 6"):
        consensus_quality(ann, np.full((5, 2), 0.5))
    with pytest.raises(InputError, match="proba row 0 is not a probability distribution"):
        consensus_quality(ann, np.full((6, 2), 0.7))
    with pytest.raises(InputError, match="must be an Annotations object"):
        consensus_quality(np.zeros(3), np.full((6, 2), 0.5))  # type: ignore[arg-type]


def test_consensus_quality_keeps_the_vote_tie_break(shared_data):
    # LabelMe has 2.5 answers per item: many ties, where arg-max of the vote shares
    # (first class) and MajorityVote's random tie-break disagree
    ann = Annotations.read(shared_data / "crowd" / "labelme" / "annotations.csv")
    mv = MajorityVote(random_state=3).fit(ann)
    assert mv.tied_.sum() > 50
    model = np.full((ann.n_items, ann.n_classes), 1.0 / ann.n_classes)
    q = consensus_quality(ann, model, aggregator=mv)
    assert np.array_equal(q.consensus, mv.label_codes_)
    assert not np.array_equal(q.consensus, mv.proba_.argmax(axis=1))
    # an unfitted MajorityVote is fitted inside and still keeps its tie-break
    q2 = consensus_quality(ann, model, aggregator=MajorityVote(random_state=3))
    assert np.array_equal(q2.consensus, mv.label_codes_)


def test_consensus_quality_with_flagged_ties_uses_the_combined_posterior():
    ann = Annotations.from_arrays([0, 0, 1, 1, 1], list("ababc"), [0, 1, 1, 1, 0])
    model = np.array([[0.2, 0.8], [0.3, 0.7]])
    q = consensus_quality(ann, model, aggregator=MajorityVote(ties="flag"))
    # item 0 is tied 1-1 under the vote; the model breaks it toward class 1
    assert q.consensus.tolist() == [1, 1]
    assert np.all((q.quality > 0) & (q.quality <= 1))
