"""Running certifications as jobs: the body of one job, and the two ways jobs reach it.

With a broker (``--broker`` / ``SC_REGISTRY_BROKER``) jobs go to Celery workers (``conformance_registry.tasks``);
without one an in-process worker (a small thread pool, each thread waiting on its own suite process) runs them and a
timer thread does what Celery beat does: expire what is due and queue scheduled re-runs.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from sqlalchemy import select

from .database import connect
from .errors import RegistryError
from .models import Platform, Run
from .service import Context, apply_outcome, claim, fail_run, now, sweep
from .settings import Settings, suite_command
from .signing import load_or_create_key
from .suite import run_suite, stop_all
from .vault import Vault

__all__ = ["Dispatcher", "InProcessWorker", "execute", "open_context"]

log = logging.getLogger("conformance_registry")


def open_context(settings: Settings) -> Context:
    return Context(settings=settings, sessions=connect(settings.db_url), key=load_or_create_key(settings.key_path),
                   vault=Vault.from_env(settings.key_path))


def execute(ctx: Context, run_id: str) -> str | None:
    """Run one queued certification to its end; the run's final state, or None when it was not ours to run."""
    with ctx.sessions.begin() as session:
        run = claim(session, run_id)
        if run is None:
            return None
        platform = session.get(Platform, run.platform_id)
        assert platform is not None
        base_url, profile, sealed = platform.base_url, run.profile_id, platform.sealed_secrets
    try:
        secrets = ctx.vault.open(sealed)  # a worker given another SC_REGISTRY_SECRET_KEY fails the run, not silently
        outcome = run_suite(ctx.settings.suite or suite_command(), base_url, profile, secrets,
                            ctx.settings.run_timeout, ctx.settings.output_cap, ctx.settings.report_cap)
    except Exception as exc:  # noqa: BLE001 - whatever happens to one run becomes its record, never a dead worker
        with ctx.sessions.begin() as session:
            fail_run(session, session.get_one(Run, run_id), f"the worker could not run the suite: {exc}"
                     if isinstance(exc, RegistryError) else f"the worker could not run the suite: {type(exc).__name__}")
        return "failed"
    with ctx.sessions.begin() as session:
        run = session.get_one(Run, run_id)
        if outcome.aborted:  # the service is stopping: nothing was learnt about the platform
            fail_run(session, run, outcome.error or "stopped")
        else:
            apply_outcome(ctx, session, run, outcome)
        return run.state


class Dispatcher(Protocol):
    def submit(self, run_id: str) -> None: ...

    def close(self) -> None: ...


class InProcessWorker:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._pool = ThreadPoolExecutor(max_workers=ctx.settings.workers, thread_name_prefix="sc-registry-run")
        self._stop = threading.Event()
        self._timer = threading.Thread(target=self._schedule, name="sc-registry-beat", daemon=True)

    def start(self) -> None:
        """Take up what a previous process of the service left: runs cut off are failed, queued ones run."""
        with self._ctx.sessions.begin() as session:
            for run in session.scalars(select(Run).where(Run.state == "running")):
                fail_run(session, run, "the service stopped during the run")
            queued = list(session.scalars(select(Run.id).where(Run.state == "queued").order_by(Run.queued_at)))
        for run_id in queued:
            self.submit(run_id)
        self._timer.start()

    def submit(self, run_id: str) -> None:
        self._pool.submit(self._guarded, run_id)

    def _guarded(self, run_id: str) -> None:
        try:
            execute(self._ctx, run_id)
        except Exception:  # noqa: BLE001 - e.g. the database went away: log it, keep serving
            log.exception("run %s could not be recorded", run_id)
            try:
                with self._ctx.sessions.begin() as session:
                    if (run := session.get(Run, run_id)) is not None and run.state == "running":
                        fail_run(session, run, "the worker failed to record the run")
            except Exception:  # noqa: BLE001
                log.exception("run %s left running", run_id)

    def _schedule(self) -> None:
        period = min(self._ctx.settings.recertify_every, 60.0)
        while not self._stop.wait(period):
            try:
                for run_id in sweep(self._ctx):
                    self.submit(run_id)
            except Exception:  # noqa: BLE001
                log.exception("scheduled sweep failed at %s", now())

    def close(self) -> None:
        """Stop: queued runs stay queued for the next start, runs under way are killed and recorded as failed."""
        self._stop.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        stop_all()


class CeleryDispatcher:
    """Jobs sent by name to the Celery workers listening on the broker (they need not import this process)."""

    def __init__(self, broker: str) -> None:
        from .tasks import make_app

        self._app = make_app(broker)

    def submit(self, run_id: str) -> None:
        self._app.send_task("conformance_registry.run", args=[run_id])

    def close(self) -> None:
        self._app.close()
