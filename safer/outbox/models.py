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
