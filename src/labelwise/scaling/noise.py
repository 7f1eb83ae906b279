"""Noise versus volume: what wrong labels and missing labels each cost, per class.

After Prendki's cost-optimised labeling study on CIFAR-10 (2020): train the same
model with a share of the training labels corrupted (uniformly, or
class-conditionally along the classes the model itself confuses) and with only a
share of the training set, repeat, and compare per class. Both effects are put on
one axis, the share of training labels that are *wrong* or *missing*, so that
"is it cheaper to compensate noise with volume?" can be read off directly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from sklearn.base import clone

from labelwise._validation import (
    check_features,
    check_number,
    check_option,
    check_random_state,
    check_same_length,
)
from labelwise.errors import InputError
from labelwise.scaling.curves import _class_covering_order, _confusion, train_test_codes
from labelwise.simulate import confusion_from_accuracy, inject_noise

__all__ = ["NOISE_KINDS", "NoiseVolumeStudy", "noise_volume_study"]

NOISE_KINDS = ("uniform", "class_conditional")


def _recall(conf: NDArray[np.float64]) -> NDArray[np.float64]:
    diag = np.diagonal(conf, axis1=-2, axis2=-1)
    return diag / np.maximum(conf.sum(axis=-1), 1)


def _accuracy(conf: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.diagonal(conf, axis1=-2, axis2=-1).sum(-1) / np.maximum(conf.sum((-2, -1)), 1)


def _slope(share: NDArray[np.float64], values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Least-squares slope through the baseline (share 0): loss per unit of share."""
    loss = values[..., :1] - values
    return (loss * share).sum(-1) / max(float((share**2).sum()), 1e-12)


