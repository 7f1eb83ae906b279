"""Dawid-Skene on Dask gives the in-memory estimator's labels, partition by partition."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed")

from dask.distributed import Client, LocalCluster

from _crowd import make_crowd
from labelwise import DawidSkene
from labelwise.distributed import DaskDawidSkene
from labelwise.errors import AnnotationsError, ParameterError


@pytest.fixture(scope="module")
def client():
    logging.getLogger("distributed").setLevel(logging.ERROR)
    with (
        LocalCluster(
            processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c


def test_matches_the_in_memory_estimator(client):
    ann, _truth = make_crowd(n_items=400, accuracies=(0.9, 0.7, 0.6, 0.8, 0.55), k=4, seed=11)
    frame = ann.to_frame()
    frame["item"] = "item-" + frame["item"].astype(str)
    model = DaskDawidSkene().fit(frame, client=client, npartitions=4)
    ref = DawidSkene().fit(ann)
    got = model.result_.compute().set_index("item").sort_index()
    expected = pd.Series(
        ref.labels_, index="item-" + pd.Series(ref.items_).astype(str)
    ).sort_index()
    assert len(got) == 400 and (got.index == expected.index).all()
    assert (got["label"] == expected).mean() >= 0.99
    np.testing.assert_allclose(model.confusion_, ref.confusion_, atol=0.02)
    assert model.converged_ and model.n_iter_ <= ref.n_iter_ + 2
    assert got["n_annotations"].sum() == ann.n_annotations


def test_errors(client):
    ann, _ = make_crowd(n_items=20)
    frame = ann.to_frame()
    with pytest.raises(AnnotationsError, match=r"missing column\(s\) \['worker'\]"):
        DaskDawidSkene().fit(frame.drop(columns="worker"), client=client)
    with pytest.raises(AnnotationsError, match="not one of the declared classes"):
        DaskDawidSkene().fit(frame, client=client, classes=[0, 1])
    with pytest.raises(ParameterError, match="'tol' parameter of DaskDawidSkene"):
        DaskDawidSkene(tol=2).fit(frame, client=client)


def test_quiet_fit_and_clean_shutdown_on_a_temporary_cluster(caplog):
    """No shuffle warnings, no stray asyncio errors, and the scheduler empty before it closes.

    The README's snippet (no client: a temporary LocalCluster) logged six
    ``distributed.shuffle`` warnings per run and sometimes "Future exception was never
    retrieved ... TimeoutError" at exit.
    """
    import gc

    import labelwise.distributed.dawid_skene as dds

    ann, _ = make_crowd(n_items=150, k=3, seed=5)
    frame = ann.to_frame()
    seen: list[int] = []
    wait = dds._wait_until_released

    def spy(client, timeout=10.0):
        wait(client, timeout)
        seen.append(client.run_on_scheduler(dds._n_scheduler_tasks))

    caplog.set_level(logging.WARNING)
    try:
        dds._wait_until_released = spy
        model = DaskDawidSkene().fit(frame, npartitions=3)
    finally:
        dds._wait_until_released = wait
    gc.collect()
    assert seen == [0]
    assert len(model.result_.compute()) == 150
    noisy = [r for r in caplog.records if r.name.startswith(("distributed", "asyncio"))]
    assert noisy == [], [r.getMessage() for r in noisy]


def test_fitted_attributes_before_fit_and_params():
    from labelwise.errors import NotFittedError

    model = DaskDawidSkene(max_iter=50)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        _ = model.result_
    assert model.get_params() == {"max_iter": 50, "smoothing": 0.01, "tol": 1e-5}
