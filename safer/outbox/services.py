"""Writing to the outbox and relaying it to Celery."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from safer.batches import delete_in_batches
from safer.outbox.models import DeadLetter, DeadLetterStatus, OutboxMessage, OutboxStatus

logger = logging.getLogger(__name__)

MAX_RELAY_ATTEMPTS = 50
# A relayed message is kept this long for anyone tracing what a change set off, then forgotten:
# every change writes one, and the dashboard refresh alone one per authority a quarter-hour.
RELAYED_RETENTION = timedelta(days=30)
PRUNE_BATCH = 5_000
_SCALARS = (str, int, float, bool, type(None))


def outbox_enqueue(*, task_name: str, kwargs: dict[str, Any]) -> OutboxMessage:
    """Record async work in the caller's transaction; it is relayed to Celery after commit."""
    message = outbox_message_new(task_name=task_name, kwargs=kwargs)
    message.save(force_insert=True)
    return message


def outbox_message_new(*, task_name: str, kwargs: dict[str, Any]) -> OutboxMessage:
    """``outbox_enqueue``'s message, for a caller that inserts it with its other new rows in one
    round trip (``safer.sqlbatch``; issue 17), in this same transaction: its relay after commit
    is arranged already. Not inserted, it is never sent (the relay claims only a stored row)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(
            "outbox_enqueue must run inside the transaction of the change it follows"
        )
    for key, value in kwargs.items():
        if not isinstance(value, _SCALARS):
            raise TypeError(
                f"outbox kwargs carry ids and scalars only; {key!r} is {type(value).__name__}"
            )
    # A copy: the message relayed from memory after commit is exactly the row stored now.
    message = OutboxMessage(task_name=task_name, kwargs=dict(kwargs))
    transaction.on_commit(lambda: _relay_enqueued(message))
    return message


def outbox_relay(*, message_ids: list[uuid.UUID] | None = None, limit: int = 500) -> int:
    """Send due messages to the broker. Returns how many were relayed.

    Each message is claimed with a compare-and-set (pending → relayed), so two relays running at
    once never send the same message twice; if sending fails the claim is undone.
    """
    due = OutboxMessage.objects.due()
    if message_ids is not None:
        due = due.filter(id__in=message_ids)
    relayed = 0
    for message in list(due.order_by("created_at")[:limit]):
        claimed = OutboxMessage.objects.filter(id=message.id, status=OutboxStatus.PENDING).update(
            status=OutboxStatus.RELAYED, relayed_at=timezone.now(), attempts=message.attempts + 1
        )
        if not claimed:
            continue
        try:
            _send(message)
        except (KombuOperationalError, OSError, ConnectionError) as error:
            _release(message, error)
            logger.warning("outbox relay deferred: broker unreachable (%s)", type(error).__name__)
            break  # the broker is down: the rest wait for the next sweep
        relayed += 1
    return relayed


def _relay_enqueued(message: OutboxMessage) -> None:
    """After commit, relay the message this process just enqueued. ``outbox_relay``'s claim and
    send, without reading the row back first: what it would read is in memory (issue 17: a
    round trip per submission). Claimed only if still due, so a sweep that got there first
    wins and it is sent once."""
    claimed = (
        OutboxMessage.objects.due()
        .filter(id=message.id)
        .update(
            status=OutboxStatus.RELAYED,
            relayed_at=timezone.now(),
            attempts=message.attempts + 1,
        )
    )
    if not claimed:
        return
    try:
        _send(message)
    except (KombuOperationalError, OSError, ConnectionError) as error:
        _release(message, error)
        logger.warning("outbox relay deferred: broker unreachable (%s)", type(error).__name__)


def _send(message: OutboxMessage) -> None:
    from safer.celery import app

    app.send_task(
        message.task_name,
        kwargs=message.kwargs,
        task_id=str(message.id),
        retry=True,
        retry_policy={
            "max_retries": 1,
            "interval_start": 0,
            "interval_step": 0.5,
            "interval_max": 1,
        },
    )


def _release(message: OutboxMessage, error: BaseException) -> None:
    attempts = message.attempts + 1
    status = OutboxStatus.FAILED if attempts >= MAX_RELAY_ATTEMPTS else OutboxStatus.PENDING
    backoff = timedelta(seconds=min(300, 2 ** min(attempts, 8)))
    OutboxMessage.objects.filter(id=message.id).update(
        status=status,
        relayed_at=None,
        attempts=attempts,
        available_at=timezone.now() + backoff,
        last_error=f"{type(error).__name__}: {error}"[:500],
    )


# --- Dead letters -------------------------------------------------------------------------------


def dead_letter_record(
    *,
    task_id: str,
    task_name: str,
    args: Sequence[Any],
    kwargs: dict[str, Any],
    retries: int,
    error: BaseException,
) -> DeadLetter:
    """Keep a task that failed for good (Celery's ``task_failure``), once per task id."""
    letter, _ = DeadLetter.objects.update_or_create(
        task_id=task_id,
        defaults={
            "task_name": task_name,
            "args": list(args),
            "kwargs": dict(kwargs),
            "attempts": retries + 1,
            # The type and message only (no traceback): messages carry ids, never personal data.
            "error": f"{type(error).__name__}: {error}"[:500],
            "failed_at": timezone.now(),
            "status": DeadLetterStatus.DEAD,
        },
    )
    logger.error("task %s (%s) failed for good: %s", task_name, task_id, type(error).__name__)
    return letter


@transaction.atomic
def dead_letter_retry(*, dead_letter: DeadLetter, by: Any) -> OutboxMessage | None:
    """Send a dead task again, through the outbox (a new task id), and record who did. A letter
    already retried is left alone (compare-and-set), so a double click sends it once."""
    if dead_letter.args:
        return None  # not sent by the outbox (positional arguments): nothing safe to resend
    claimed = DeadLetter.objects.filter(pk=dead_letter.pk, status=DeadLetterStatus.DEAD).update(
        status=DeadLetterStatus.RETRIED, retried_at=timezone.now(), retried_by=by
    )
    if not claimed:
        return None
    message = outbox_enqueue(task_name=dead_letter.task_name, kwargs=dead_letter.kwargs)
    DeadLetter.objects.filter(pk=dead_letter.pk).update(retry_message=message)
    return message


def outbox_prune_relayed(*, now: datetime | None = None) -> int:
    """Delete relayed messages older than ``RELAYED_RETENTION``; returns how many. Pending and
    failed ones are never touched (they are work still owed, or evidence of work lost).

    In batches, each its own transaction, so a backlog never holds locks for long; safe to run
    twice or from two workers at once (rows another worker holds are skipped, then gone)."""
    cutoff = (now or timezone.now()) - RELAYED_RETENTION
    # ``available_at`` is never after ``relayed_at``: this reads the status index.
    relayed = OutboxMessage.objects.filter(
        status=OutboxStatus.RELAYED, available_at__lt=cutoff, relayed_at__lt=cutoff
    )
    return delete_in_batches(relayed, order_by="available_at", batch=PRUNE_BATCH)
