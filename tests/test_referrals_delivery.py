"""Rate limit, drafts, notifications and outages around the referral form."""

from __future__ import annotations

import datetime as dt
import smtplib
import time
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import redis
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from referrals import ratelimit
from referrals.models import (
    NotificationKind,
    NotificationStatus,
    Referral,
    ReferralDraft,
    ReferralNotification,
)
from referrals.services.drafts import draft_decrypt, referral_drafts_purge
from referrals.services.notifications import (
    NOTIFICATIONS_TASK,
    TransientDeliveryError,
    notification_deliver,
    referral_notifications_create,
    referral_notifications_deliver,
)
from referrals.tasks import referral_notification_send_task, referral_notifications_send_task
from safer.accounts.roles import Role
from safer.outbox.models import OutboxMessage, OutboxStatus
from safer.outbox.services import outbox_relay
from tests.referrals_support import geography, make_referral, staff

LOCAL = "127.0.0.1"
DEAD_REDIS = "unix:///nonexistent/redis.sock?db=0"


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    for limit in (ratelimit.FORM_POSTS, ratelimit.SUBMISSIONS):
        ratelimit.reset(limit, LOCAL)


# --- Rate limit -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_form_posts_are_rate_limited_per_address_with_a_clear_429(
    client: Client, settings: Any
) -> None:
    settings.SAFER_REFERRAL_RATE_LIMITS = {"referral-form-post": (3, 60)}
    ratelimit.reset(ratelimit.FORM_POSTS, LOCAL)
    statuses = [client.post(reverse("refer:start")).status_code for _ in range(4)]
    assert statuses == [302, 302, 302, 429]
    response = client.post(reverse("refer:start"))
    assert response.status_code == 429
    assert "too many attempts" in response.content.decode()
    # Another address is counted separately.
    other = client.post(reverse("refer:start"), REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 302
    ratelimit.reset(ratelimit.FORM_POSTS, "192.0.2.7")


def test_rate_limit_counter_is_atomic_and_expires() -> None:
    limit = ratelimit.Limit("h7-test-scope", 5, 30)
    client_id = f"test-{time.monotonic_ns()}"
    results = [ratelimit.hit(limit, client_id) for _ in range(7)]
    assert results == [True] * 5 + [False] * 2
    key = ratelimit._key(limit, client_id)
    assert 0 < ratelimit.redis_client().ttl(key) <= 30
    ratelimit.reset(limit, client_id)


def test_rate_limit_fails_open_quickly_when_redis_is_down(settings: Any) -> None:
    settings.REDIS_URL = DEAD_REDIS
    started = time.monotonic()
    assert ratelimit.hit(ratelimit.SUBMISSIONS, "anyone") is True
    assert time.monotonic() - started < 1.5  # no retry back-off on the form's path


# --- Drafts -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_draft_expires_after_two_idle_hours(client: Client) -> None:
    geography()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.post(reverse("refer:start"))
        client.post(reverse("refer:question", kwargs={"slug": "who"}), {"referral_type": "self"})
    draft = ReferralDraft.objects.get()
    with time_machine.travel(start + dt.timedelta(hours=1, minutes=59), tick=False):
        # Still there, and reading it counts as activity.
        assert client.get(reverse("refer:question", kwargs={"slug": "consent"})).status_code == 200
    with time_machine.travel(start + dt.timedelta(hours=3, minutes=58), tick=False):
        assert referral_drafts_purge() == 0
        assert client.get(reverse("refer:question", kwargs={"slug": "consent"})).status_code == 200
    with time_machine.travel(start + dt.timedelta(hours=6), tick=False):
        response = client.get(reverse("refer:question", kwargs={"slug": "consent"}))
    assert response["Location"] == reverse("refer:session-ended")
    assert not ReferralDraft.objects.filter(pk=draft.pk).exists()


@pytest.mark.django_db
def test_purge_deletes_drafts_nobody_came_back_to(client: Client) -> None:
    client.post(reverse("refer:start"))
    token = bytes(ReferralDraft.objects.get().token)
    assert draft_decrypt(token) is not None
    with time_machine.travel(timezone.now() + dt.timedelta(hours=2, minutes=1)):
        assert draft_decrypt(token) is None  # the Fernet timestamp is too old
        assert referral_drafts_purge() == 1
    assert not ReferralDraft.objects.exists()


# --- Notifications ----------------------------------------------------------------------------


def _acknowledgement(referral: Referral) -> ReferralNotification:
    """The referral's acknowledgement row, as the worker creates it from the one outbox row."""
    referral_notifications_create(referral_id=str(referral.id))
    return ReferralNotification.objects.get(
        referral=referral, kind=NotificationKind.ACKNOWLEDGEMENT
    )


@pytest.mark.django_db
def test_urgent_referral_alerts_the_spa_team_of_its_authority_without_personal_details() -> None:
    kent_worker = staff("kent.triage@spa.example.org", Role.SPA_TRIAGE)
    staff("medway.triage@spa.example.org", Role.SPA_TRIAGE, authorities=("medway",))
    staff("rita.referrer@police.example.org", Role.REFERRER)
    referral = make_referral(urgent=True, given_name="Zebedee", family_name="Quux")
    # The request wrote one outbox row for all the referral's emails, and no notification yet.
    queued = OutboxMessage.objects.get(task_name=NOTIFICATIONS_TASK)
    assert queued.kwargs == {"referral_id": str(referral.id)}
    assert not ReferralNotification.objects.exists()
    # The worker expands it: the referrer, and the SPA staff of the referral's authority.
    assert referral_notifications_send_task(**queued.kwargs) == 2
    alerts = ReferralNotification.objects.filter(kind=NotificationKind.TRIAGE_ALERT)
    assert [a.recipient for a in alerts] == [kent_worker.email]
    assert set(ReferralNotification.objects.values_list("status", flat=True)) == {
        NotificationStatus.SENT
    }
    # Delivered again (the broker may deliver twice): nothing more is created or sent.
    assert referral_notifications_send_task(**queued.kwargs) == 0
    assert ReferralNotification.objects.count() == 2
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        text = f"{message.subject} {message.body}"
        assert referral.reference in text
        for private in ("Zebedee", "Quux", "Fictional Road", "ME15", "Maidstone", "07700"):
            assert private not in text
    alert = next(m for m in mail.outbox if m.to == [kent_worker.email])
    assert f"/referrals/{referral.id}/" in alert.body


@pytest.mark.django_db
def test_a_notification_is_sent_once_however_often_its_task_runs() -> None:
    referral = make_referral()
    ack = _acknowledgement(referral)
    assert referral_notification_send_task(notification_id=str(ack.id)) is True
    assert referral_notification_send_task(notification_id=str(ack.id)) is False
    ack.refresh_from_db()
    assert ack.status == NotificationStatus.SENT
    assert ack.attempts == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_an_unreachable_mail_server_for_one_recipient_retries_that_one_only() -> None:
    staff("kent.triage@spa.example.org", Role.SPA_TRIAGE)
    staff("kent.manager@spa.example.org", Role.SPA_TRIAGE)
    referral = make_referral(urgent=True)
    from django.core.mail import send_mail as real_send

    def flaky(**kwargs: Any) -> int:
        if kwargs["recipient_list"] == ["kent.manager@spa.example.org"]:
            raise ConnectionRefusedError()
        return int(real_send(**kwargs))

    with (
        mock.patch("referrals.services.notifications.send_mail", side_effect=flaky),
        pytest.raises(TransientDeliveryError),
    ):
        referral_notifications_deliver(referral_id=str(referral.id))
    assert sorted(m.to[0] for m in mail.outbox) == [
        "kent.triage@spa.example.org",
        "pat.referrer@police.example.org",
    ]
    # The retry sends the one left, and nothing twice.
    assert referral_notifications_deliver(referral_id=str(referral.id)) == 1
    assert len(mail.outbox) == 3
    assert set(ReferralNotification.objects.values_list("status", flat=True)) == {
        NotificationStatus.SENT
    }


@pytest.mark.django_db
def test_a_transient_mail_failure_is_released_for_a_retry_and_a_permanent_one_is_not() -> None:
    referral = make_referral()
    ack = _acknowledgement(referral)
    with (
        mock.patch(
            "referrals.services.notifications.send_mail", side_effect=ConnectionRefusedError()
        ),
        pytest.raises(TransientDeliveryError),
    ):
        notification_deliver(notification_id=str(ack.id))
    ack.refresh_from_db()
    assert ack.status == NotificationStatus.PENDING
    assert ack.claimed_at is None
    refused = smtplib.SMTPRecipientsRefused({ack.recipient: (550, b"no such user")})
    with mock.patch("referrals.services.notifications.send_mail", side_effect=refused):
        assert notification_deliver(notification_id=str(ack.id)) is False
    ack.refresh_from_db()
    assert ack.status == NotificationStatus.FAILED
    assert notification_deliver(notification_id=str(ack.id)) is False  # never retried


@pytest.mark.django_db
def test_a_claim_left_by_a_dead_worker_is_taken_over_after_a_while() -> None:
    referral = make_referral()
    ack = _acknowledgement(referral)
    ReferralNotification.objects.filter(pk=ack.pk).update(
        status=NotificationStatus.SENDING, claimed_at=timezone.now()
    )
    assert notification_deliver(notification_id=str(ack.id)) is False  # someone is sending
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=11)):
        assert notification_deliver(notification_id=str(ack.id)) is True


