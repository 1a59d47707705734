"""Background work of the SPA. Tasks take ids, re-read, and are safe to run twice."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from referrals.services.drafts import referral_drafts_purge
from referrals.services.notifications import (
    TransientDeliveryError,
    notification_deliver,
    notification_give_up,
    referral_notifications_deliver,
    referral_notifications_give_up,
)

MAX_RETRIES = 8


@shared_task(
    bind=True,
    name="referrals.tasks.referral_notifications_send_task",
    ignore_result=True,
    max_retries=MAX_RETRIES,
    soft_time_limit=120,
    time_limit=150,
)
def referral_notifications_send_task(self: Any, referral_id: str) -> int:
    """Send a new referral's emails (the one outbox row its submission wrote). Each notification
    row is created once (unique by referral, kind and recipient) and is its own sent-marker, so a
    redelivered or retried task sends only what was not sent. Only an unreachable mail server is
    retried."""
    try:
        return referral_notifications_deliver(referral_id=referral_id)
    except TransientDeliveryError as error:
        if self.request.retries >= MAX_RETRIES:
            referral_notifications_give_up(referral_id=referral_id, error=str(error))
            return 0
        countdown = min(600, 15 * 2**self.request.retries)
        raise self.retry(exc=error, countdown=countdown) from error


@shared_task(
    bind=True,
    name="referrals.tasks.referral_notification_send_task",
    ignore_result=True,
    max_retries=MAX_RETRIES,
    soft_time_limit=60,
    time_limit=90,
)
def referral_notification_send_task(self: Any, notification_id: str) -> bool:
    """Send one referral email: for notifications queued one outbox row each, before the task
    above (kept so rows still in flight are sent). The notification row is the sent-marker
    (compare-and-set), so a redelivered task sends nothing the second time. Only an unreachable
    mail server is retried."""
    try:
        return notification_deliver(notification_id=notification_id)
    except TransientDeliveryError as error:
        if self.request.retries >= MAX_RETRIES:
            notification_give_up(notification_id=notification_id, error=str(error))
            return False
        countdown = min(600, 15 * 2**self.request.retries)
        raise self.retry(exc=error, countdown=countdown) from error


@shared_task(
    name="referrals.tasks.referral_drafts_purge_task",
    ignore_result=True,
    soft_time_limit=60,
    time_limit=90,
)
def referral_drafts_purge_task() -> int:
    """Delete referral drafts idle for longer than the limit (two hours)."""
    return referral_drafts_purge()
