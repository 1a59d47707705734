"""Idempotency keys are remembered for 30 days, then forgotten: the row is purged nightly by a
beat task, and a key past its time is free for a new request even before the purge runs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from safer.api.models import ApiClient, IdempotencyRecord, Scope
from safer.api.services import (
    IDEMPOTENCY_KEY_RETENTION,
    idempotency_records_purge,
    idempotent_execute,
)
from safer.api.tasks import idempotency_records_purge_task
from safer.celery import app
from tests.api_support import issue
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_client() -> ApiClient:
    client, _ = issue(OrganisationFactory.create(), Scope.REFERRALS_SUBMIT)
    return client


def _record(client: ApiClient, key: str, age: dt.timedelta) -> IdempotencyRecord:
    return IdempotencyRecord.objects.create(
        client=client,
        key=key,
        operation="referral_create",
        request_hash="0" * 64,
        response_status=201,
        response_body={"reference": "SAFER-2026-000001"},
        created_at=timezone.now() - age,
    )


def test_purge_deletes_only_keys_past_their_retention_and_is_idempotent(
    api_client: ApiClient,
) -> None:
    old = _record(api_client, "old", IDEMPOTENCY_KEY_RETENTION + dt.timedelta(minutes=1))
    recent = _record(api_client, "recent", IDEMPOTENCY_KEY_RETENTION - dt.timedelta(hours=1))

    assert idempotency_records_purge() == 1
    assert not IdempotencyRecord.objects.filter(pk=old.pk).exists()
    assert IdempotencyRecord.objects.filter(pk=recent.pk).exists()
    assert idempotency_records_purge() == 0  # a second run finds nothing more


def test_purge_works_through_a_backlog_in_batches(
    api_client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("safer.api.services.IDEMPOTENCY_PURGE_BATCH", 2)
    for n in range(5):
        _record(api_client, f"old-{n}", IDEMPOTENCY_KEY_RETENTION * 2)
    assert idempotency_records_purge() == 5
    assert not IdempotencyRecord.objects.exists()


def test_the_task_purges(api_client: ApiClient) -> None:
    _record(api_client, "old", IDEMPOTENCY_KEY_RETENTION * 2)
    idempotency_records_purge_task.run()
    assert not IdempotencyRecord.objects.exists()


def test_the_purge_is_on_the_beat_schedule() -> None:
    entry = app.conf.beat_schedule["api-idempotency-purge"]
    assert entry["task"] == idempotency_records_purge_task.name
    assert entry["task"] in app.tasks


def test_an_expired_key_is_a_new_request_not_a_replay(api_client: ApiClient) -> None:
    _record(api_client, "reused", IDEMPOTENCY_KEY_RETENTION + dt.timedelta(days=1))
    result = idempotent_execute(
        client=api_client,
        key="reused",
        operation="referral_create",
        fingerprint="1" * 64,  # a different request: inside 30 days this would be refused
        perform=lambda: (201, {"reference": "SAFER-2026-000002"}),
    )
    assert not result.replayed
    assert result.body == {"reference": "SAFER-2026-000002"}
    assert IdempotencyRecord.objects.get(client=api_client, key="reused").request_hash == "1" * 64


def test_a_key_inside_its_retention_still_replays(api_client: ApiClient) -> None:
    _record(api_client, "fresh", IDEMPOTENCY_KEY_RETENTION - dt.timedelta(days=1))
    result = idempotent_execute(
        client=api_client,
        key="fresh",
        operation="referral_create",
        fingerprint="0" * 64,
        perform=lambda: pytest.fail("must not run again"),
    )
    assert result.replayed
    assert result.body == {"reference": "SAFER-2026-000001"}
