"""The second factor: required before any private page, enrolled with a QR code, never replayed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client, RequestFactory
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from safer.accounts.middleware import TwoFactorRequiredMiddleware, is_public_path
from safer.accounts.models import User, UserSession
from safer.accounts.services.sessions import anonymous_user
from safer.audit.models import AuthEvent, AuthEventKind
from tests.helpers import TEST_PASSWORD, add_totp_device, make_user, sign_in, totp_code

pytestmark = pytest.mark.django_db

VERIFY = "/accounts/two-factor/verify/"
SET_UP = "/accounts/two-factor/set-up/"
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _password_only(client: Client, user: User) -> Client:
    response = client.post("/accounts/login/", {"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 302
    return client


def _verified(client: Client) -> bool:
    return DEVICE_ID_SESSION_KEY in client.session


# --- The requirement ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/", "/healthz", "/accessibility/", "/privacy/", "/cookies/", "/accounts/login/"],
)
def test_public_pages_open_without_signing_in(client: Client, path: str) -> None:
    assert client.get(path).status_code == 200


@pytest.mark.parametrize(
    ("path", "public"),
    [
        ("/refer/start/", True),
        ("/api/v1/referrals/", True),
        ("/static/build/safer.css", True),
        ("/accounts/password-reset/sent/", True),
        ("/accounts/sessions/", False),
        ("/accounts/two-factor/backup-codes/", False),
        ("/admin/", False),
        ("/cases/", False),
        ("/referrals/", False),
        ("/anything-new/", False),
    ],
)
def test_public_allow_list(path: str, public: bool) -> None:
    assert is_public_path(path) is public


def test_anonymous_user_is_sent_to_sign_in_from_a_private_page(client: Client) -> None:
    response = client.get("/accounts/sessions/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/sessions/"


def test_password_only_user_is_sent_to_enter_a_code(client: Client) -> None:
    user = make_user()
    add_totp_device(user)
    _password_only(client, user)
    response = client.get("/accounts/sessions/")
    assert response["Location"] == f"{VERIFY}?next=%2Faccounts%2Fsessions%2F"


def test_password_only_user_without_a_device_is_sent_to_set_one_up(client: Client) -> None:
    user = make_user()
    _password_only(client, user)
    assert client.get("/accounts/sessions/")["Location"].startswith(SET_UP)
    assert client.get(VERIFY)["Location"].startswith(SET_UP)


def test_the_admin_site_needs_the_second_factor_too(client: Client) -> None:
    admin = make_user("admin@example.org", is_staff=True, is_superuser=True)
    add_totp_device(admin)
    _password_only(client, admin)
    assert client.get("/admin/")["Location"].startswith(VERIFY)
    # Even if the middleware were bypassed, the admin site itself checks is_verified().
    from django.contrib import admin as django_admin

    request = RequestFactory().get("/admin/")
    request.user = admin
    admin.is_verified = lambda: False  # type: ignore[attr-defined]
    assert django_admin.site.has_permission(request) is False
    admin.is_verified = lambda: True  # type: ignore[attr-defined]
    assert django_admin.site.has_permission(request) is True


def test_admin_login_page_sends_people_to_the_one_sign_in_page(client: Client) -> None:
    response = client.get("/admin/login/?next=/admin/")
    assert response["Location"].startswith("/accounts/login/")


def test_a_password_only_session_is_anonymous_to_the_api() -> None:
    user = make_user()
    user.is_verified = lambda: False  # type: ignore[attr-defined]
    seen: list[object] = []

    def view(request):
        seen.append(request.user)
        from django.http import HttpResponse

        return HttpResponse("ok")

    request = RequestFactory().get("/api/v1/jobs/")
    request.user = user
    TwoFactorRequiredMiddleware(view)(request)
    assert seen[0].is_authenticated is False  # type: ignore[attr-defined]

    verified = make_user("verified@example.org")
    verified.is_verified = lambda: True  # type: ignore[attr-defined]
    request = RequestFactory().get("/api/v1/jobs/")
    request.user = verified
    TwoFactorRequiredMiddleware(view)(request)
    assert seen[1] is verified
    assert anonymous_user().is_verified() is False  # type: ignore[attr-defined]


# --- Enrolment ---------------------------------------------------------------------------------


def test_enrolment_shows_an_inline_svg_qr_code_and_the_secret(client: Client) -> None:
    user = make_user()
    _password_only(client, user)
    response = client.get(SET_UP)
    body = response.content.decode()
    assert response.status_code == 200
    svg = re.search(r"<svg[^>]*aria-label=\"QR code[^>]*>.*?</svg>", body, re.S)
    assert svg is not None
    assert "style=" not in svg.group(0)
    assert "<script" not in svg.group(0)
    assert "http" not in svg.group(0).replace("http://www.w3.org/2000/svg", "")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode().rstrip("=")
    assert secret[:4] + " " + secret[4:8] in body
    # The same device (so the same QR code) on a second visit.
    client.get(SET_UP)
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_enrolment_confirms_the_app_and_shows_ten_backup_codes_once(client: Client) -> None:
    user = make_user()
    _password_only(client, user)
    client.get(SET_UP)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    key_before = client.session.session_key

    response = client.post(SET_UP, {"code": totp_code(device), "next": "/accounts/sessions/"})

    assert response.status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    tokens = list(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert len(tokens) == 10
    body = response.content.decode()
    assert all(token in body for token in tokens)
    assert _verified(client)
    # A second factor raises privilege: the session key changes again, and its row follows.
    assert client.session.session_key != key_before
    assert UserSession.objects.filter(session_key=client.session.session_key).exists()
    assert AuthEvent.objects.filter(kind=AuthEventKind.OTP_ENROLLED, user=user).exists()
    assert client.get("/accounts/sessions/").status_code == 200
    # The codes are not shown again anywhere.
    assert tokens[0] not in client.get("/accounts/two-factor/backup-codes/").content.decode()


def test_wrong_enrolment_code_is_refused(client: Client) -> None:
    user = make_user()
    _password_only(client, user)
    client.get(SET_UP)
    response = client.post(SET_UP, {"code": "000000"})
    assert response.status_code == 200
    assert "The code is not correct" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    assert not _verified(client)


def test_someone_with_only_the_password_cannot_enrol_a_second_authenticator(
    client: Client,
) -> None:
    user = make_user()
    add_totp_device(user)
    _password_only(client, user)
    response = client.get(SET_UP)
    assert response["Location"].startswith(VERIFY)
    assert client.post(SET_UP, {"code": "123456"})["Location"].startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=user).count() == 1


# --- Verification ------------------------------------------------------------------------------


def test_a_totp_code_verifies_the_session(client: Client) -> None:
    user = make_user()
    device = add_totp_device(user)
    _password_only(client, user)
    response = client.post(VERIFY, {"code": totp_code(device), "next": "/accounts/sessions/"})
    assert response["Location"] == "/accounts/sessions/"
    assert _verified(client)
    assert AuthEvent.objects.filter(kind=AuthEventKind.OTP_VERIFIED, user=user).count() == 1


def test_a_totp_code_cannot_be_replayed() -> None:
    user = make_user()
    device = add_totp_device(user)
    with time_machine.travel(NOW, tick=False):
        code = totp_code(device)
        first = _password_only(Client(), user)
        assert first.post(VERIFY, {"code": code})["Location"] == "/"
        device.refresh_from_db()
        assert device.last_t >= 0

        # Someone who saw the code types it in their own session a few seconds later.
        second = _password_only(Client(), user)
        response = second.post(VERIFY, {"code": code})

    assert response.status_code == 200
    assert "The code is not correct" in response.content.decode()
    assert not _verified(second)
    assert AuthEvent.objects.filter(kind=AuthEventKind.OTP_FAILED, user=user).count() == 1


def test_the_next_time_step_code_is_accepted_after_the_previous_was_used() -> None:
    user = make_user()
    device = add_totp_device(user)
    with time_machine.travel(NOW, tick=False):
        _password_only(Client(), user).post(VERIFY, {"code": totp_code(device)})
    with time_machine.travel(NOW + timedelta(seconds=30), tick=False):
        device.refresh_from_db()
        client = _password_only(Client(), user)
        client.post(VERIFY, {"code": totp_code(device)})
        assert _verified(client)


def test_wrong_codes_are_throttled_by_the_device() -> None:
    user = make_user()
    device = add_totp_device(user)
    with time_machine.travel(NOW, tick=False):
        client = _password_only(Client(), user)
        client.post(VERIFY, {"code": "000000"})
        client.post(VERIFY, {"code": "111111"})
        # Two failures: the next check must wait 2 seconds, so even the right code is refused.
        response = client.post(VERIFY, {"code": totp_code(device)})
        assert "too many wrong codes" in response.content.decode()
        assert not _verified(client)
    with time_machine.travel(NOW + timedelta(seconds=3), tick=False):
        device.refresh_from_db()
        client.post(VERIFY, {"code": totp_code(device)})
        assert _verified(client)
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_a_backup_code_works_once(client: Client) -> None:
    user = make_user()
    add_totp_device(user)
    static = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    StaticToken.objects.create(device=static, token="abcd2345")
    StaticToken.objects.create(device=static, token="efgh6723")

    _password_only(client, user)
    response = client.post(VERIFY, {"code": "ABCD 2345"}, follow=True)
    assert _verified(client)
    assert "You used a backup code. You have 1 left." in response.content.decode()
    assert AuthEvent.objects.filter(kind=AuthEventKind.BACKUP_CODE_USED, user=user).exists()

    again = _password_only(Client(), user)
    again.post(VERIFY, {"code": "abcd2345"})
    assert not _verified(again)


def test_backup_codes_can_be_replaced_and_the_old_ones_stop_working(client: Client) -> None:
    user = make_user()
    sign_in(client, user)
    static = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    StaticToken.objects.create(device=static, token="abcd2345")

    response = client.post("/accounts/two-factor/backup-codes/")

    tokens = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert len(tokens) == 10
    assert "abcd2345" not in tokens
    assert all(token in response.content.decode() for token in tokens)
    assert StaticDevice.objects.filter(user=user).count() == 1


def test_verification_pages_need_a_password_first(client: Client) -> None:
    assert client.get(VERIFY)["Location"].startswith("/accounts/login/")
    assert client.get(SET_UP)["Location"].startswith("/accounts/login/")
