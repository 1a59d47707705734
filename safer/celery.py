"""Celery wiring. Settings come from Django settings under the CELERY_ namespace."""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn

from celery import Celery, signals
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safer.settings.development")

app = Celery("safer")
app.config_from_object("django.conf:settings", namespace="CELERY")


def _exit_with(line: str) -> NoReturn:
    """Stop a worker or beat that cannot work, with one line on stderr and status 2 (as
    manage.py does) rather than a traceback or an endless reconnect loop."""
    # sys.__stderr__: beat and the worker redirect sys.stderr into their logger by then.
    stream = sys.__stderr__ or sys.stderr
    stream.write(line.rstrip() + "\n")
    stream.flush()
    raise SystemExit(2)


@app.on_configure.connect
def _load_django_settings(**_: Any) -> None:
    # Celery reads Django settings lazily, deep inside its command-line parsing; load them here
    # so that a configuration mistake is reported as one line.
    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018 - reading a setting loads the module
    except ImproperlyConfigured as error:
        from safer.env import error_line

        _exit_with(error_line(error))


@signals.celeryd_init.connect
def _worker_preflight(**_: Any) -> None:
    from django.db import connections

    from safer.health import preflight

    problem = preflight()
    # The prefork pool forks after this: children must not share the parent's connection.
    connections.close_all()
    if problem:
        _exit_with(f"SAFER worker cannot start: {problem}.")


@signals.task_failure.connect
def _dead_letter(
    sender: Any = None,
    task_id: str | None = None,
    exception: BaseException | None = None,
    args: Any = None,
    kwargs: Any = None,
    **_: Any,
) -> None:
    """A task that failed for good (its retries used up, or an error not worth retrying) is kept
    as a dead letter an administrator can see and send again; it is never just logged and lost.
    A retry in progress raises ``Retry``, which is not a failure and does not come here."""
    if sender is None or task_id is None or exception is None:
        return
    from safer.outbox.services import dead_letter_record

    dead_letter_record(
        task_id=task_id,
        task_name=sender.name,
        args=list(args or ()),
        kwargs=dict(kwargs or {}),
        retries=sender.request.retries or 0,
        error=exception,
    )


@signals.beat_init.connect
def _beat_preflight(**_: Any) -> None:
    from safer.health import preflight

    problem = preflight(database=False)  # beat only talks to the broker
    if problem:
        _exit_with(f"SAFER beat cannot start: {problem}.")


app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    # Redeliver a task whose worker died, rather than lose it; tasks are written to be run twice.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    task_default_queue="safer",
    timezone="Europe/London",
    enable_utc=True,
)
# Time limits and the visibility timeout are read from settings (CELERY_TASK_*), checked there.

# The beat schedule is code, reviewed like code. Apps add their entries through `app.conf`.
app.conf.beat_schedule = {
    "outbox-relay-sweep": {
        # Catches anything whose on_commit relay was lost (a broker outage, a crashed web process).
        "task": "safer.outbox.tasks.outbox_relay_task",
        "schedule": 30.0,
    },
    "outbox-prune": {
        # Relayed messages past 30 days (safer.outbox.services); pending and failed ones stay.
        "task": "safer.outbox.tasks.outbox_prune_task",
        "schedule": crontab(hour=3, minute=25),
    },
    "heartbeat": {
        "task": "safer.tasks.heartbeat_task",
        "schedule": crontab(minute="*/5"),
    },
    "reporting-scheduled-reports": {
        # Every morning: the quarterly and annual runs due on the 5th working day after the
        # period ends (reporting/schedules.py decides; asking twice adds nothing).
        "task": "reporting.tasks.scheduled_reports_task",
        "schedule": crontab(hour=6, minute=30),
    },
    "api-idempotency-purge": {
        # Forgets Idempotency-Keys past their 30 days (safer.api.services); deleting only expired
        # rows, so a missed or repeated night does no harm.
        "task": "safer.api.tasks.idempotency_records_purge_task",
        "schedule": crontab(hour=3, minute=15),
    },
    "reporting-return-templates-roll-forward": {
        # The financial year rolls over by itself: each return's template exists for this year
        # and the next (reporting/rollover.py; a year that has one is left alone).
        "task": "reporting.tasks.return_templates_roll_forward_task",
        "schedule": crontab(hour=0, minute=20),
    },
    "dataprotection-retention-run": {
        # Erases the personal data of case files whose retention period has ended (one run a
        # day, by its schedule key; safer/dataprotection/retention.py). At night, when nobody
        # is working the cases.
        "task": "safer.dataprotection.tasks.retention_run_task",
        "schedule": crontab(hour=2, minute=40),
    },
    "support-next-due-repair": {
        # The caseload sorts by the next due date stored on each case by the services that
        # move a clock; this finds and repairs (with a warning) any a missed writer left
        # wrong (support/services/due.py). At night, after the retention run.
        "task": "support.tasks.next_due_repair_task",
        "schedule": crontab(hour=3, minute=40),
    },
    "support-caseload-tally-repair": {
        # The managers' caseload per worker is read from counts a trigger keeps as the cases
        # change; this compares them with the cases and rebuilds them (with a warning) if a
        # load with triggers off left them behind (support/services/tallies.py).
        "task": "support.tasks.caseload_tally_repair_task",
        "schedule": crontab(hour=3, minute=50),
    },
    "reporting-dashboard-refresh": {
        # Pre-computes each authority's default dashboard so the page opens fast.
        "task": "reporting.tasks.dashboard_refresh_task",
        "schedule": crontab(minute="*/15"),
    },
}

app.autodiscover_tasks()
