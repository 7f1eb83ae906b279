"""Scores on hand-made probability rows with known values, and their invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from labelwise.active.strategies import (
    bald,
    entropy,
    get_score,
    information_density,
    least_confidence,
    margin,
    mean_kl,
    random_scores,
    target_class,
    vote_entropy,
)
from labelwise.errors import InputError, ParameterError

ROWS = np.array(
    [
        [1.0, 0.0, 0.0],  # certain
        [1 / 3, 1 / 3, 1 / 3],  # uniform
        [0.5, 0.5, 0.0],  # two-way tie
        [0.6, 0.3, 0.1],
    ]
)


def test_least_confidence_known_values() -> None:
    np.testing.assert_allclose(least_confidence(ROWS), [0.0, 2 / 3, 0.5, 0.4])


def test_margin_known_values() -> None:
    np.testing.assert_allclose(margin(ROWS), [0.0, 1.0, 1.0, 0.7])


def test_entropy_known_values() -> None:
    expected = [
        0.0,
        math.log(3),
        math.log(2),
        -(0.6 * math.log(0.6) + 0.3 * math.log(0.3) + 0.1 * math.log(0.1)),
    ]
    np.testing.assert_allclose(entropy(ROWS), expected)


def test_target_class_and_bad_class() -> None:
    np.testing.assert_allclose(target_class(ROWS, 1), [0.0, 1 / 3, 0.5, 0.3])
    with pytest.raises(ParameterError, match="'cls' parameter of target_class"):
        target_class(ROWS, 3)


def test_scores_reject_rows_that_are_not_distributions() -> None:
    with pytest.raises(InputError, match="row 1 is not a probability distribution"):
        margin([[0.5, 0.5], [0.9, 0.3]])
    with pytest.raises(InputError, match="2-D array"):
        entropy([0.5, 0.5])


def test_get_score_lists_valid_names() -> None:
    assert get_score("margin") is margin
    with pytest.raises(ParameterError, match="Unknown score 'nope'; valid: entropy"):
        get_score("nope")


def test_random_scores_same_seed_same_scores() -> None:
    np.testing.assert_array_equal(
        random_scores(5, random_state=3), random_scores(5, random_state=3)
    )
    assert not np.array_equal(random_scores(5, random_state=3), random_scores(5, random_state=4))


def test_information_density_equals_brute_force_mean_cosine() -> None:
    rng = np.random.default_rng(0)
    E = rng.random((30, 4))
    s = rng.random(30)
    En = E / np.linalg.norm(E, axis=1, keepdims=True)
    brute = s * (En @ En.T).mean(axis=1) ** 2.0
    np.testing.assert_allclose(information_density(s, E, beta=2.0), brute)
    np.testing.assert_allclose(information_density(s, E, beta=0.0), s)


def test_information_density_clips_negative_similarity_and_checks_shapes() -> None:
    E = np.array([[1.0, 0.0], [1.0, 0.0], [-1.0, 0.0]])
    # the third row's mean similarity is (-1 -1 +1)/3 < 0: no density bonus
    assert information_density(np.ones(3), E)[2] == 0.0
    with pytest.raises(InputError, match="scores has shape"):
        information_density(np.ones(2), E)


# committee of two members over three items, two classes
AGREE = [[0.9, 0.1], [0.9, 0.1]]
CONFIDENT_DISAGREE = [[1.0, 0.0], [0.0, 1.0]]
BOTH_UNSURE = [[0.5, 0.5], [0.5, 0.5]]
COMMITTEE = np.transpose(np.array([AGREE, CONFIDENT_DISAGREE, BOTH_UNSURE]), (1, 0, 2))


def test_vote_entropy_known_values() -> None:
    np.testing.assert_allclose(vote_entropy(COMMITTEE), [0.0, math.log(2), 0.0])


def test_bald_and_mean_kl_known_values() -> None:
    # disagreeing confident members: H(mean) = log 2, mean H = 0; unsure members: 0
    np.testing.assert_allclose(bald(COMMITTEE), [0.0, math.log(2), 0.0], atol=1e-12)
    np.testing.assert_allclose(mean_kl(COMMITTEE), bald(COMMITTEE), atol=1e-12)


def test_committee_shape_error() -> None:
    with pytest.raises(InputError, match="3-D array"):
        bald(ROWS)
    bad = COMMITTEE.copy()
    bad[1, 0] = [0.7, 0.7]
    with pytest.raises(InputError, match="committee member 1 row 0"):
        vote_entropy(bad)


prob_rows = arrays(np.float64, (6, 4), elements=st.floats(0.01, 1.0)).map(
    lambda a: a / a.sum(axis=1, keepdims=True)
)


@settings(max_examples=40, deadline=None)
@given(prob_rows)
def test_scores_bounded_and_invariant_to_class_order(p: np.ndarray) -> None:
    perm = p[:, ::-1]
    for f, hi in ((least_confidence, 0.75), (margin, 1.0), (entropy, math.log(4))):
        s = f(p)
        assert ((s >= -1e-12) & (s <= hi + 1e-12)).all()
        np.testing.assert_allclose(f(perm), s)
    np.testing.assert_allclose(bald(np.stack([p, perm])), mean_kl(np.stack([p, perm])), atol=1e-10)
    assert (bald(np.stack([p, p])) < 1e-10).all()


def test_mc_dropout_adapter_says_torch_is_optional() -> None:
    import importlib.util

    from labelwise.active.torch_adapter import mc_dropout_proba

    if importlib.util.find_spec("torch") is not None:
        pytest.skip("torch is installed here")
    with pytest.raises(
        ImportError, match=r"needs torch; install it with 'pip install labelwise\[torch\]'"
    ):
        mc_dropout_proba(object(), np.ones((2, 3)))
