"""Signing in and out: one answer for every failure, a new session key, sign-out everywhere."""

from __future__ import annotations

import pytest
from django.test import Client

from safer.accounts.models import UserSession
from safer.audit.models import AuthEvent, AuthEventKind
from tests.helpers import TEST_PASSWORD, add_totp_device, make_user, sign_in

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def _post_sign_in(client: Client, email: str, password: str, **extra: str):
    return client.post(LOGIN, {"email": email, "password": password, **extra})


def test_sign_in_page_is_a_govuk_form(client: Client) -> None:
    response = client.get(LOGIN)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="govuk-input' in body
    assert 'autocomplete="current-password"' in body


def test_empty_form_shows_error_summary_and_field_errors(client: Client) -> None:
    response = client.post(LOGIN, {"email": "", "password": ""})
    body = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in body
    assert '<a href="#id_email">Enter your email address</a>' in body
    assert '<a href="#id_password">Enter your password</a>' in body
    assert "<title>Error: Sign in" in body


def test_unknown_email_wrong_password_and_inactive_user_get_the_same_answer(
    client: Client,
) -> None:
    make_user("known@example.org")
    make_user("gone@example.org", is_active=False)
    answers = [
        _post_sign_in(Client(), "nobody@example.org", TEST_PASSWORD),
        _post_sign_in(Client(), "known@example.org", "not the password"),
        _post_sign_in(Client(), "gone@example.org", TEST_PASSWORD),
    ]
    assert {response.status_code for response in answers} == {200}
    for response in answers:
        assert "Enter a correct email address and password" in response.content.decode()
        assert "_auth_user_id" not in response.wsgi_request.session
    failures = AuthEvent.objects.filter(kind=AuthEventKind.SIGN_IN_FAILED)
    assert sorted(failures.values_list("attempted_username", flat=True)) == [
        "gone@example.org",
        "known@example.org",
        "nobody@example.org",
    ]


def test_password_is_never_echoed_back(client: Client) -> None:
    response = _post_sign_in(client, "someone@example.org", "hunter2-secret")
    assert "hunter2-secret" not in response.content.decode()


def test_sign_in_rotates_the_session_key_and_registers_the_session(client: Client) -> None:
    user = make_user()
    add_totp_device(user)
    client.get(LOGIN)
    session = client.session
    session["something"] = "from before sign-in"
    session.save()
    key_before = session.session_key

    response = _post_sign_in(client, "Worker@Example.org ", TEST_PASSWORD)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/two-factor/verify/")
    key_after = client.session.session_key
    assert key_after != key_before
    assert UserSession.objects.filter(user=user, session_key=key_after).exists()
    event = AuthEvent.objects.get(kind=AuthEventKind.SIGN_IN)
    assert event.user == user
    assert event.source_ip == "127.0.0.1"


def test_user_without_a_device_is_sent_to_set_one_up(client: Client) -> None:
    make_user()
    response = _post_sign_in(client, "worker@example.org", TEST_PASSWORD)
    assert response["Location"].startswith("/accounts/two-factor/set-up/")


def test_next_is_carried_through_but_only_on_this_site(client: Client) -> None:
    user = make_user()
    add_totp_device(user)
    inside = _post_sign_in(client, "worker@example.org", TEST_PASSWORD, next="/cases/")
    assert inside["Location"] == "/accounts/two-factor/verify/?next=%2Fcases%2F"
    outside = _post_sign_in(
        Client(), "worker@example.org", TEST_PASSWORD, next="https://evil.example/"
    )
    assert "evil" not in outside["Location"]


def test_sign_out_ends_every_session_of_the_user() -> None:
    user = make_user()
    other = make_user("other@example.org")
    laptop, phone, someone_else = Client(), Client(), Client()
    sign_in(laptop, user)
    sign_in(phone, user)
    sign_in(someone_else, other)

    response = laptop.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert not UserSession.objects.filter(user=user).exists()
    assert UserSession.objects.filter(user=other).count() == 1
    # The phone's session is gone from the store: it is anonymous and sent to sign in.
    assert phone.get("/accounts/sessions/")["Location"].startswith(LOGIN)
    assert someone_else.get("/accounts/sessions/").status_code == 200
    event = AuthEvent.objects.get(kind=AuthEventKind.SIGN_OUT)
    assert event.user == user
    assert "2 session(s) ended" in event.detail


def test_sign_out_by_get_only_shows_a_button(client: Client) -> None:
    user = make_user()
    sign_in(client, user)
    response = client.get("/accounts/logout/")
    assert response.status_code == 200
    assert 'action="/accounts/logout/"' in response.content.decode()
    assert UserSession.objects.filter(user=user).exists()
