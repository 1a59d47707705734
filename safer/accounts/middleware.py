"""The session policy and the second-factor requirement, applied to every request.

Order in MIDDLEWARE: after AuthenticationMiddleware, OTPMiddleware and MessageMiddleware, so
``request.user`` and ``is_verified()`` exist and a message can be left for the sign-in page.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from safer.accounts.models import User
from safer.accounts.services import (
    SessionStatus,
    user_has_second_factor,
    user_session_expire,
    user_session_touch,
)
from safer.accounts.services.sessions import anonymous_user

# Pages anyone may open without signing in or passing the second factor. Everything else needs
# both: a new page is private unless it is added here.
PUBLIC_EXACT_PATHS = frozenset({"/", "/healthz"})
PUBLIC_PATH_PREFIXES = (
    "/refer/",
    "/safety/",
    "/accessibility/",
    "/privacy/",
    "/cookies/",
    "/exit/",
    "/static/",
    # The partner API authenticates its own callers (tokens); see TwoFactorRequiredMiddleware.
    "/api/",
    "/accounts/login/",
    "/accounts/logout/",
    "/accounts/two-factor/verify/",
    "/accounts/two-factor/set-up/",
    "/accounts/password-reset/",
)


def is_public_path(path: str) -> bool:
    return path in PUBLIC_EXACT_PATHS or path.startswith(PUBLIC_PATH_PREFIXES)


class SessionPolicyMiddleware:
    """End signed-in sessions idle for SAFER_SESSION_IDLE_SECONDS or older than
    SAFER_SESSION_ABSOLUTE_SECONDS, and any session that was ended elsewhere (no UserSession)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and isinstance(user, User):
            status = user_session_touch(user=user, session=request.session)
            if status is not SessionStatus.ACTIVE:
                user_session_expire(request=request, status=status)
                messages.warning(request, _expiry_message(status))
                if not is_public_path(request.path_info):
                    return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        return self.get_response(request)


def duration_in_words(seconds: int) -> str:
    """ "15 minutes", "1 hour", "12 hours", "90 seconds": the largest whole unit that fits."""
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} second{'' if seconds == 1 else 's'}"


def _expiry_message(status: SessionStatus) -> str:
    if status is SessionStatus.IDLE_EXPIRED:
        idle = duration_in_words(settings.SAFER_SESSION_IDLE_SECONDS)
        return (
            f"You have been signed out because you were inactive for {idle}. "
            "Sign in again to continue."
        )
    if status is SessionStatus.ABSOLUTE_EXPIRED:
        signed_in = duration_in_words(settings.SAFER_SESSION_ABSOLUTE_SECONDS)
        return (
            f"You have been signed out because you have been signed in for {signed_in}. "
            "Sign in again to continue."
        )
    return "You have been signed out. Sign in again to continue."


class TwoFactorRequiredMiddleware:
    """Private pages need a signed-in user who has passed the second factor.

    Anonymous: to the sign-in page. Password only: to the code page, or to set up an
    authenticator if they have none. The admin site is covered like any other page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        path = request.path_info
        if is_public_path(path):
            if path.startswith("/api/") and user.is_authenticated and not _verified(user):
                # A session that has only passed the password must not reach the API through
                # session authentication: to the API it is nobody.
                # Only this request is treated as anonymous; the session stays, as the person may
                # be entering their code in another tab.
                request.user = anonymous_user()
            return self.get_response(request)
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        if not _verified(user):
            step = (
                "accounts:two_factor_verify"
                if isinstance(user, User) and user_has_second_factor(user)
                else "accounts:two_factor_setup"
            )
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse(step)}?{query}")
        return self.get_response(request)


def _verified(user: object) -> bool:
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())
