"""Password reset: no enumeration, never a sign-in, never a way round the second factor."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client

from safer.accounts.models import UserSession
from safer.accounts.services.passwords import PASSWORD_RESET_EMAIL_TASK
from safer.accounts.tasks import password_reset_email_send_task
from safer.audit.models import AuthEvent, AuthEventKind
from safer.outbox.models import OutboxMessage
from tests.helpers import add_totp_device, make_user, sign_in

pytestmark = pytest.mark.django_db

RESET = "/accounts/password-reset/"
NEW_PASSWORD = "a brand new long passphrase 7"


def _send_queued_emails() -> None:
    """Run what a worker would run for the queued reset emails."""
    for message in OutboxMessage.objects.filter(task_name=PASSWORD_RESET_EMAIL_TASK):
        password_reset_email_send_task(**message.kwargs)


def _reset_link() -> str:
    match = re.search(r"http://[^\s]+/accounts/password-reset/[^\s]+/", str(mail.outbox[-1].body))
    assert match is not None
    return urlsplit(match.group(0)).path


def test_the_request_page_answers_the_same_for_known_and_unknown_emails() -> None:
    make_user("known@example.org")
    known = Client().post(RESET, {"email": "known@example.org"})
    unknown = Client().post(RESET, {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == "/accounts/password-reset/sent/"
    # Only the known address gets mail, and only through the outbox (a worker sends it).
    assert len(mail.outbox) == 0
    assert OutboxMessage.objects.filter(task_name=PASSWORD_RESET_EMAIL_TASK).count() == 1
    _send_queued_emails()
    assert [message.to for message in mail.outbox] == [["known@example.org"]]
    assert AuthEvent.objects.filter(kind=AuthEventKind.PASSWORD_RESET).count() == 2


def test_inactive_accounts_get_no_reset_email() -> None:
    make_user("gone@example.org", is_active=False)
    Client().post(RESET, {"email": "gone@example.org"})
    assert not OutboxMessage.objects.filter(task_name=PASSWORD_RESET_EMAIL_TASK).exists()


def test_the_reset_link_is_built_from_the_site_url_not_the_host_header() -> None:
    make_user("known@example.org")
    Client().post(RESET, {"email": "known@example.org"}, HTTP_HOST="localhost")
    _send_queued_emails()
    assert "http://127.0.0.1:8000/accounts/password-reset/" in mail.outbox[0].body


def test_reset_sets_the_password_ends_sessions_and_does_not_sign_in() -> None:
    user = make_user("known@example.org")
    add_totp_device(user)
    old_browser = Client()
    sign_in(old_browser, user)
    Client().post(RESET, {"email": "known@example.org"})
    _send_queued_emails()

    client = Client()
    link = _reset_link()
    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response["Location"] == "/accounts/password-reset/complete/"
    assert "_auth_user_id" not in client.session
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not UserSession.objects.filter(user=user).exists()
    assert old_browser.get("/accounts/sessions/").status_code == 302
    assert AuthEvent.objects.filter(kind=AuthEventKind.PASSWORD_RESET, user=user).exists()

    # The new password only gets as far as the second factor.
    signed = client.post("/accounts/login/", {"email": user.email, "password": NEW_PASSWORD})
    assert signed["Location"].startswith("/accounts/two-factor/verify/")
    assert client.get("/accounts/sessions/")["Location"].startswith("/accounts/two-factor/verify/")

    # The link worked once.
    reused = Client().get(link, follow=True)
    assert "This link does not work" in reused.content.decode()


def test_mismatched_new_passwords_show_govuk_errors() -> None:
    make_user("known@example.org")
    Client().post(RESET, {"email": "known@example.org"})
    _send_queued_emails()
    client = Client()
    form_page = client.get(_reset_link(), follow=True)
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in body
    assert "The passwords do not match" in body


def test_an_invalid_email_shows_a_govuk_error() -> None:
    response = Client().post(RESET, {"email": "not-an-email"})
    assert "Enter an email address in the correct format" in response.content.decode()
