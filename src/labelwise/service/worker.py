"""Model in the loop: a background thread that keeps each project's estimates fresh
without ever holding up a request.

Every ``refresh_every`` new answers it re-estimates the annotators' confusion
matrices (a few Dawid-Skene steps on the routing cache, under the cache's lock: a few
milliseconds). Every ``model_every`` new answers (a project setting; 0 turns it off),
or on demand, it refits the project's classifier on the consensus over the item
features, cross-fitted over two folds exactly as
:class:`~labelwise.routing.ModelAssisted` does, *outside* the lock on a snapshot; then,
briefly locked, it installs the model's prior when the project routes with a model
(``model``/``model-eig``) and stores active-learning scores (the entropy of the
model's prediction) for the admin page.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import numpy as np

from labelwise.active.strategies import entropy
from labelwise.routing import DynamicOverlap, GoldQuestions, ModelAssisted
from labelwise.routing.policies import RoutingPolicy
from labelwise.service.core import LabelService
from labelwise.service.db import projects
from labelwise.service.live import LiveProject

__all__ = ["ModelWorker"]

log = logging.getLogger(__name__)


def _model_policy(policy: RoutingPolicy) -> ModelAssisted | None:
    while isinstance(policy, GoldQuestions):
        policy = policy.policy
    return policy if isinstance(policy, ModelAssisted) else None


class ModelWorker:
    """The background thread; :meth:`start` and :meth:`stop` it with the app."""

    def __init__(self, svc: LabelService, *, poll: float = 1.0) -> None:
        self.svc = svc
        self.poll = poll
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._demand: set[int] = set()
        self.errors: list[str] = []

    def start(self) -> None:
        """Start the thread (a daemon: it never keeps the process alive)."""
        self._thread = threading.Thread(target=self._run, name="labelwise-model", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to finish and wait for it."""
        self._stop.set()
        self.svc.wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def request_refit(self, project_id: int) -> None:
        """Refit this project's model at the next turn (the admin's "refit" button)."""
        self._demand.add(project_id)
        self.svc.wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.svc.wake.wait(self.poll)
            self.svc.wake.clear()
            if self._stop.is_set():
                return
            for pid, live in list(self.svc._live.items()):
                try:
                    self.work(pid, live)
                except Exception as e:  # a failed refit must not end the thread
                    log.exception("model worker failed on project %s", pid)
                    self.errors.append(f"project {pid}: {e}")

    def work(self, pid: int, live: LiveProject) -> bool:
        """One turn on one project; returns whether a model was refitted."""
        if live.version < 0:
            return False
        with live.lock:
            refresh = live.refresh_due(self.svc.refresh_every)
        if refresh:
            live.refresh_off_lock(live.lock)
        with live.lock:
            due = pid in self._demand
            with self.svc.db.read() as conn:
                every = int(
                    conn.execute(
                        projects.select()
                        .with_only_columns(projects.c.model_every)
                        .where(projects.c.id == pid)
                    ).scalar_one()
                )
            due = due or (every > 0 and live.since_model >= every)
            if not due or live.state.features is None:
                self._demand.discard(pid)
                return False
            snap = live.snapshot()
            version = live.version
            live.since_model = 0
        self._demand.discard(pid)
        mp = _model_policy(live.policy)
        fitter = mp if mp is not None else ModelAssisted(DynamicOverlap(), min_train=10)
        if "model_fold" not in snap.scratch:
            snap.scratch["model_fold"] = snap.rng.integers(0, 2, size=snap.n_items)
        snap.scratch["model_trained_on"] = 0  # always refit here, whatever the growth
        t0 = time.perf_counter()
        proba = fitter.predict_prior(snap)
        if proba is None:
            live.model = {**live.model, "status": "waiting for enough confident items"}
            return False
        seconds = time.perf_counter() - t0
        cons = snap.post.argmax(axis=1)
        answered = (snap.n_answers > 0) & (snap.gold < 0)
        agree = (
            float((proba.argmax(axis=1)[answered] == cons[answered]).mean())
            if answered.any()
            else None
        )
        scores = entropy(proba)
        info: dict[str, Any] = {
            "status": "fitted",
            "fitted_at": time.time(),
            "fit_seconds": round(seconds, 3),
            "trained_on": int(snap.scratch.get("model_trained_on", 0)),
            "agreement_with_consensus": None if agree is None else round(agree, 4),
            "routing_prior": mp is not None,
            "proba": proba,
            "scores": scores,
        }
        with live.lock:
            if live.version != version:  # rebuilt meanwhile: keep the fit for next time
                live.model = {**info, "log_prior": np.log(proba) if mp is not None else None}
                return True
            if mp is not None:
                live.state.scratch.update(snap.scratch)
                live.state.set_item_log_prior(np.log(proba))
                info["log_prior"] = np.log(proba)
            live.model = info
        return True
