"""Signing in and out, and the audit rows for lockouts and refused pages."""

from __future__ import annotations

from django.contrib.auth import authenticate, login
from django.db import transaction
from django.http import HttpRequest

from safer.accounts.models import User
from safer.accounts.services.sessions import (
    sign_out_request,
    user_session_start,
    user_sessions_end_all,
)
from safer.accounts.services.throttle import (
    SignInDelayed,
    sign_in_throttle_claim,
    sign_in_throttle_clear,
)
from safer.audit.models import AuthEventKind
from safer.audit.services import auth_event_record


def email_normalise(email: str) -> str:
    """Emails are stored lower-case; lockouts count per normalised address, so "Alice@…" and
    "alice@…" share one failure count."""
    return email.strip().lower()


def sign_in_attempt(
    *, request: HttpRequest, email: str, password: str, known_device: bool = False
) -> User | None:
    """Check an email and password; on success sign the user in (first factor only).

    Returns None for an unknown email, a wrong password, an inactive account and a lockout alike,
    so the caller cannot tell them apart (nor can anyone watching its responses). Raises
    ``SignInDelayed`` while the email's per-account wait runs (``throttle``), for known and
    unknown emails alike, unless ``known_device`` (the browser completed a sign-in for this email
    before). Not one transaction: the failures counted by django-axes and the throttle must stay
    even when nothing else is written.
    """
    email = email_normalise(email)
    try:
        sign_in_throttle_claim(email=email, known_device=known_device)
    except SignInDelayed as delayed:
        auth_event_record(
            kind=AuthEventKind.LOCKED_OUT,
            attempted_username=email,
            request=request,
            detail=(
                "too many failed sign-in attempts for this email from any address; "
                f"asked to wait {delayed.seconds} s"
            ),
        )
        raise
    user = authenticate(request, username=email, password=password)
    if not isinstance(user, User):
        # A lockout is recorded by the axes signal receiver (safer.accounts.lockout).
        if not getattr(request, "axes_locked_out", False):
            auth_event_record(
                kind=AuthEventKind.SIGN_IN_FAILED, attempted_username=email, request=request
            )
        return None
    sign_in_throttle_clear(email=email)
    _sign_in_complete(request=request, user=user)
    return user


@transaction.atomic
def _sign_in_complete(*, request: HttpRequest, user: User) -> None:
    previous_key = request.session.session_key
    login(request, user)  # rotates the session key (no fixation)
    user_session_start(request=request, user=user, previous_key=previous_key)
    auth_event_record(
        kind=AuthEventKind.SIGN_IN,
        user=user,
        request=request,
        detail="password accepted; second factor required next",
    )


@transaction.atomic
def user_sign_out(*, request: HttpRequest) -> int:
    """Sign out everywhere: every session of this user ends, not just the browser asking."""
    user = request.user
    count = 0
    if isinstance(user, User):
        count = user_sessions_end_all(user=user)
        auth_event_record(
            kind=AuthEventKind.SIGN_OUT,
            user=user,
            request=request,
            detail=f"signed out; {count} session(s) ended",
        )
    sign_out_request(request)
    return count


def lockout_record(*, request: HttpRequest | None, username: str | None) -> None:
    """Called for django-axes' ``user_locked_out`` signal (on locking and on each locked try)."""
    auth_event_record(
        kind=AuthEventKind.LOCKED_OUT,
        attempted_username=username or "",
        request=request,
        detail="too many failed sign-in attempts from this address",
    )


def permission_denied_record(*, request: HttpRequest) -> None:
    user = getattr(request, "user", None)
    auth_event_record(
        kind=AuthEventKind.PERMISSION_DENIED,
        user=user if isinstance(user, User) else None,
        request=request,
        detail=f"{request.method} refused",
    )
