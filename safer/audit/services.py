"""Writing the audit trail. Call these from services and the access seams, never from templates."""

from __future__ import annotations

from django.db import models
from django.http import HttpRequest

from safer.accounts.models import User
from safer.audit.models import AccessAction, AccessLog, AuthEvent, AuthEventKind


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    # axes (django-ipware) already resolved the client address honouring the proxy count.
    ip = getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR")
    return ip or None


def access_log_record(
    *,
    user: models.Model | None,
    action: AccessAction | str,
    record: models.Model,
    request: HttpRequest | None = None,
    reason: str = "",
) -> AccessLog:
    """Log one read of a person-level record: who, which record, what kind of read, from where."""
    return AccessLog.objects.create(
        user=user if isinstance(user, User) and user.pk else None,
        user_label=_user_label(user),
        action=action,
        record_type=record._meta.label_lower,
        record_id=str(record.pk),
        source_ip=client_ip(request),
        reason=reason,
    )


def auth_event_record(
    *,
    kind: AuthEventKind | str,
    user: models.Model | None = None,
    attempted_username: str = "",
    request: HttpRequest | None = None,
    detail: str = "",
) -> AuthEvent:
    return AuthEvent.objects.create(
        kind=kind,
        user=user if isinstance(user, User) and user.pk else None,
        attempted_username=attempted_username[:254],
        source_ip=client_ip(request),
        path=(request.path[:300] if request is not None else ""),
        detail=detail[:300],
    )


def _user_label(user: models.Model | None) -> str:
    if user is None or not getattr(user, "pk", None):
        return "anonymous"
    return f"{getattr(user, 'full_name', '')} <{getattr(user, 'email', '')}>".strip()
