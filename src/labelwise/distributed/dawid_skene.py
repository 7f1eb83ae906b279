"""Dawid-Skene past one machine: the same EM over annotations partitioned by item on Dask.

The annotations are shuffled so that each item's answers live in one partition.
Each partition keeps its own slice of the answer matrix ``S_p`` and posterior
``T_p`` in a Dask worker's memory for the whole fit; per iteration only the
M-step's sufficient statistics ``S_p.T @ T_p`` (n_workers*K x K) and the class
counts travel to the client, are summed, and the confusion matrices travel back.
The M-step (:func:`~labelwise.aggregate.dawid_skene.confusion_from_counts`), the
E-step layout (:func:`~labelwise.aggregate.dawid_skene.log_confusion_rows`) and
the normalisation are the in-memory estimator's own functions.

Example
-------
>>> from dask.distributed import Client, LocalCluster          # doctest: +SKIP
>>> client = Client(LocalCluster(n_workers=4))                  # doctest: +SKIP
>>> import dask.dataframe as dd                                 # doctest: +SKIP
>>> ddf = dd.read_parquet("annotations/*.parquet")              # doctest: +SKIP
>>> model = DaskDawidSkene().fit(ddf, client=client)            # doctest: +SKIP
>>> model.result_.head()   # item, label, confidence, n_annotations (a dask DataFrame)
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from labelwise._estimator import LightEstimator
from labelwise._validation import check_number
from labelwise.aggregate._base import (
    ConvergenceWarning,
    expected_accuracy,
    has_converged,
    normalise_rows,
)
from labelwise.aggregate.dawid_skene import confusion_from_counts, log_confusion_rows
from labelwise.errors import AnnotationsError, InputError

__all__ = ["DaskDawidSkene"]


@dataclass
class _Partition:
    """One partition's encoded answers and current posterior (lives on a Dask worker)."""

    item_ids: NDArray[Any]
    s: sp.csr_matrix
    post: NDArray[np.float32]
    log_norm: NDArray[np.float32]
    n_annotations: NDArray[np.int64]


def _encode(
    frame: pd.DataFrame, columns: tuple[str, str, str], workers: pd.Index, classes: pd.Index
) -> _Partition:
    item_col, worker_col, label_col = columns
    k = len(classes)
    codes, item_ids = pd.factorize(frame[item_col], sort=True)
    w = workers.get_indexer(frame[worker_col])
    lab = classes.get_indexer(frame[label_col])
    n = len(item_ids)
    s = sp.csr_matrix(
        (np.ones(len(frame), dtype=np.float32), (codes, w.astype(np.int64) * k + lab)),
        shape=(n, len(workers) * k),
    )
    votes = np.bincount(codes * k + lab, minlength=n * k).reshape(n, k).astype(np.float32)
    total = votes.sum(axis=1, keepdims=True)
    post = votes / np.maximum(total, 1)
    return _Partition(
        np.asarray(item_ids), s, post, np.zeros(n, np.float32), total[:, 0].astype(np.int64)
    )


def _statistics(part: _Partition) -> tuple[NDArray[np.float32], NDArray[np.float64], float]:
    """M-step sufficient statistics of one partition, and its log-likelihood."""
    return (
        np.asarray(part.s.T @ part.post),
        part.post.sum(axis=0, dtype=np.float64),
        float(part.log_norm.sum(dtype=np.float64)),
    )


def _e_step(
    part: _Partition, rows: NDArray[np.float32], log_prior: NDArray[np.float32]
) -> _Partition:
    log_unnorm = np.asarray(part.s @ rows)
    log_unnorm += log_prior
    post, lse = normalise_rows(log_unnorm)
    return _Partition(part.item_ids, part.s, post, lse, part.n_annotations)


def _result(part: _Partition, classes: NDArray[Any]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item": part.item_ids,
            "label": classes[part.post.argmax(axis=1)],
            "confidence": part.post.max(axis=1).astype(np.float64),
            "n_annotations": part.n_annotations,
        }
    )


