"""The second factor: TOTP enrolment with a QR code, verification, and single-use backup codes.

Verification is not one ``@transaction.atomic`` service on purpose: django-otp counts a failed
code on the device (its throttle), and that count must survive even though the attempt fails.
The devices are locked (``select_for_update``) while a code is checked, so the same TOTP code or
backup code cannot be accepted twice by two requests racing each other.
"""

from __future__ import annotations

import re
from base64 import b32encode
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import django_otp
import qrcode
from django.db import transaction
from django.http import HttpRequest
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from qrcode.image.svg import SvgPathImage

from safer.accounts.models import User
from safer.accounts.services.sessions import user_session_rotate
from safer.audit.models import AuthEventKind
from safer.audit.services import auth_event_record

BACKUP_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"

_TOTP_CODE = re.compile(r"^\d{6}$")
_BACKUP_CODE = re.compile(r"^[a-z2-7]{8}$")


class TwoFactorAlreadySetUp(Exception):
    """Enrolment is only for someone with no second factor; otherwise anyone holding the password
    could add their own authenticator and skip the real one."""


@dataclass(frozen=True)
class CodeCheck:
    accepted: bool
    backup_code_used: bool = False
    backup_codes_left: int = 0
    # Set when django-otp's throttle refused to check the code at all.
    try_again_at: datetime | None = None
    device: Device | None = None


def code_normalise(code: str) -> str:
    """People type codes with spaces or dashes and in either case; the devices want neither."""
    return re.sub(r"[\s-]", "", code).lower()


def user_has_second_factor(user: User) -> bool:
    return django_otp.user_has_device(user, confirmed=True)


def otp_verify(*, request: HttpRequest, user: User, code: str) -> CodeCheck:
    """Check a TOTP code or a backup code; on success mark this session as verified."""
    code = code_normalise(code)
    result = _code_check(user=user, code=code)
    if not result.accepted:
        auth_event_record(
            kind=AuthEventKind.OTP_FAILED,
            user=user,
            request=request,
            detail="throttled after repeated failures" if result.try_again_at else "wrong code",
        )
        return result
    with transaction.atomic():
        django_otp.login(request, result.device)
        user_session_rotate(request=request)
        if result.backup_code_used:
            auth_event_record(
                kind=AuthEventKind.BACKUP_CODE_USED,
                user=user,
                request=request,
                detail=f"{result.backup_codes_left} backup code(s) left",
            )
        auth_event_record(kind=AuthEventKind.OTP_VERIFIED, user=user, request=request)
    return result


def _code_check(*, user: User, code: str) -> CodeCheck:
    # Only the kind of device the code looks like is asked, so a mistyped authenticator code
    # does not count against the backup codes' throttle (nor the other way round).
    if _TOTP_CODE.match(code):
        model: type[TOTPDevice] | type[StaticDevice] = TOTPDevice
    elif _BACKUP_CODE.match(code):
        model = StaticDevice
    else:
        return CodeCheck(accepted=False)
    try_again_at: datetime | None = None
    with transaction.atomic():
        devices = model.objects.filter(user=user, confirmed=True).select_for_update()
        for device in devices:
            allowed, data = device.verify_is_allowed()
            if not allowed:
                try_again_at = (data or {}).get("locked_until")
                continue
            if device.verify_token(code):
                left = (
                    StaticToken.objects.filter(device=device).count()
                    if isinstance(device, StaticDevice)
                    else 0
                )
                return CodeCheck(
                    accepted=True,
                    backup_code_used=isinstance(device, StaticDevice),
                    backup_codes_left=left,
                    device=device,
                )
    return CodeCheck(accepted=False, try_again_at=try_again_at)


@transaction.atomic
def totp_enrolment_start(*, user: User) -> TOTPDevice:
    """The unconfirmed authenticator for this user: the same one on every visit to the page, so
    the QR code does not change under someone who is halfway through scanning it."""
    if user_has_second_factor(user):
        raise TwoFactorAlreadySetUp
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def totp_enrolment_confirm(*, request: HttpRequest, user: User, code: str) -> list[str] | None:
    """Confirm the authenticator with a code it shows. Returns the new backup codes (to show
    once), or None if the code was wrong."""
    code = code_normalise(code)
    with transaction.atomic():
        if user_has_second_factor(user):
            raise TwoFactorAlreadySetUp
        device = (
            TOTPDevice.objects.filter(user=user, confirmed=False)
            .select_for_update()
            .order_by("-id")
            .first()
        )
        accepted = bool(device and _TOTP_CODE.match(code) and device.verify_token(code))
    if device is None or not accepted:
        auth_event_record(
            kind=AuthEventKind.OTP_FAILED, user=user, request=request, detail="set-up code wrong"
        )
        return None
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        codes = _backup_codes_replace(user=user)
        django_otp.login(request, device)
        user_session_rotate(request=request)
        auth_event_record(
            kind=AuthEventKind.OTP_ENROLLED,
            user=user,
            request=request,
            detail="authenticator app set up; backup codes issued",
        )
    return codes


@transaction.atomic
def backup_codes_regenerate(*, request: HttpRequest, user: User) -> list[str]:
    """Replace the backup codes (the old ones stop working). Shown once by the caller."""
    codes = _backup_codes_replace(user=user)
    auth_event_record(
        kind=AuthEventKind.OTP_ENROLLED,
        user=user,
        request=request,
        detail="backup codes replaced",
    )
    return codes


def backup_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def _backup_codes_replace(*, user: User) -> list[str]:
    # Keep the device and swap its tokens: a session verified by a backup code points at the
    # device, and deleting it would silently un-verify that session.
    device = StaticDevice.objects.filter(user=user).order_by("id").first()
    if device is None:
        device = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
    elif not device.confirmed:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    StaticDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def totp_qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// link as an inline SVG QR code: drawn here, sent to no outside service, and
    plain markup (no style attributes or scripts), so the content security policy allows it."""
    qr = qrcode.QRCode(box_size=15, border=4, image_factory=SvgPathImage)
    qr.add_data(device.config_url)
    qr.make(fit=True)
    # Extra keyword arguments become attributes of the <svg> element.
    attributes: dict[str, Any] = {
        "role": "img",
        "aria-label": "QR code to scan with your authenticator app",
        "focusable": "false",
    }
    image = qr.make_image(**attributes)
    return str(image.to_string(encoding="unicode"))


def totp_secret_text(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for people who cannot scan the QR code."""
    secret = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
