"""Signed-in sessions: start, keep alive within the policy, and end (one, the others, or all)."""

from __future__ import annotations

import enum
import re
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from safer.accounts.models import User, UserSession
from safer.audit.models import AuthEventKind
from safer.audit.services import auth_event_record, client_ip

# The policy clock lives in the session itself (server-side data), so checking it costs no query;
# the UserSession row is refreshed at most every TOUCH_INTERVAL, which is also when the row is
# checked to still exist. Idle time is therefore measured from a moment up to TOUCH_INTERVAL
# before the last request: a session may end that much early, never late.
SESSION_STARTED_KEY = "safer_session_started_at"
SESSION_SEEN_KEY = "safer_session_seen_at"
TOUCH_INTERVAL = timedelta(seconds=30)


class SessionStatus(enum.Enum):
    ACTIVE = "active"
    IDLE_EXPIRED = "idle"
    ABSOLUTE_EXPIRED = "absolute"
    # Signed in, but never registered by the sign-in flow, or its UserSession row has gone (it
    # was ended elsewhere). Treated as ended: fail closed.
    UNREGISTERED = "unregistered"


class CannotEndCurrentSession(Exception):
    """The sessions page ends other sessions; this one ends by signing out."""


def idle_limit() -> timedelta:
    return timedelta(seconds=settings.SAFER_SESSION_IDLE_SECONDS)


def absolute_limit() -> timedelta:
    return timedelta(seconds=settings.SAFER_SESSION_ABSOLUTE_SECONDS)


def live_sessions_filter() -> Q:
    """Rows whose session the policy would still accept now."""
    now = timezone.now()
    return Q(created_at__gt=now - absolute_limit(), last_seen_at__gt=now - idle_limit())


def user_session_register(
    *, user: User, session: SessionBase, ip: str | None, user_agent: str
) -> UserSession:
    """Start the policy clock in a signed-in session and record it. Also drops this user's rows
    the policy has already expired, which would otherwise linger for people who never came back
    to be told. The caller saves the session (the middleware does, for a request)."""
    if session.session_key is None:
        session.save()
    UserSession.objects.filter(user=user).exclude(live_sessions_filter()).delete()
    now = timezone.now()
    session[SESSION_STARTED_KEY] = now.timestamp()
    session[SESSION_SEEN_KEY] = now.timestamp()
    row, _ = UserSession.objects.update_or_create(
        session_key=session.session_key,
        defaults={
            "user": user,
            "created_at": now,
            "last_seen_at": now,
            "ip": ip,
            "user_agent": user_agent_summary(user_agent),
        },
    )
    return row


@transaction.atomic
def user_session_start(
    *, request: HttpRequest, user: User, previous_key: str | None
) -> UserSession:
    """Register the session ``login()`` has just created (and rotated the key of)."""
    if previous_key and previous_key != request.session.session_key:
        UserSession.objects.filter(session_key=previous_key).delete()
    return user_session_register(
        user=user,
        session=request.session,
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )


def user_session_rotate(*, request: HttpRequest) -> None:
    """Give the session a new key after a privilege change (the second factor), keeping its row."""
    old_key = request.session.session_key
    request.session.cycle_key()
    if old_key:
        UserSession.objects.filter(session_key=old_key).update(
            session_key=request.session.session_key
        )


def user_session_touch(*, user: User, session: SessionBase) -> SessionStatus:
    """Check a session against the idle and absolute limits; if it may go on, mark it active."""
    started = session.get(SESSION_STARTED_KEY)
    seen = session.get(SESSION_SEEN_KEY)
    if not isinstance(started, float | int) or not isinstance(seen, float | int):
        return SessionStatus.UNREGISTERED
    now = timezone.now()
    since_start = timedelta(seconds=now.timestamp() - started)
    since_seen = timedelta(seconds=now.timestamp() - seen)
    if since_start >= absolute_limit():
        return SessionStatus.ABSOLUTE_EXPIRED
    if since_seen >= idle_limit():
        return SessionStatus.IDLE_EXPIRED
    if since_seen >= TOUCH_INTERVAL:
        still_registered = UserSession.objects.filter(
            user=user, session_key=session.session_key
        ).update(last_seen_at=now)
        if not still_registered:
            return SessionStatus.UNREGISTERED
        session[SESSION_SEEN_KEY] = now.timestamp()
    return SessionStatus.ACTIVE