@dataclass(frozen=True)
class NoiseVolumeStudy:
    """Results of :func:`noise_volume_study`.

    Attributes
    ----------
    classes : ndarray (K,)
    noise_kinds : tuple of str
    noise_levels : ndarray (L,)
        Shares of training labels corrupted; the first is 0 (the baseline).
    fractions : ndarray (F,)
        Shares of the training set kept, decreasing; the first is 1 (the baseline).
    noise_confusion : ndarray (n_kinds, L, repeats, K, K)
        Test confusion counts (rows the true class) at every noise level.
    volume_confusion : ndarray (F, repeats, K, K)
        Test confusion counts at every training-set share (clean labels).
    n_train : int
        Training items at 100%.
    seconds : float
        Wall time of the study.
    """

    classes: NDArray[Any]
    noise_kinds: tuple[str, ...]
    noise_levels: NDArray[np.float64]
    fractions: NDArray[np.float64]
    noise_confusion: NDArray[np.float64]
    volume_confusion: NDArray[np.float64]
    n_train: int
    seconds: float

    def summary(self) -> pd.DataFrame:
        """One row per condition: effect, share of labels wrong or missing, accuracy
        (mean and std over repeats) and its drop from the baseline, in points."""
        base = float(_accuracy(self.volume_confusion[0]).mean())
        rows = []
        for i, kind in enumerate(self.noise_kinds):
            acc = _accuracy(self.noise_confusion[i])
            for j, level in enumerate(self.noise_levels):
                rows.append((f"noise ({kind})", level, acc[j].mean(), acc[j].std()))
        acc = _accuracy(self.volume_confusion)
        for j, frac in enumerate(self.fractions):
            rows.append(("missing data", 1.0 - frac, acc[j].mean(), acc[j].std()))
        frame = pd.DataFrame(rows, columns=["effect", "share wrong or missing", "accuracy", "std"])
        frame["drop (points)"] = 100 * (base - frame["accuracy"])
        return frame

    def per_class(self, effect: str = "uniform") -> pd.DataFrame:
        """Per-class accuracy (recall), rows the classes, one column per level.

        ``effect`` is a noise kind or ``"volume"``.
        """
        check_option(effect, "effect", "NoiseVolumeStudy.per_class", [*self.noise_kinds, "volume"])
        if effect == "volume":
            rec = _recall(self.volume_confusion).mean(axis=1)
            names = [f"{f:.0%} data" for f in self.fractions]
        else:
            rec = _recall(self.noise_confusion[self.noise_kinds.index(effect)]).mean(axis=1)
            names = [f"{p:.0%} noise" for p in self.noise_levels]
        frame = pd.DataFrame(rec.T, columns=names)
        frame.insert(0, "class", self.classes)
        return frame

    def mean_confusion(self, effect: str, index: int) -> NDArray[np.float64]:
        """The average row-normalised confusion matrix at one level (rows the true class)."""
        check_option(
            effect, "effect", "NoiseVolumeStudy.mean_confusion", [*self.noise_kinds, "volume"]
        )
        conf = (
            self.volume_confusion[index]
            if effect == "volume"
            else self.noise_confusion[self.noise_kinds.index(effect), index]
        ).sum(axis=0)
        return conf / np.maximum(conf.sum(axis=1, keepdims=True), 1)

    def sensitivity(self) -> pd.DataFrame:
        """Per class: baseline accuracy, the drop at the worst noise level and at the
        smallest share of data, and the impact indexes, most noise-sensitive first.

        An impact index is the accuracy lost (points) per 10 points of labels wrong
        (noise) or missing (volume): the least-squares slope of the per-class accuracy
        against that share, through the baseline.
        """
        vol = _recall(self.volume_confusion).mean(axis=1).T  # (K, F)
        missing = 1.0 - self.fractions
        frame = pd.DataFrame({"class": self.classes, "baseline": vol[:, 0]})
        for i, kind in enumerate(self.noise_kinds):
            rec = _recall(self.noise_confusion[i]).mean(axis=1).T  # (K, L)
            frame[f"drop at {self.noise_levels[-1]:.0%} {kind} noise"] = 100 * (
                rec[:, 0] - rec[:, -1]
            )
            frame[f"noise index ({kind})"] = 10 * _slope(self.noise_levels, rec)
        frame[f"drop at {self.fractions[-1]:.0%} data"] = 100 * (vol[:, 0] - vol[:, -1])
        frame["volume index"] = 10 * _slope(missing, vol)
        first = f"noise index ({self.noise_kinds[0]})"
        return frame.sort_values(first, ascending=False).reset_index(drop=True)

    def impact(self) -> pd.DataFrame:
        """Overall impact indexes: accuracy points lost per 10 points of labels wrong or
        missing, and how many times more harmful a wrong label is than a missing one."""
        vol = _accuracy(self.volume_confusion).mean(axis=1)
        v_idx = 10 * float(_slope(1.0 - self.fractions, vol))
        rows = [{"effect": "missing data", "points lost per 10% share": v_idx, "vs missing": 1.0}]
        for i, kind in enumerate(self.noise_kinds):
            acc = _accuracy(self.noise_confusion[i]).mean(axis=1)
            n_idx = 10 * float(_slope(self.noise_levels, acc))
            rows.append(
                {
                    "effect": f"noise ({kind})",
                    "points lost per 10% share": n_idx,
                    "vs missing": n_idx / v_idx if v_idx > 1e-9 else float("inf"),
                }
            )
        return pd.DataFrame(rows)


def _class_conditional(level: float, base: NDArray[np.float64]) -> NDArray[np.float64]:
    k = base.shape[0]
    return confusion_from_accuracy(1.0 - level, k, errors=base)


