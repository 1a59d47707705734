"""Brute force: django-axes locks an email *from one address*, and says nothing about accounts."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from django.test.client import Client as DjangoClient

from safer.audit.models import AuthEvent, AuthEventKind
from tests.helpers import TEST_PASSWORD, add_totp_device, make_user

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ATTACKER_IP = "203.0.113.9"
HOME_IP = "198.51.100.20"


def _attempt(client: DjangoClient, email: str, password: str, ip: str):
    return client.post(LOGIN, {"email": email, "password": password}, REMOTE_ADDR=ip)


def _fail_until_locked(email: str, ip: str):
    client = Client()
    responses = [
        _attempt(client, email, "wrong password", ip) for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    return client, responses


def _normalised(body: bytes) -> str:
    """The page without what differs on every response (CSP nonce, CSRF token)."""
    text = body.decode()
    text = re.sub(r'nonce="[^"]*"', 'nonce=""', text)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)


def test_lockout_after_the_failure_limit_even_with_the_right_password() -> None:
    user = make_user()
    add_totp_device(user)
    client, responses = _fail_until_locked("worker@example.org", ATTACKER_IP)

    assert [r.status_code for r in responses[:-1]] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert responses[-1].status_code == 429
    assert "You cannot sign in at the moment" in responses[-1].content.decode()

    locked = _attempt(client, "worker@example.org", TEST_PASSWORD, ATTACKER_IP)
    assert locked.status_code == 429
    assert "_auth_user_id" not in locked.wsgi_request.session
    assert AuthEvent.objects.filter(
        kind=AuthEventKind.LOCKED_OUT, attempted_username="worker@example.org"
    ).exists()


def test_same_email_from_another_address_can_still_sign_in() -> None:
    user = make_user()
    add_totp_device(user)
    _fail_until_locked("worker@example.org", ATTACKER_IP)

    response = _attempt(Client(), "worker@example.org", TEST_PASSWORD, HOME_IP)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/two-factor/verify/")


def test_another_email_from_the_locked_address_is_not_locked() -> None:
    make_user("second@example.org")
    _fail_until_locked("worker@example.org", ATTACKER_IP)
    response = _attempt(Client(), "second@example.org", TEST_PASSWORD, ATTACKER_IP)
    assert response.status_code == 302


def test_changing_the_case_of_the_email_does_not_reset_the_count() -> None:
    make_user()
    client = Client()
    spellings = ["worker@example.org", "Worker@Example.org", "WORKER@EXAMPLE.ORG "]
    for index in range(settings.AXES_FAILURE_LIMIT):
        last = _attempt(client, spellings[index % len(spellings)], "wrong", ATTACKER_IP)
    assert last.status_code == 429
    assert _attempt(client, "worker@EXAMPLE.org", TEST_PASSWORD, ATTACKER_IP).status_code == 429


def test_known_and_unknown_emails_get_identical_responses_before_and_at_lockout() -> None:
    make_user("known@example.org")
    _, known = _fail_until_locked("known@example.org", ATTACKER_IP)
    _, unknown = _fail_until_locked("unknown@example.org", ATTACKER_IP)

    for known_response, unknown_response in zip(known, unknown, strict=True):
        assert known_response.status_code == unknown_response.status_code
        assert _normalised(known_response.content).replace("known@", "X@") == _normalised(
            unknown_response.content
        ).replace("unknown@", "X@")
    assert known[-1].status_code == unknown[-1].status_code == 429
