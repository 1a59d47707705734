"""Celery tasks of reporting. Each takes ids, re-reads, calls services, and is safe to run twice."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from reporting.generate import render_run_document
from reporting.records import document_cells, record_marks
from reporting.services import (
    report_ready_notify,
    report_run_claim,
    report_run_complete,
    report_run_fail,
    report_run_progress,
    report_run_release,
)

logger = logging.getLogger(__name__)

# Worth another go: the database or the file store was briefly unreachable. Anything else (a
# template with no lines, a bug) fails the run at once, visibly, rather than retrying in vain.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)
MAX_RETRIES = 3


@shared_task(
    bind=True,
    name="reporting.tasks.report_run_generate_task",
    max_retries=MAX_RETRIES,
    ignore_result=True,
)
def report_run_generate_task(self: Any, run_id: str) -> str:
    """Produce the run's files. A run already produced (or being produced) is left alone."""
    run = report_run_claim(run_id=run_id, task_id=self.request.id)
    if run is None:
        return "skipped"
    try:
        # The marks first: a record entered while the figures are read is then listed as
        # possibly behind a later restatement, rather than missed.
        marks = record_marks()
        document, files = render_run_document(
            run,
            as_of=timezone.now(),
            progress=lambda p: report_run_progress(run=run, progress=p),
        )
        report_run_complete(run=run, files=files, cells=document_cells(document), marks=marks)
    except TRANSIENT_ERRORS as error:
        if self.request.retries >= MAX_RETRIES:
            report_run_fail(run=run, error=error)
            logger.error("report run %s failed after retries: %s", run_id, type(error).__name__)
            return "failed"
        report_run_release(run=run, error=error)
        raise self.retry(exc=error, countdown=10 * 2**self.request.retries) from error
    except SoftTimeLimitExceeded:
        report_run_fail(run=run, error="The report took too long to produce.")
        return "failed"
    except Exception as error:
        logger.exception("report run %s failed", run_id)
        report_run_fail(run=run, error=error)
        return "failed"
    return "succeeded"


@shared_task(
    bind=True,
    name="reporting.tasks.report_ready_notify_task",
    max_retries=5,
    ignore_result=True,
)
def report_ready_notify_task(self: Any, run_id: str) -> int:
    try:
        return report_ready_notify(run_id=run_id)
    except (OSError, *TRANSIENT_ERRORS) as error:
        raise self.retry(exc=error, countdown=60 * 2**self.request.retries) from error


@shared_task(name="reporting.tasks.scheduled_reports_task", ignore_result=True)
def scheduled_reports_task() -> int:
    """Request the quarterly and annual runs that are due (idempotent: one per schedule key)."""
    from reporting.schedules import scheduled_reports_request

    return len(scheduled_reports_request(today=timezone.localdate()))


@shared_task(name="reporting.tasks.dashboard_refresh_task", ignore_result=True)
def dashboard_refresh_task(authority_id: str | None = None) -> int:
    """Pre-compute an authority's default dashboard (this quarter) so its page opens fast and
    shows the same figures as the return. Without an authority (the beat's call) it asks for one
    task per authority instead, so the work spreads over the workers and each task's cost
    follows one authority's scope, however many authorities there are."""
    from reporting.dashboards import dashboard_refresh_defaults
    from reporting.services import dashboard_refresh_fan_out

    if authority_id is None:
        return dashboard_refresh_fan_out()
    return dashboard_refresh_defaults([authority_id])


@shared_task(name="reporting.tasks.return_templates_roll_forward_task", ignore_result=True)
def return_templates_roll_forward_task() -> int:
    """Derive any missing template for the current and the next financial year (idempotent)."""
    from reporting.rollover import return_templates_roll_forward

    return len(return_templates_roll_forward(today=timezone.localdate()))
