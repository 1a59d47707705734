from __future__ import annotations

import logging

from celery import shared_task

from safer.api.services import idempotency_records_purge

logger = logging.getLogger(__name__)


@shared_task(
    name="safer.api.tasks.idempotency_records_purge_task",
    ignore_result=True,
    soft_time_limit=300,
    time_limit=360,
)
def idempotency_records_purge_task() -> None:
    # Deletes only rows past the retention: running it twice, or late, changes nothing more.
    purged = idempotency_records_purge()
    logger.info("purged %d expired idempotency records", purged)
