"""django-axes hooks: how a username is counted, what a locked-out person sees, and the audit row.

Lockouts count per (normalised email, IP address): someone who knows an email cannot lock its
owner out of their usual address, and the response is the same whether the email exists or not.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from safer.accounts.services import email_normalise, lockout_record


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """AXES_USERNAME_CALLABLE: the email as the sign-in service normalises it."""
    username = (credentials or {}).get("username")
    if username is None:
        username = request.POST.get("email", "")
    return email_normalise(str(username))


def axes_lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: one page and one status, whoever the email belongs to (or not)."""
    minutes = round(float(settings.AXES_COOLOFF_TIME) * 60)
    return render(
        request,
        settings.AXES_LOCKOUT_TEMPLATE,
        {"cooloff_minutes": minutes},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )


def on_user_locked_out(
    sender: object,
    request: HttpRequest | None = None,
    username: str | None = None,
    **kwargs: Any,
) -> None:
    """Receiver for axes' ``user_locked_out``: it only records, through the service."""
    lockout_record(request=request, username=username)
