"""The EM estimators on a torch device agree with the numpy path (torch on the CPU here)."""

from __future__ import annotations

import importlib.util
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from _crowd import make_crowd
from _torch_threads import one_torch_thread  # noqa: F401
from labelwise import Annotations, DawidSkene
from labelwise.aggregate import GLAD, OneCoinDawidSkene
from labelwise.errors import ParameterError, ResourceError

HAS_TORCH = importlib.util.find_spec("torch") is not None
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch (labelwise[gpu]) not installed")
CROWDS = ["web", "rte", "temp", "wsd", "sentiment_polarity", "labelme"]
# Dawid-Skene's loop runs in float32 on both paths; the sums are ordered differently
DS_ATOL, ONECOIN_ATOL = 1e-5, 1e-10


def _same(a, b, atol):
    assert a.n_iter_ == b.n_iter_
    np.testing.assert_array_equal(a.label_codes_, b.label_codes_)
    np.testing.assert_allclose(a.proba_, b.proba_, atol=atol, rtol=0)
    np.testing.assert_allclose(a.skill_, b.skill_, atol=atol, rtol=0)
    np.testing.assert_allclose(a.confusion_, b.confusion_, atol=atol, rtol=0)
    np.testing.assert_allclose(a.prior_, b.prior_, atol=atol, rtol=0)
    np.testing.assert_allclose(a.log_likelihood_, b.log_likelihood_, rtol=1e-5)
    assert a.converged_ == b.converged_


@needs_torch
@pytest.mark.parametrize("name", CROWDS)
def test_torch_cpu_matches_numpy_on_the_real_crowds(shared_data, name):
    frame = pd.read_csv(shared_data / "crowd" / name / "annotations.csv")
    ann = Annotations.from_frame(frame)
    _same(DawidSkene().fit(ann), DawidSkene(device="cpu").fit(ann), DS_ATOL)
    _same(OneCoinDawidSkene().fit(ann), OneCoinDawidSkene(device="cpu").fit(ann), ONECOIN_ATOL)


@needs_torch
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_torch_cpu_matches_numpy_with_gold_and_an_item_prior(seed):
    ann, truth = make_crowd(n_items=400, k=5, per_item=3, seed=seed)
    gold = pd.Series(truth[:40], index=ann.item_ids[:40])
    prior = np.random.default_rng(seed).dirichlet(np.ones(5), size=ann.n_items)
    for cls, atol in ((DawidSkene, DS_ATOL), (OneCoinDawidSkene, ONECOIN_ATOL)):
        _same(cls().fit(ann, gold), cls(device="cpu").fit(ann, gold), atol)
        _same(cls().fit(ann, prior=prior), cls(device="cpu").fit(ann, prior=prior), atol)


@needs_torch
def test_the_index_add_e_step_of_devices_without_sparse_csr(monkeypatch):
    import labelwise.aggregate._torch as torch_path

    ann, _ = make_crowd(n_items=500, k=4, seed=5)
    monkeypatch.setattr(torch_path, "_SPARSE_DEVICES", ())  # as on MPS
    _same(DawidSkene().fit(ann), DawidSkene(device="cpu").fit(ann), DS_ATOL)


@needs_torch
def test_torch_cpu_recovers_the_truth_on_a_larger_synthetic_crowd():
    ann, truth = make_crowd(n_items=20_000, k=3, per_item=3, seed=7)
    fitted = DawidSkene(device="cpu").fit(ann)
    assert (fitted.label_codes_ == truth).mean() > 0.9
    _same(DawidSkene().fit(ann), fitted, DS_ATOL)


@needs_torch
def test_not_converged_warns_on_the_torch_path_too():
    ann, _ = make_crowd(seed=3)
    from labelwise.aggregate import ConvergenceWarning

    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        DawidSkene(max_iter=1, device="cpu").fit(ann)


@needs_torch
def test_cuda_without_a_gpu_is_a_clear_error_not_a_fallback():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    ann, _ = make_crowd()
    for cls in (DawidSkene, OneCoinDawidSkene):
        with pytest.raises(ResourceError, match=r"device='cuda'.*no CUDA GPU.*does not fall back"):
            cls(device="cuda").fit(ann)


@needs_torch
@pytest.mark.parametrize("device", [3, "tpu9", "nonsense"])
def test_a_bad_device_names_the_parameter(device):
    ann, _ = make_crowd()
    with pytest.raises(ParameterError, match="'device' parameter of DawidSkene"):
        DawidSkene(device=device).fit(ann)


@needs_torch
def test_many_classes_keep_the_sparse_numpy_path():
    rng = np.random.default_rng(0)
    n, k = 5000, 4000  # n * K past the dense limit
    items = np.repeat(np.arange(n), 2)
    labels = rng.integers(0, k, 2 * n)
    ann = Annotations.from_arrays(items, np.tile([0, 1], n), labels, classes=list(range(k)))
    with pytest.raises(ParameterError, match=r"OneCoinDawidSkene\(device='cpu'\).*device=None"):
        OneCoinDawidSkene(device="cpu").fit(ann)


def test_without_torch_a_device_asks_for_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now fails
    ann, _ = make_crowd()
    with pytest.raises(ResourceError, match=r"needs torch.*labelwise\[gpu\].*device=None"):
        DawidSkene(device="cpu").fit(ann)


def test_models_without_a_torch_path_keep_working():
    ann, _ = make_crowd()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert GLAD(max_iter=5).fit(ann).proba_.shape == (ann.n_items, ann.n_classes)
    assert DawidSkene().get_params()["device"] is None