@transaction.atomic
def user_session_expire(*, request: HttpRequest, status: SessionStatus) -> None:
    """End the request's session because the policy says so, and record why."""
    user = request.user
    auth_event_record(
        kind=AuthEventKind.SESSION_EXPIRED,
        user=user if isinstance(user, User) else None,
        request=request,
        detail=_EXPIRY_DETAIL[status],
    )
    if request.session.session_key:
        UserSession.objects.filter(session_key=request.session.session_key).delete()
    sign_out_request(request)


_EXPIRY_DETAIL = {
    SessionStatus.IDLE_EXPIRED: "idle limit reached",
    SessionStatus.ABSOLUTE_EXPIRED: "absolute limit reached",
    SessionStatus.UNREGISTERED: "session was not registered or had been ended",
    SessionStatus.ACTIVE: "",
}


def sign_out_request(request: HttpRequest) -> None:
    """Flush this request's session and leave the rest of the request anonymous."""
    logout(request)
    request.user = anonymous_user()


def anonymous_user() -> AnonymousUser:
    """An AnonymousUser with the attributes django-otp's middleware gives every user."""
    anonymous = AnonymousUser()
    anonymous.otp_device = None  # type: ignore[attr-defined]
    anonymous.is_verified = lambda: False  # type: ignore[attr-defined]
    return anonymous


@transaction.atomic
def user_sessions_end_all(*, user: User, except_session_key: str | None = None) -> int:
    """End every session of ``user`` (but one, if named). Returns how many were ended."""
    rows = UserSession.objects.filter(user=user)
    if except_session_key:
        rows = rows.exclude(session_key=except_session_key)
    keys = list(rows.values_list("session_key", flat=True))
    rows.delete()
    _session_store_delete(keys)
    return len(keys)


@transaction.atomic
def user_session_end(*, request: HttpRequest, user: User, session: UserSession) -> None:
    """End one of the user's own sessions from the sessions page."""
    if session.user_id != user.pk:
        raise ValueError("a user can only end their own sessions")
    if session.session_key == request.session.session_key:
        raise CannotEndCurrentSession
    user_sessions_end_keys(user=user, keys=[session.session_key])
    auth_event_record(
        kind=AuthEventKind.SESSIONS_ENDED,
        user=user,
        request=request,
        detail=f"ended one other session ({session.user_agent or 'unknown device'})",
    )


@transaction.atomic
def user_sessions_end_others(*, request: HttpRequest, user: User) -> int:
    count = user_sessions_end_all(user=user, except_session_key=request.session.session_key)
    auth_event_record(
        kind=AuthEventKind.SESSIONS_ENDED,
        user=user,
        request=request,
        detail=f"ended {count} other session(s)",
    )
    return count


def user_sessions_end_keys(*, user: User, keys: list[str]) -> None:
    UserSession.objects.filter(user=user, session_key__in=keys).delete()
    _session_store_delete(keys)


def _session_store_delete(keys: list[str]) -> None:
    if not keys:
        return
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    for key in keys:
        store.delete(key)


_BROWSERS = (
    ("Edge", re.compile(r"Edg(e|A|iOS)?/")),
    ("Opera", re.compile(r"OPR/")),
    ("Samsung Internet", re.compile(r"SamsungBrowser/")),
    ("Firefox", re.compile(r"(Firefox|FxiOS)/")),
    ("Chrome", re.compile(r"(Chrome|CriOS)/")),
    ("Safari", re.compile(r"Safari/")),
)
_SYSTEMS = (
    ("iPhone", re.compile(r"iPhone")),
    ("iPad", re.compile(r"iPad")),
    ("Android", re.compile(r"Android")),
    ("Windows", re.compile(r"Windows")),
    ("macOS", re.compile(r"Mac OS X|Macintosh")),
    ("ChromeOS", re.compile(r"CrOS")),
    ("Linux", re.compile(r"Linux")),
)


def user_agent_summary(user_agent: str) -> str:
    """ "Firefox on Windows": what a person needs to recognise their own device in a list."""
    browser = next((name for name, pattern in _BROWSERS if pattern.search(user_agent)), "")
    system = next((name for name, pattern in _SYSTEMS if pattern.search(user_agent)), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown browser"
