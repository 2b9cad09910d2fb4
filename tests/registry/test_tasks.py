"""The Celery side without a broker: the app's limits and beat schedule, and the sweep task's body run eagerly (the
queue itself is proven by test_flow's worker subprocess on a real redis-server, never by eager mode)."""

import json

from registry_helpers import make_report

from conformance_registry import tasks
from conformance_registry.models import Certificate
from conformance_registry.service import apply_outcome, claim, now, queue_run, register
from conformance_registry.suite import RunOutcome


def test_time_limits_late_acks_and_a_beat_schedule(monkeypatch):
    monkeypatch.setenv("SC_REGISTRY_RUN_TIMEOUT", "300")
    monkeypatch.setenv("SC_REGISTRY_RECERTIFY_EVERY", "600")
    app = tasks.make_app("redis://127.0.0.1:1/0")
    assert app.conf.task_time_limit == 420 and app.conf.task_soft_time_limit == 360
    assert app.conf.task_acks_late and app.conf.worker_prefetch_multiplier == 1
    assert app.conf.beat_schedule["sweep"] == {"task": "conformance_registry.sweep", "schedule": 600.0}
    run = app.tasks["conformance_registry.run"]
    assert run.max_retries == 3 and run.autoretry_for


def test_the_sweep_task_queues_due_reruns_on_the_workers(ctx, monkeypatch):
    from datetime import timedelta

    report = make_report()
    with ctx.sessions.begin() as session:
        platform = register(session, ctx.vault, name="P", vendor="V", base_url="http://platform.test",
                            profile="core", token="t" * 20, credentials=None)
        session.flush()
        run = claim(session, queue_run(session, platform, "core", "certify").id)
        apply_outcome(ctx, session, run, RunOutcome(0, json.dumps(report), report, None))
    with ctx.sessions.begin() as session:
        session.get_one(Certificate, run.outcome_certificate_id).last_run_at = now() - timedelta(days=2)
    app = tasks.make_app("memory://")
    app.conf.task_always_eager = True  # the task bodies only
    sent = []
    monkeypatch.setattr(tasks, "_context", ctx)
    monkeypatch.setattr(app.tasks["conformance_registry.run"], "delay", lambda run_id: sent.append(run_id))
    assert app.tasks["conformance_registry.sweep"].apply().get() == 1
    assert len(sent) == 1 and sent[0].startswith("RUN-")
