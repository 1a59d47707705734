from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(name="safer.tasks.heartbeat_task", ignore_result=True)
def heartbeat_task(check_id: str | None = None) -> None:
    """Record that a worker is alive; with a check id, mark that worker check as done."""
    from safer.models import WorkerCheck

    now = timezone.now()
    if check_id is not None:
        # A compare-and-set: running this twice changes nothing the second time.
        WorkerCheck.objects.filter(id=check_id, completed_at__isnull=True).update(completed_at=now)
    logger.info("worker heartbeat at %s", now.isoformat())