def noise_volume_study(
    estimator: Any,
    X: ArrayLike,
    y: ArrayLike,
    *,
    X_test: ArrayLike | None = None,
    y_test: ArrayLike | None = None,
    noise_levels: ArrayLike = (0.0, 0.05, 0.1, 0.2, 0.3),
    fractions: ArrayLike = (1.0, 0.5, 0.25, 0.1),
    noise_kinds: tuple[str, ...] = NOISE_KINDS,
    repeats: int = 3,
    test_size: float = 0.25,
    random_state: Any = 0,
) -> NoiseVolumeStudy:
    """Train ``estimator`` with corrupted labels and with less data; score per class.

    Parameters
    ----------
    estimator : scikit-learn classifier
        Cloned for every fit.
    X, y : arrays
        Training data with clean labels. Without ``X_test`` a stratified ``test_size``
        share is held out (the test labels are never corrupted).
    noise_levels : sequence of float in [0, 1)
        Shares of training labels corrupted; 0 is added when absent.
    fractions : sequence of float in (0, 1]
        Shares of the training set kept (nested); 1 is added when absent.
    noise_kinds : tuple of {"uniform", "class_conditional"}
        Uniform flips to another class, or flips along the baseline model's own
        confusions (``simulate.confusion_from_accuracy`` with its test confusion
        matrix): the realistic, asymmetric kind (a cat taken for a frog more often
        than a frog for a cat).
    repeats : int
        Repeats of every condition (new noise draw, new subset, new model seed).

    Returns
    -------
    NoiseVolumeStudy
    """
    start = time.perf_counter()
    Xa = check_features(X)
    ya = np.asarray(y)
    check_same_length(X=Xa, y=ya)
    check_number(repeats, "repeats", "noise_volume_study", kind=int, low=1)
    for kind in noise_kinds:
        check_option(kind, "noise_kinds", "noise_volume_study", NOISE_KINDS)
    if not noise_kinds:
        raise InputError("noise_kinds is empty; give 'uniform' and/or 'class_conditional'.")
    levels = np.unique(np.concatenate([[0.0], np.asarray(noise_levels, dtype=float)]))
    if (levels < 0).any() or (levels >= 1).any():
        raise InputError(f"noise_levels must lie in [0, 1); got {list(levels)}.")
    fracs = np.unique(np.concatenate([[1.0], np.asarray(fractions, dtype=float)]))[::-1]
    if (fracs <= 0).any() or (fracs > 1).any():
        raise InputError(f"fractions must lie in (0, 1]; got {list(fracs)}.")
    rng = check_random_state(random_state)
    classes, Xtr, ytr, Xte, yte = train_test_codes(
        Xa, ya, X_test, y_test, test_size=test_size, rng=rng, owner="noise_volume_study"
    )
    k = classes.shape[0]
    n = ytr.shape[0]
    if round(fracs[-1] * n) < k:
        raise InputError(
            f"fraction {fracs[-1]:g} keeps {round(fracs[-1] * n)} items, "
            f"fewer than the {k} classes."
        )
    seeds = [int(s) for s in rng.integers(0, 2**31 - 1, size=repeats)]

    def run(idx: NDArray[np.int64], labels: NDArray[np.int64], seed: int) -> NDArray[np.float64]:
        model = clone(estimator)
        if "random_state" in model.get_params():
            model.set_params(random_state=seed)
        model.fit(Xtr[idx], labels[idx])
        return _confusion(yte, np.asarray(model.predict(Xte)).astype(np.int64), k)

    everything = np.arange(n)
    vol = np.empty((fracs.shape[0], repeats, k, k))
    for r, seed in enumerate(seeds):
        order = _class_covering_order(ytr, np.random.default_rng(seed))
        for j, f in enumerate(fracs):
            idx = everything if f == 1.0 else order[: round(f * n)]
            vol[j, r] = run(idx, ytr, seed)
    base = vol[0].sum(axis=0)
    noise = np.empty((len(noise_kinds), levels.shape[0], repeats, k, k))
    for r, seed in enumerate(seeds):
        noise_rng = np.random.default_rng(seed + 1)
        for i, kind in enumerate(noise_kinds):
            noise[i, 0, r] = vol[0, r]
            for j, level in enumerate(levels[1:], start=1):
                if kind == "uniform":
                    noisy, _ = inject_noise(ytr, rate=level, n_classes=k, random_state=noise_rng)
                else:
                    noisy, _ = inject_noise(
                        ytr,
                        noise_matrix=_class_conditional(level, base),
                        n_classes=k,
                        random_state=noise_rng,
                    )
                noise[i, j, r] = run(everything, noisy, seed)
    return NoiseVolumeStudy(
        classes=classes,
        noise_kinds=tuple(noise_kinds),
        noise_levels=levels,
        fractions=fracs,
        noise_confusion=noise,
        volume_confusion=vol,
        n_train=n,
        seconds=time.perf_counter() - start,
    )
