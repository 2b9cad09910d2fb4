"""Celery tasks: ``celery -A conformance_registry.tasks worker`` runs certifications; ``… beat`` schedules re-runs.

A worker reads the service's settings from the environment (``SC_REGISTRY_DB``, ``SC_REGISTRY_KEY``,
``SC_REGISTRY_BROKER``, ``SC_REGISTRY_SECRET_KEY``), so workers on other machines share the body's PostgreSQL.
Each task launches the suite in a process of its own; ``task_time_limit`` bounds the task beyond the run's own limit.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from sqlalchemy.exc import OperationalError

from .settings import Settings

__all__ = ["app", "make_app"]

_context: Any = None


def _ctx() -> Any:
    global _context
    if _context is None:  # once per worker process, after the fork
        from .jobs import open_context

        _context = open_context(Settings.from_env())
    return _context


def make_app(broker: str) -> Celery:
    settings_timeout = float(os.environ.get("SC_REGISTRY_RUN_TIMEOUT") or 1800)
    every = float(os.environ.get("SC_REGISTRY_RECERTIFY_EVERY") or 86400)
    celery = Celery("conformance_registry", broker=broker)
    celery.conf.update(
        task_acks_late=True,  # a worker that dies mid-task leaves the job for another
        worker_prefetch_multiplier=1,  # a run lasts minutes: never hold jobs another worker could start
        task_time_limit=settings_timeout + 120, task_soft_time_limit=settings_timeout + 60,
        broker_connection_retry_on_startup=True, task_ignore_result=True,
        beat_schedule={"sweep": {"task": "conformance_registry.sweep", "schedule": min(every, 3600.0)}},
    )

    @celery.task(name="conformance_registry.run", shared=False, autoretry_for=(OperationalError,), retry_backoff=5,
                 max_retries=3)
    def run_certification(run_id: str) -> str | None:
        from .jobs import execute

        return execute(_ctx(), run_id)

    @celery.task(name="conformance_registry.sweep", shared=False)
    def sweep_task() -> int:
        from .service import sweep

        queued = sweep(_ctx())
        for run_id in queued:
            run_certification.delay(run_id)
        return len(queued)

    return celery


app = make_app(os.environ.get("SC_REGISTRY_BROKER") or "redis://127.0.0.1:6379/0")