# --- Outages ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_referral_is_saved_when_redis_is_down(client: Client, settings: Any) -> None:
    from tests.test_referrals_public import submit, walk_professional

    geography()
    settings.REDIS_URL = DEAD_REDIS
    with (
        mock.patch(
            "safer.outbox.services._send",
            side_effect=OSError("broker unreachable"),
        ),
    ):
        walk_professional(client)
        referral = submit(client)
    assert Referral.objects.filter(pk=referral.pk).exists()
    message = OutboxMessage.objects.get(kwargs={"referral_id": str(referral.id)})
    assert message.status == OutboxStatus.PENDING  # waits for the broker; nothing lost
    assert "broker unreachable" in message.last_error


# --- A real worker ----------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.filterwarnings("ignore:task_always_eager")
@pytest.mark.django_db(transaction=True)
def test_hundred_referrals_with_the_broker_down_are_stored_and_acknowledged_once_each(
    tmp_path: Path,
) -> None:
    from django.conf import settings

    from safer.redis_urls import celery_broker, with_db
    from tests.test_worker import celery_sends_to, running_worker

    run_id = f"h7{time.monotonic_ns() % 10**10}"
    queue = f"safer-worker-test-{run_id}"
    redis_url = with_db(settings.REDIS_URL, 13)
    broker = redis.Redis.from_url(redis_url)
    dead_broker = f"redis+socket://{tmp_path / 'broker-is-down.sock'}"
    try:
        with celery_sends_to(dead_broker, queue):
            referrals = [
                make_referral(given_name=f"Person{i}", postcode=f"ME15 {i % 10}AA")
                for i in range(100)
            ]
        assert Referral.objects.count() == 100
        # One outbox row per referral, waiting for the broker; the worker makes the emails.
        assert OutboxMessage.objects.filter(task_name=NOTIFICATIONS_TASK).count() == 100
        acks = ReferralNotification.objects.filter(kind=NotificationKind.ACKNOWLEDGEMENT)
        assert not acks.exists()
        assert broker.llen(queue) == 0

        log_path = tmp_path / "worker.log"
        with (
            celery_sends_to(celery_broker(redis_url), queue),
            running_worker(queue=queue, redis_url=redis_url, run_id=run_id, log_path=log_path),
        ):
            with time_machine.travel(timezone.now() + dt.timedelta(minutes=10)):
                assert outbox_relay() == 100
                assert outbox_relay() == 0  # relayed once
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                if acks.filter(status=NotificationStatus.SENT).count() == 100:
                    break
                time.sleep(0.5)
            assert acks.filter(status=NotificationStatus.SENT).count() == 100, log_path.read_text(
                errors="replace"
            )[-3000:]
            # A redelivered task (the broker may deliver twice) sends nothing more.
            from safer.celery import app

            app.send_task(NOTIFICATIONS_TASK, kwargs={"referral_id": str(referrals[0].id)})
            time.sleep(3)
        log = log_path.read_text(errors="replace")
        for referral in referrals:
            assert log.count(f"Subject: Referral received: {referral.reference}") == 1
        assert set(acks.values_list("attempts", flat=True)) == {1}
    finally:
        for key in broker.scan_iter(f"*{run_id}*"):
            broker.delete(key)
        broker.close()
