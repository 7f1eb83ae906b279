"""Group commit: one writer thread runs the write operations of many requests in one
transaction, so that one ``fsync`` makes a whole batch durable.

Why: SQLite has one writer, and a durable commit costs one ``fsync`` of its WAL (7-11 ms
on the shared machine the benchmarks ran on). One transaction per request would cap
the service near a hundred writes a second; a batch of the requests waiting meanwhile
shares the one ``fsync``. Each operation runs in its own SAVEPOINT, so one that fails
(a label outside the schema, an item already full) is rolled back alone and its caller
gets its error; the others commit. Every caller is answered only after the batch's
COMMIT returned: an acknowledged write is on disk. The routing cache is advanced by
each operation's ``after`` step, run once the commit is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

if TYPE_CHECKING:
    from labelwise.service.core import LabelService

__all__ = ["GroupCommit", "Op"]

#: A write operation: runs inside the transaction, returns its result and an optional
#: step to run after the commit (with the project's cache lock held).
Op = Callable[[Connection], tuple[Any, Callable[[], None] | None]]


class GroupCommit:
    """The writer thread of one service; :meth:`run` blocks until the op is committed."""

    def __init__(self, svc: LabelService, *, max_batch: int = 128) -> None:
        self.svc = svc
        self.max_batch = max_batch
        self._q: queue.Queue[tuple[int | None, Op, Any] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="labelwise-writer", daemon=True)
        self._thread.start()
        self.batches = 0
        self.ops = 0
        self.plans = 0  # next-task requests routed together with others (_plan)

    def run(self, project_id: int | None, op: Op) -> Any:
        """Queue ``op`` for the next batch and return its result once committed."""
        return self.submit(project_id, op).result()

    def submit(self, project_id: int | None, op: Op) -> Future[Any]:
        """Queue ``op``; the future resolves once its batch is committed (an event
        loop awaits it with ``asyncio.wrap_future`` and needs no thread of its own)."""
        if not self._thread.is_alive():
            raise RuntimeError("the writer thread has stopped")
        fut: Future[Any] = Future()
        self._q.put((project_id, op, fut))
        return fut

    def submit_async(self, project_id: int | None, op: Op) -> asyncio.Future[Any]:
        """:meth:`submit` for the running event loop: an asyncio future, settled with
        the others of its batch by one wake-up of the loop (a thread-safe future per
        request, chained into the loop, cost more than the request's own work)."""
        if not self._thread.is_alive():
            raise RuntimeError("the writer thread has stopped")
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._q.put((project_id, op, fut))
        return fut

    def close(self) -> None:
        """Finish the queued work and stop the thread."""
        self._q.put(None)
        self._thread.join(timeout=30)

    def _lock(self, project_id: int | None) -> Any:
        return contextlib.nullcontext() if project_id is None else self.svc.live(project_id).lock

    def _loop(self) -> None:
        stop = False
        while not stop:
            first = self._q.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    nxt = self._q.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            self._commit(batch)

    @staticmethod
    def _settle(outcomes: list[tuple[Any, Any, BaseException | None]]) -> None:
        """Give each waiting future its result or error (on the future's own thread)."""
        for fut, result, err in outcomes:
            if fut.done():  # an asyncio caller that went away
                continue
            if err is not None:
                fut.set_exception(err)
            else:
                fut.set_result(result)

    def _answer(self, outcomes: list[tuple[Any, Any, BaseException | None]]) -> None:
        """Settle thread futures here and asyncio ones by one call per event loop."""
        loops: dict[Any, list[tuple[Any, Any, BaseException | None]]] = {}
        for o in outcomes:
            if isinstance(o[0], asyncio.Future):
                loops.setdefault(o[0].get_loop(), []).append(o)
            else:
                self._settle([o])
        for loop, group in loops.items():
            try:
                loop.call_soon_threadsafe(self._settle, group)
            except RuntimeError:  # the loop closed meanwhile: nobody waits
                pass

    def _plan(self, conn: Connection, batch: list[tuple[int | None, Op, Any]]) -> list[int]:
        """Route the batch's next-task requests of each project together (one policy
        evaluation per project instead of one per request); returns the projects whose
        cache now holds planned items. A plan is only a hint: each request still claims
        its item through the database checks, and routes alone when that fails."""
        asking: dict[int, list[int]] = {}
        for pid, op, _ in batch:
            who = getattr(op, "next_for", None)
            if pid is not None and who is not None:
                asking.setdefault(pid, []).append(who.id)
        planned = []
        for pid, people in asking.items():
            if len(people) < 2:
                continue
            with self._lock(pid):
                try:
                    self.svc.plan_next(conn, pid, people)
                except Exception:  # routing alone still works: no plan
                    self.svc.live(pid).hints = {}
                    continue
            planned.append(pid)
            self.plans += len(people)
        return planned

    def _commit(self, batch: list[tuple[int | None, Op, Any]]) -> None:
        done: list[tuple[int | None, Future[Any], Any, Any, BaseException | None]] = []
        # next-task requests first: they see the same state, so one routing decision
        # serves them all; the answers keep their order (each op is its own savepoint,
        # and the batch commits as one transaction either way)
        batch = [b for b in batch if hasattr(b[1], "next_for")] + [
            b for b in batch if not hasattr(b[1], "next_for")
        ]
        planned: list[int] = []
        try:
            with self.svc.db.write() as conn:
                cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
                planned = self._plan(conn, batch)
                for pid, op, fut in batch:
                    try:
                        with self._lock(pid):
                            # a savepoint on the DB-API cursor: SQLAlchemy's begin_nested
                            # costs more than the hot path's statements themselves
                            cur.execute("SAVEPOINT op")
                            try:
                                result, after = op(conn)
                            except BaseException:
                                cur.execute("ROLLBACK TO op")
                                raise
                            finally:
                                cur.execute("RELEASE op")
                        done.append((pid, fut, result, after, None))
                    except BaseException as e:
                        done.append((pid, fut, None, None, e))
                for pid in planned:  # unused plans never outlive their batch
                    with self._lock(pid):
                        self.svc.live(pid).hints = {}
        except BaseException as e:  # the COMMIT failed: nothing of the batch is durable
            for pid in planned:
                self.svc.live(pid).hints = {}
            for live in list(self.svc._live.values()):
                live.version = -1  # caches may hold uncommitted answers: rebuild them
            self._answer([(fut, None, e) for _, _, fut in batch])
            return
        self.batches += 1
        self.ops += len(batch)
        outcomes: list[tuple[Any, Any, BaseException | None]] = []
        for pid, fut, result, after, err in done:
            if err is None and after is not None:
                try:
                    with self._lock(pid):
                        after()
                except BaseException as e:  # the write is committed; the cache rebuilds later
                    if pid is not None:
                        self.svc.live(pid).version = -1
                    err = e
            outcomes.append((fut, None if err is not None else result, err))
        self._answer(outcomes)
