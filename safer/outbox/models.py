"""The transactional outbox.

A state change that must cause async work writes an ``OutboxMessage`` in its own transaction. After
commit the message is relayed to Celery; if the broker is down the row simply stays pending and the
beat sweep relays it later. So a broker outage delays work but never loses it.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RELAYED = "relayed", "Relayed to the worker"
    FAILED = "failed", "Failed (gave up relaying)"


class OutboxQuerySet(models.QuerySet["OutboxMessage"]):
    def due(self) -> OutboxQuerySet:
        return self.filter(status=OutboxStatus.PENDING, available_at__lte=timezone.now())


class OutboxMessage(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    task_name = models.CharField(max_length=200)
    # Ids only: a payload never carries a survivor's name, address or contact details.
    kwargs = models.JSONField(default=dict)
    status = models.CharField(
        max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    created_at = models.DateTimeField(default=timezone.now)
    available_at = models.DateTimeField(default=timezone.now)
    relayed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    objects = OutboxQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["status", "available_at"], name="outbox_due_idx")]
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.task_name} ({self.status})"


class DeadLetterStatus(models.TextChoices):
    DEAD = "dead", "Failed: waiting for an administrator"
    RETRIED = "retried", "Sent again"


class DeadLetter(models.Model):
    """A task that failed for good: a non-transient error, or a transient one that outlasted its
    retries. Kept so the work is not lost: an administrator sees it in the admin site and sends
    it again once the cause is fixed (``dead_letter_retry``). Ids and error types only, as the
    outbox: never a survivor's details."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    task_id = models.CharField(max_length=64, db_index=True)
    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    # Deliveries of this task id that ended in failure or a retry (1 + the retries it had).
    attempts = models.PositiveIntegerField(default=1)
    error = models.CharField(max_length=500)
    failed_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        max_length=10, choices=DeadLetterStatus.choices, default=DeadLetterStatus.DEAD
    )
    retried_at = models.DateTimeField(null=True, blank=True)
    retried_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The outbox message that sent it again (its id is the new task's id).
    retry_message = models.ForeignKey(
        OutboxMessage, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-failed_at"]
        constraints = [
            # One row per failed task id: a redelivered failure updates it, never adds a second.
            models.UniqueConstraint(fields=["task_id"], name="dead_letter_one_per_task")
        ]

    def __str__(self) -> str:
        return f"{self.task_name} ({self.get_status_display()})"
