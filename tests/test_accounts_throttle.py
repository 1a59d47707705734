"""Sign-in guesses at one account are slowed from every address, without locking its owner out.

django-axes locks an email from one address; guesses spread over many addresses meet the
per-account delay (safer/accounts/services/throttle.py): free for the first few, then a wait
that doubles up to 15 minutes. The right password and code still work once the wait is over,
and a browser that has signed in to the account before is never delayed.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from safer.accounts.models import SignInThrottle
from safer.accounts.services.throttle import (
    DEVICE_COOKIE,
    FREE_FAILURES,
    MAX_DELAY,
    delay_after,
)
from safer.audit.models import AuthEvent, AuthEventKind
from tests.helpers import TEST_PASSWORD, add_totp_device, make_user, totp_code

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
VERIFY = "/accounts/two-factor/verify/"
EMAIL = "worker@example.org"
START = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def _attempt(client: Client, password: str, n: int, email: str = EMAIL):
    # A new address each time: axes (per email *and* address) never locks.
    return client.post(LOGIN, {"email": email, "password": password}, REMOTE_ADDR=f"203.0.113.{n}")


def _spread_failures(count: int, email: str = EMAIL, start: int = 1) -> None:
    for n in range(start, start + count):
        response = _attempt(Client(), "wrong password", n, email)
        assert response.status_code == 200, n


def _normalised(body: bytes) -> str:
    text = re.sub(r'nonce="[^"]*"', "", body.decode())
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)


def test_the_delay_doubles_after_the_free_failures_and_is_capped() -> None:
    assert [delay_after(n).total_seconds() for n in range(FREE_FAILURES + 1)] == [0] * (
        FREE_FAILURES + 1
    )
    assert delay_after(FREE_FAILURES + 1) == dt.timedelta(seconds=2)
    assert delay_after(FREE_FAILURES + 2) == dt.timedelta(seconds=4)
    assert delay_after(FREE_FAILURES + 3) == dt.timedelta(seconds=8)
    assert delay_after(FREE_FAILURES + 50) == MAX_DELAY == dt.timedelta(minutes=15)


def test_guesses_from_many_addresses_are_delayed_then_the_owner_signs_in() -> None:
    user = make_user()
    device = add_totp_device(user)
    with time_machine.travel(START, tick=False) as clock:
        _spread_failures(FREE_FAILURES + 1)  # the sixth failure starts a 2-second wait

        # Even the right password, from yet another address, waits: it is not checked.
        delayed = _attempt(Client(), TEST_PASSWORD, 99)
        assert delayed.status_code == 429
        assert delayed["Retry-After"] == "2"
        assert "Wait 2 seconds" in delayed.content.decode()
        assert "_auth_user_id" not in delayed.wsgi_request.session
        assert not AuthEvent.objects.filter(kind=AuthEventKind.SIGN_IN).exists()
        assert AuthEvent.objects.filter(
            kind=AuthEventKind.LOCKED_OUT, attempted_username=EMAIL, detail__contains="any address"
        ).exists()

        # An attempt during the wait does not make it longer.
        clock.shift(dt.timedelta(seconds=1))
        assert _attempt(Client(), "wrong again", 98)["Retry-After"] == "1"

        # Once the wait is over: the password and the code work, nothing is locked.
        clock.shift(dt.timedelta(seconds=1, milliseconds=1))
        owner = Client()
        signed = _attempt(owner, TEST_PASSWORD, 97)
        assert signed.status_code == 302
        assert signed["Location"].startswith(VERIFY)
        verified = owner.post(VERIFY, {"code": totp_code(device)})
        assert verified.status_code == 302
        assert SignInThrottle.objects.get().failures == 0  # the right password cleared it


def test_the_wait_grows_with_each_failure_up_to_fifteen_minutes() -> None:
    make_user()
    with time_machine.travel(START, tick=False) as clock:
        _spread_failures(FREE_FAILURES)
        waits = []
        for n in range(20):
            response = _attempt(Client(), "wrong password", 50 + n)
            assert response.status_code == 200  # checked, and wrong
            row = SignInThrottle.objects.get()
            assert row.next_attempt_at is not None
            wait = row.next_attempt_at - dt.datetime.now(tz=dt.UTC)
            waits.append(wait.total_seconds())
            clock.shift(wait)
        assert waits[:4] == [2, 4, 8, 16]
        assert max(waits) == 15 * 60
        assert waits[-1] == 15 * 60


def test_a_browser_that_signed_in_before_is_not_delayed() -> None:
    user = make_user()
    device = add_totp_device(user)
    usual = Client()
    with time_machine.travel(START, tick=False) as clock:
        assert _attempt(usual, TEST_PASSWORD, 10).status_code == 302
        usual.post(VERIFY, {"code": totp_code(device)})
        assert DEVICE_COOKIE in usual.cookies
        usual.cookies.pop(settings.SESSION_COOKIE_NAME, None)  # gone; the device cookie stays
        clock.shift(dt.timedelta(minutes=1))

        _spread_failures(FREE_FAILURES + 1)  # an attacker has put the account in a wait
        assert _attempt(Client(), TEST_PASSWORD, 200).status_code == 429
        # The owner's usual browser is not held up (its usual address is not locked by axes).
        response = _attempt(usual, TEST_PASSWORD, 10)
        assert response.status_code == 302
        assert response["Location"].startswith(VERIFY)


def test_a_forged_device_cookie_is_ignored() -> None:
    make_user()
    with time_machine.travel(START, tick=False):
        _spread_failures(FREE_FAILURES + 1)
        forger = Client()
        forger.cookies[DEVICE_COOKIE] = "W10:forged:signature"
        assert _attempt(forger, TEST_PASSWORD, 77).status_code == 429


def test_known_and_unknown_emails_are_delayed_alike() -> None:
    make_user("known@example.org")
    with time_machine.travel(START, tick=False):
        _spread_failures(FREE_FAILURES + 1, "known@example.org")
        _spread_failures(FREE_FAILURES + 1, "unknown@example.org", start=100)
        known = _attempt(Client(), "x", 150, "known@example.org")
        unknown = _attempt(Client(), "x", 151, "unknown@example.org")
    assert known.status_code == unknown.status_code == 429
    assert known["Retry-After"] == unknown["Retry-After"]
    assert _normalised(known.content) == _normalised(unknown.content)


def test_the_count_is_forgotten_after_a_day() -> None:
    make_user()
    with time_machine.travel(START, tick=False) as clock:
        _spread_failures(FREE_FAILURES + 1)
        clock.shift(dt.timedelta(days=1, seconds=1))
        _spread_failures(FREE_FAILURES, start=50)  # free again
        assert _attempt(Client(), TEST_PASSWORD, 90).status_code == 302