@contextlib.contextmanager
def _client(client: Any) -> Iterator[tuple[Any, bool]]:
    """``(client, temporary)``: the given client, a client for a scheduler address, or
    a temporary in-process LocalCluster that closes when the fit ends."""
    from dask.distributed import Client, LocalCluster

    if client is None:
        with (
            LocalCluster(
                # ":0": any free port, so a second cluster (or a busy 8787) does not warn
                processes=False,
                n_workers=2,
                threads_per_worker=1,
                dashboard_address=":0",
            ) as cluster,
            Client(cluster) as cl,
        ):
            yield cl, True
    elif isinstance(client, str):
        with Client(client) as cl:
            yield cl, True
    else:
        yield client, False


def _wait_until_released(client: Any, timeout: float = 10.0) -> None:
    """Wait until the scheduler holds no task before a temporary cluster closes.

    Closing while released futures are still being forgotten left a pending comm
    behind ("Future exception was never retrieved ... TimeoutError" at exit).
    """
    import gc
    import time

    gc.collect()  # futures held only by reference cycles are released now, not at exit
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not client.run_on_scheduler(_n_scheduler_tasks):
            return
        time.sleep(0.02)


def _n_scheduler_tasks(dask_scheduler: Any) -> int:
    return len(dask_scheduler.tasks)


