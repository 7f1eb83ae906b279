"""Simulated crowds and label noise, for measuring every policy offline.

An annotator is a confusion matrix ``C`` (K x K, rows the true class): given an
item of true class ``k`` they answer ``l`` with probability ``C[k, l]``.

- :mod:`labelwise.simulate._basic`: confusion matrices from an accuracy, spammers,
  constant answerers, adversaries; :func:`simulate_annotations` (fixed overlap);
  :func:`inject_noise` for a label vector.
- :mod:`labelwise.simulate.pool`: :class:`AnnotatorPool` (mixed kinds in given
  proportions, arrival rates, prices) and a pool fitted from a real crowd.
- :mod:`labelwise.simulate.testbed`: the 5-class 2-D toy test bed.
- :mod:`labelwise.simulate.profiles`: :func:`profiles_from_annotations`, a simulator
  fitted on a real crowd that keeps hard items and shared errors (item answer profiles).
- :mod:`labelwise.simulate.replay`: :class:`ReplayOracle`, a real crowd's recorded
  answers served on request (each at most once), the standard measure of routing.
"""

from __future__ import annotations

from labelwise.simulate._basic import (
    adversary_confusion,
    confusion_from_accuracy,
    constant_confusion,
    inject_noise,
    sample_answers,
    simulate_annotations,
    spammer_confusion,
)
from labelwise.simulate.pool import (
    KINDS,
    AnnotatorPool,
    asymmetric_confusion,
    fitted_confusions,
    make_pool,
    pool_from_annotations,
)
from labelwise.simulate.profiles import CrowdProfiles, profiles_from_annotations
from labelwise.simulate.replay import ReplayOracle
from labelwise.simulate.testbed import TestBed, make_toy_testbed, testbed_from_crowd

__all__ = [
    "KINDS",
    "AnnotatorPool",
    "CrowdProfiles",
    "ReplayOracle",
    "TestBed",
    "adversary_confusion",
    "asymmetric_confusion",
    "confusion_from_accuracy",
    "constant_confusion",
    "fitted_confusions",
    "inject_noise",
    "make_pool",
    "make_toy_testbed",
    "pool_from_annotations",
    "profiles_from_annotations",
    "sample_answers",
    "simulate_annotations",
    "spammer_confusion",
    "testbed_from_crowd",
]
