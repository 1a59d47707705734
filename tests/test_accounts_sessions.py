"""Session policy (15 minutes idle, 12 hours absolute) and seeing and ending your own sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.test.utils import override_settings

from safer.accounts.middleware import duration_in_words
from safer.accounts.models import User, UserSession
from safer.accounts.services import user_deactivate
from safer.accounts.services.sessions import TOUCH_INTERVAL, user_agent_summary
from safer.audit.models import AuthEvent, AuthEventKind
from tests.helpers import TEST_PASSWORD, make_user, sign_in

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
PRIVATE = "/accounts/sessions/"


def _signed_in_at_start() -> tuple[Client, User]:
    user = make_user()
    client = Client()
    with time_machine.travel(START, tick=False):
        sign_in(client, user)
    return client, user


def test_session_survives_fourteen_idle_minutes() -> None:
    client, _ = _signed_in_at_start()
    with time_machine.travel(START + timedelta(minutes=14, seconds=59), tick=False):
        assert client.get(PRIVATE).status_code == 200


def test_session_ends_after_fifteen_idle_minutes() -> None:
    client, user = _signed_in_at_start()
    with time_machine.travel(START + timedelta(minutes=15), tick=False):
        response = client.get(PRIVATE, follow=True)
    assert response.redirect_chain[0] == (f"/accounts/login/?next={PRIVATE}", 302)
    assert "inactive for 15 minutes" in response.content.decode()
    assert not UserSession.objects.filter(user=user).exists()
    event = AuthEvent.objects.get(kind=AuthEventKind.SESSION_EXPIRED)
    assert event.user == user
    assert event.detail == "idle limit reached"


def test_activity_keeps_the_session_alive_but_it_ends_at_twelve_hours() -> None:
    client, user = _signed_in_at_start()
    moment = START
    # Active every 14 minutes for just under 12 hours: never idle, always allowed.
    while moment + timedelta(minutes=14) < START + timedelta(hours=12):
        moment += timedelta(minutes=14)
        with time_machine.travel(moment, tick=False):
            assert client.get(PRIVATE).status_code == 200, moment
    with time_machine.travel(START + timedelta(hours=12), tick=False):
        response = client.get(PRIVATE, follow=True)
    assert response.redirect_chain[0][0].startswith("/accounts/login/")
    assert "signed in for 12 hours" in response.content.decode()
    event = AuthEvent.objects.get(kind=AuthEventKind.SESSION_EXPIRED, user=user)
    assert event.detail == "absolute limit reached"


def test_an_expired_session_on_a_public_page_is_ended_but_the_page_is_served() -> None:
    client, user = _signed_in_at_start()
    with time_machine.travel(START + timedelta(minutes=20), tick=False):
        response = client.get("/")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert AuthEvent.objects.filter(kind=AuthEventKind.SESSION_EXPIRED, user=user).exists()


@override_settings(SAFER_SESSION_IDLE_SECONDS=120)
def test_the_limits_come_from_settings() -> None:
    client, _ = _signed_in_at_start()
    with time_machine.travel(START + timedelta(minutes=2), tick=False):
        assert client.get(PRIVATE).status_code == 302


def test_a_session_signed_in_outside_the_sign_in_flow_is_ended(client: Client) -> None:
    client.force_login(make_user())  # no policy clock, no UserSession row
    assert client.get(PRIVATE)["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session


def test_a_session_whose_registration_was_removed_is_ended_at_the_next_touch() -> None:
    client, user = _signed_in_at_start()
    UserSession.objects.filter(user=user).delete()  # as if ended by another request
    with time_machine.travel(START + TOUCH_INTERVAL, tick=False):
        assert client.get(PRIVATE)["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session


def test_last_activity_is_recorded_at_most_every_touch_interval() -> None:
    client, user = _signed_in_at_start()
    with time_machine.travel(START + timedelta(seconds=10), tick=False):
        client.get(PRIVATE)
    assert UserSession.objects.get(user=user).last_seen_at == START
    with time_machine.travel(START + timedelta(minutes=5), tick=False):
        client.get(PRIVATE)
    assert UserSession.objects.get(user=user).last_seen_at == START + timedelta(minutes=5)


def test_the_sign_in_flow_registers_the_device_and_address() -> None:
    user = make_user()
    client = Client(
        HTTP_USER_AGENT="Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 "
        "Firefox/133.0",
        REMOTE_ADDR="198.51.100.7",
    )
    client.post("/accounts/login/", {"email": user.email, "password": TEST_PASSWORD})
    session = UserSession.objects.get(user=user)
    assert session.user_agent == "Firefox on Windows"
    assert session.ip == "198.51.100.7"


def test_sessions_page_lists_only_my_live_sessions() -> None:
    user = make_user()
    laptop, phone = Client(), Client()
    sign_in(laptop, user)
    sign_in(phone, user)
    sign_in(Client(), make_user("other@example.org"))

    response = laptop.get(PRIVATE)

    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('class="govuk-table__row"') == 3  # header and two sessions
    assert "This session" in body


def test_ending_another_of_my_sessions() -> None:
    user = make_user()
    laptop, phone = Client(), Client()
    sign_in(laptop, user)
    sign_in(phone, user)
    phone_session = UserSession.objects.get(session_key=phone.session.session_key)

    response = laptop.post(f"/accounts/sessions/{phone_session.id}/end/")

    assert response["Location"] == PRIVATE
    assert phone.get(PRIVATE)["Location"].startswith("/accounts/login/")
    assert laptop.get(PRIVATE).status_code == 200
    assert AuthEvent.objects.filter(kind=AuthEventKind.SESSIONS_ENDED, user=user).exists()


def test_i_cannot_end_someone_elses_session() -> None:
    mine, theirs = Client(), Client()
    sign_in(mine, make_user())
    sign_in(theirs, make_user("other@example.org"))
    their_session = UserSession.objects.get(session_key=theirs.session.session_key)

    assert mine.post(f"/accounts/sessions/{their_session.id}/end/").status_code == 404
    assert theirs.get(PRIVATE).status_code == 200


def test_ending_the_current_session_from_the_list_is_refused_with_advice(client: Client) -> None:
    user = make_user()
    sign_in(client, user)
    current = UserSession.objects.get(user=user)
    response = client.post(f"/accounts/sessions/{current.id}/end/", follow=True)
    assert "To end the session you are using now, sign out." in response.content.decode()
    assert UserSession.objects.filter(pk=current.pk).exists()


def test_ending_all_other_sessions() -> None:
    user = make_user()
    laptop, phone, tablet = Client(), Client(), Client()
    for client in (laptop, phone, tablet):
        sign_in(client, user)
    laptop.post("/accounts/sessions/end-others/")
    assert UserSession.objects.filter(user=user).count() == 1
    assert laptop.get(PRIVATE).status_code == 200
    assert phone.get(PRIVATE).status_code == 302
    assert tablet.get(PRIVATE).status_code == 302


def test_deactivation_ends_every_session_at_once() -> None:
    user = make_user()
    laptop, phone = Client(), Client()
    sign_in(laptop, user)
    sign_in(phone, user)

    ended = user_deactivate(user=user, deactivated_by=None)

    assert ended == 2
    assert laptop.get(PRIVATE).status_code == 302
    assert phone.get(PRIVATE).status_code == 302
    user.refresh_from_db()
    assert not user.is_active
    response = Client().post("/accounts/login/", {"email": user.email, "password": TEST_PASSWORD})
    assert "Enter a correct email address and password" in response.content.decode()


@pytest.mark.parametrize(
    ("agent", "summary"),
    [
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
            "Gecko) Version/17.0 Safari/605.1.15",
            "Safari on macOS",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        ("", "Unknown browser"),
    ],
)
def test_user_agent_summary(agent: str, summary: str) -> None:
    assert user_agent_summary(agent) == summary


def test_a_session_flushed_by_exit_this_page_leaves_the_list_at_once() -> None:
    user = make_user()
    laptop, phone = Client(), Client()
    sign_in(laptop, user)
    sign_in(phone, user)
    phone.get("/exit/")
    body = laptop.get(PRIVATE).content.decode()
    assert body.count('class="govuk-table__row"') == 2  # header and this session


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (2, "2 seconds"),
        (1, "1 second"),
        (60, "1 minute"),
        (900, "15 minutes"),
        (90, "90 seconds"),
        (3600, "1 hour"),
        (43200, "12 hours"),
    ],
)
def test_session_limits_are_said_in_words(seconds: int, words: str) -> None:
    assert duration_in_words(seconds) == words
