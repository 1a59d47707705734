"""Relayed outbox messages are forgotten after their retention; work still owed never is."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from safer.celery import app
from safer.outbox.models import OutboxMessage, OutboxStatus
from safer.outbox.services import RELAYED_RETENTION, outbox_prune_relayed
from safer.outbox.tasks import outbox_prune_task

pytestmark = pytest.mark.django_db


def _message(status: str, age: timedelta) -> OutboxMessage:
    at = timezone.now() - age
    return OutboxMessage.objects.create(
        task_name="safer.tasks.heartbeat_task",
        status=status,
        created_at=at,
        available_at=at,
        relayed_at=at if status == OutboxStatus.RELAYED else None,
    )


def test_only_old_relayed_messages_are_pruned() -> None:
    old = RELAYED_RETENTION + timedelta(days=1)
    old_relayed = _message(OutboxStatus.RELAYED, old)
    recent_relayed = _message(OutboxStatus.RELAYED, timedelta(days=1))
    old_pending = _message(OutboxStatus.PENDING, old)
    old_failed = _message(OutboxStatus.FAILED, old)

    assert outbox_prune_relayed() == 1
    assert outbox_prune_relayed() == 0  # safe to run twice
    remaining = set(OutboxMessage.objects.values_list("id", flat=True))
    assert old_relayed.id not in remaining
    assert {recent_relayed.id, old_pending.id, old_failed.id} <= remaining


def test_a_backlog_goes_in_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("safer.outbox.services.PRUNE_BATCH", 2)
    for _ in range(5):
        _message(OutboxStatus.RELAYED, RELAYED_RETENTION + timedelta(hours=1))
    assert outbox_prune_relayed() == 5
    assert not OutboxMessage.objects.exists()


def test_the_prune_is_on_the_beat_schedule() -> None:
    entry = app.conf.beat_schedule["outbox-prune"]
    assert entry["task"] == outbox_prune_task.name
    assert entry["task"] in app.tasks
