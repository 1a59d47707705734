"""Test helpers shared across the suite."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from safer.accounts.models import User
from safer.accounts.services import user_session_register


def sign_in(client: Client, user: User) -> Client:
    """Sign ``user`` in with a verified second factor, as the real sign-in flow leaves them.

    The session is registered (a UserSession row) as the sign-in service does: the session
    policy middleware ends any signed-in session without one. The idle and absolute limits run
    from now, so in a test that moves the clock, sign in after moving it.
    """
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    user_session_register(user=user, session=session, ip="127.0.0.1", user_agent="test client")
    session.save()
    return client


def totp_code(device: TOTPDevice) -> str:
    """The code an authenticator app would show for ``device`` now (honours a frozen clock)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


TEST_PASSWORD = "correct horse battery staple 42"


def make_user(email: str = "worker@example.org", **fields: object) -> User:
    """An account with a known password (``TEST_PASSWORD``) and no second factor yet."""
    fields.setdefault("full_name", "Sam Worker")
    return User.objects.create_user(email, TEST_PASSWORD, **fields)


def add_totp_device(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def govuk_date(name: str, value: dt.date | str) -> dict[str, str]:
    """A GOV.UK date input's three boxes (``safer.forms.GovukDateField``) as a form posts them."""
    day = dt.date.fromisoformat(value) if isinstance(value, str) else value
    return {f"{name}_0": str(day.day), f"{name}_1": str(day.month), f"{name}_2": str(day.year)}
