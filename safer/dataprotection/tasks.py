from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from safer.audit.history import history_context
from safer.dataprotection.retention import retention_run

logger = logging.getLogger(__name__)


@shared_task(
    name="safer.dataprotection.tasks.retention_run_task",
    ignore_result=True,
    soft_time_limit=3000,
    time_limit=3300,
)
def retention_run_task() -> None:
    """The nightly retention run. One run per day (its schedule key): a second delivery, or beat
    asking twice, returns the first run; a failed day is tried again. Each case file is erased at
    most once (``ErasedCaseFile``), so a run cut short and redelivered finishes the rest."""
    today = timezone.localdate()
    with history_context(actor=None, source="retention_run_task"):
        run = retention_run(dry_run=False, as_of=today, schedule_key=f"retention:{today}")
    logger.info("retention run %s: %s, %d case files", run.pk, run.status, run.case_files)
