"""Celery wiring. Settings come from Django settings under the CELERY_ namespace."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safer.settings.development")

app = Celery("safer")
app.config_from_object("django.conf:settings", namespace="CELERY")
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
    "heartbeat": {
        "task": "safer.tasks.heartbeat_task",
        "schedule": crontab(minute="*/5"),
    },
}

app.autodiscover_tasks()