class DaskDawidSkene(LightEstimator):
    """Dawid-Skene EM over a Dask DataFrame of annotations (``item, worker, label``).

    Same model, initialisation (soft majority vote), smoothing and stopping rule as
    :class:`labelwise.DawidSkene`, so on the same data both return the same labels.
    Gold clamping is not offered here.

    Parameters
    ----------
    max_iter, tol, smoothing
        As in :class:`labelwise.DawidSkene`.

    Attributes
    ----------
    result_ : dask DataFrame
        item, label, confidence, n_annotations; persisted on the cluster.
    confusion_, prior_, skill_, workers_, classes_, log_likelihood_, n_iter_, converged_
        As in :class:`labelwise.DawidSkene` (small: held by the client).
    """

    result_: Any

    def __init__(self, *, max_iter: int = 100, tol: float = 1e-5, smoothing: float = 0.01):
        self.max_iter = max_iter
        self.tol = tol
        self.smoothing = smoothing

    def fit(
        self,
        annotations: Any,
        *,
        client: Any = None,
        item: str = "item",
        worker: str = "worker",
        label: str = "label",
        classes: list[Any] | None = None,
        npartitions: int | None = None,
    ) -> DaskDawidSkene:
        """Fit on a dask (or pandas) DataFrame; return ``self``.

        ``client`` is a ``dask.distributed.Client``, a scheduler address, or ``None``
        for a temporary local cluster. A pandas DataFrame is split into
        ``npartitions`` (default 4) partitions first.
        """
        import dask.dataframe as dd

        name = type(self).__name__
        check_number(self.max_iter, "max_iter", name, kind=int, low=1)
        check_number(self.tol, "tol", name, low=0, high=1, low_open=True, high_open=True)
        check_number(self.smoothing, "smoothing", name, low=0)
        if isinstance(annotations, pd.DataFrame):
            annotations = dd.from_pandas(annotations, npartitions=npartitions or 4)
        if not isinstance(annotations, dd.DataFrame):
            raise InputError(
                f"{name}.fit expects a dask or pandas DataFrame; got {type(annotations).__name__}."
            )
        missing = [c for c in (item, worker, label) if c not in annotations.columns]
        if missing:
            raise AnnotationsError(
                f"annotations are missing column(s) {missing}; found {list(annotations.columns)}."
            )
        with _client(client) as (cl, temporary):
            self._fit(cl, annotations[[item, worker, label]], (item, worker, label), classes)
            if temporary:  # the cluster closes: bring the (one row per item) result home
                result = self.result_.compute()
                self.result_ = dd.from_pandas(result, npartitions=max(1, self.result_.npartitions))
                _wait_until_released(cl)
        return self

    def _fit(
        self, client: Any, ddf: Any, columns: tuple[str, str, str], classes: list[Any] | None
    ) -> None:
        import dask.dataframe as dd
        from dask import delayed

        item_col, worker_col, label_col = columns
        n_rows, n_missing, workers, labels = client.compute(
            [
                ddf.shape[0],
                ddf.isna().any(axis=1).sum(),
                # split_out=1: a tree reduction, not a shuffle (which logs warnings)
                ddf[worker_col].drop_duplicates(split_out=1),
                ddf[label_col].drop_duplicates(split_out=1),
            ],
            sync=True,
        )
        if n_rows == 0:
            raise AnnotationsError("annotations are empty: the table has no rows.")
        if n_missing:
            raise AnnotationsError(
                f"{n_missing} annotation row(s) have a missing item, worker or label."
            )
        worker_index = pd.Index(np.sort(workers.to_numpy()))
        class_index = pd.Index(classes if classes is not None else np.sort(labels.to_numpy()))
        unknown = ~labels.isin(class_index)
        if unknown.any():
            raise AnnotationsError(
                f"label {labels[unknown].iloc[0]!r} is not one of the declared classes "
                f"{list(class_index)}."
            )
        if len(class_index) < 2:
            raise AnnotationsError("only one class: aggregation needs at least two.")
        w, k = len(worker_index), len(class_index)
        # every item's answers in one partition, encoded once and kept on the workers
        # a task shuffle: the P2P extension logs two warnings per shuffle on a LocalCluster
        shuffled = ddf.shuffle(on=item_col, shuffle_method="tasks")
        parts = client.compute(
            [delayed(_encode)(d, columns, worker_index, class_index) for d in shuffled.to_delayed()]
        )
        counts, class_counts, _ = self._reduce(client, parts, k, w)
        history: list[float] = []
        self.converged_ = False
        for it in range(1, self.max_iter + 1):
            self.confusion_ = confusion_from_counts(counts, w, k, self.smoothing)
            prior = (class_counts + self.smoothing) / (class_counts + self.smoothing).sum()
            rows = client.scatter(log_confusion_rows(self.confusion_), broadcast=True)
            log_prior = client.scatter(np.log(prior).astype(np.float32), broadcast=True)
            parts = client.map(_e_step, parts, rows=rows, log_prior=log_prior, pure=False)
            counts, class_counts, ll = self._reduce(client, parts, k, w)
            history.append(ll)
            self.n_iter_ = it
            if has_converged(history, self.tol, n_rows):
                self.converged_ = True
                break
        if not self.converged_:
            warnings.warn(
                f"{type(self).__name__} stopped after max_iter={self.n_iter_} iterations; "
                "raise max_iter.",
                ConvergenceWarning,
                stacklevel=3,
            )
        self.confusion_ = confusion_from_counts(counts, w, k, self.smoothing)
        self.prior_ = (class_counts + self.smoothing) / (class_counts + self.smoothing).sum()
        self.skill_ = expected_accuracy(self.confusion_, self.prior_)
        self.workers_ = worker_index.to_numpy()
        self.classes_ = class_index.to_numpy()
        self.log_likelihood_ = history
        meta = pd.DataFrame(
            {
                "item": pd.Series([], dtype=shuffled[item_col].dtype),
                "label": pd.Series([], dtype=class_index.dtype),
                "confidence": pd.Series([], dtype=np.float64),
                "n_annotations": pd.Series([], dtype=np.int64),
            }
        )
        frames = client.map(_result, parts, classes=self.classes_, pure=False)
        self.result_ = dd.from_delayed(frames, meta=meta, verify_meta=False).persist()

    @staticmethod
    def _reduce(
        client: Any, parts: list[Any], k: int, w: int
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
        """Sum the partitions' M-step statistics and log-likelihoods on the client."""
        stats = client.gather(client.map(_statistics, parts, pure=False))
        counts = np.zeros((w * k, k))
        class_counts = np.zeros(k)
        ll = 0.0
        for c, t, part_ll in stats:
            counts += c
            class_counts += t
            ll += part_ll
        return counts, class_counts, ll
