"""Celery tasks of support casework. Each calls a service and is safe to run twice."""

from __future__ import annotations

from celery import shared_task

from support.services.due import next_due_repair
from support.services.tallies import caseload_tally_repair


@shared_task(
    name="support.tasks.next_due_repair_task",
    ignore_result=True,
    soft_time_limit=300,
    time_limit=360,
)
def next_due_repair_task() -> int:
    """Nightly: compare every case's stored next due date with its clocks and repair any that
    drifted (each logged as a warning). One read per case kind over the case tables."""
    return next_due_repair()


@shared_task(
    name="support.tasks.caseload_tally_repair_task",
    ignore_result=True,
    soft_time_limit=300,
    time_limit=360,
)
def caseload_tally_repair_task() -> int:
    """Nightly: compare the caseload tallies with a count of the cases and rebuild them if any
    differs (logged as a warning). One read per case kind over the case tables."""
    return caseload_tally_repair()
