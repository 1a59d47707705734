"""Writing the audit trail. Call these from services and the access seams, never from templates."""

from __future__ import annotations

from axes.helpers import get_client_ip_address
from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.http import HttpRequest

from safer.accounts.models import User
from safer.audit.models import AccessAction, AccessLog, AuthEvent, AuthEventKind
from safer.audit.scoping import record_authority_id


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    # The address as axes resolves it (its proxy settings), so lockouts and logs agree. axes sets
    # ``axes_ip_address`` only on requests that authenticate; resolve it the same way otherwise.
    ip = getattr(request, "axes_ip_address", None) or get_client_ip_address(request)
    return ip or None


def access_log_record(
    *,
    user: User | AnonymousUser | models.Model | None,
    action: AccessAction | str,
    record: models.Model | None = None,
    record_type: str = "",
    record_id: str = "",
    request: HttpRequest | None = None,
    reason: str = "",
) -> AccessLog:
    """Log one read of a person-level record: who, which record, what kind of read, from where.

    Pass the ``record``, or ``record_type`` ("app_label.model") and ``record_id`` for a read that
    has no single instance at hand (a list, a record that no longer exists). A ``record`` stamps
    the row with its authority (``record_authority_id``: free when the record was loaded with its
    path to the authority, one small query otherwise), which is how an auditor's scope is decided;
    without one the row has none.
    """
    authority_id = None
    if record is not None:
        record_type, record_id = record._meta.label_lower, str(record.pk)
        authority_id = record_authority_id(record)
    if not record_type or not record_id:
        raise ValueError("access_log_record needs a record, or a record_type and record_id")
    return AccessLog.objects.create(
        user=user if isinstance(user, User) and user.pk else None,
        user_label=_user_label(user),
        action=action,
        record_type=record_type[:100],
        record_id=record_id[:64],
        source_ip=client_ip(request),
        reason=reason[:500],
        authority_id=authority_id,
    )


def auth_event_record(
    *,
    kind: AuthEventKind | str,
    user: User | AnonymousUser | models.Model | None = None,
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


def _user_label(user: User | AnonymousUser | models.Model | None) -> str:
    if user is None or not getattr(user, "pk", None):
        return "anonymous"
    return f"{getattr(user, 'full_name', '')} <{getattr(user, 'email', '')}>".strip()
