"""Which Dask cluster a run uses: a scheduler address, or a LocalCluster labelwise owns.

``--scheduler ADDRESS`` (or ``LABELWISE_SCHEDULER``) joins a running cluster
(``dask scheduler`` + ``dask worker``); without one labelwise starts a
:class:`~distributed.LocalCluster` of worker *processes* on this machine's cores and
closes it at the end. Nothing here is a scheduler of its own: it only picks one.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import Any

from labelwise.errors import InputError

__all__ = ["SCHEDULER_ENV", "connect", "n_workers", "quiet_distributed"]

#: Environment variable naming the scheduler to join when none is passed.
SCHEDULER_ENV = "LABELWISE_SCHEDULER"


def quiet_distributed() -> None:
    """Keep distributed's INFO chatter (worker start/stop, nanny restarts) off stderr."""
    for name in ("distributed", "distributed.nanny", "distributed.scheduler", "distributed.core"):
        logging.getLogger(name).setLevel(logging.ERROR)


@contextlib.contextmanager
def connect(
    scheduler: str | None = None,
    *,
    n_workers: int | None = None,
    memory_limit: str | int | None = "auto",
    processes: bool = True,
) -> Iterator[Any]:
    """Yield a ``dask.distributed.Client``; close what this call started.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``). ``None``: the
        ``LABELWISE_SCHEDULER`` environment variable, else a LocalCluster.
    n_workers, memory_limit, processes
        For the LocalCluster only: worker processes (default: one per core, one
        thread each), memory limit per worker, threads instead of processes.

    Raises
    ------
    InputError
        When the scheduler cannot be reached (the message names the address).
    """
    from dask.distributed import Client, LocalCluster

    quiet_distributed()
    address = scheduler or os.environ.get(SCHEDULER_ENV) or None
    if address:
        try:
            client = Client(address, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise InputError(
                f"cannot reach the Dask scheduler at {address!r}: {exc}. Start one with "
                "`dask scheduler` and `dask worker ADDRESS`, or leave --scheduler out to "
                "run a local cluster."
            ) from None
        with client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=n_workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=processes,
            memory_limit=memory_limit,
            dashboard_address=":0",  # any free port: a busy 8787 must not fail the run
        ) as cluster,
        Client(cluster) as client,
    ):
        # a task that raises a LabelwiseError (bad input) is reported once, by the
        # client, as one line: not also as a worker's "Compute Failed" traceback
        client.register_plugin(_QuietWorker(), name="labelwise-quiet")
        yield client


def _QuietWorker() -> Any:
    """A worker plugin that sets the worker's own loggers to CRITICAL (kept after a
    restart); made here so that importing this module does not import distributed."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class QuietWorker(WorkerPlugin):
        def setup(self, worker: Any) -> None:
            for name in ("distributed.worker", "distributed.core", "distributed.nanny"):
                logging.getLogger(name).setLevel(logging.CRITICAL)

    return QuietWorker()


def n_workers(client: Any) -> int:
    """How many workers the client's scheduler has now (at least 1)."""
    return max(1, len(client.scheduler_info().get("workers", {})))
