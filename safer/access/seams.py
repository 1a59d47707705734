"""The one way to read a person-level record: from ``visible_to(user)``, 404 otherwise, logged.

Every model holding person-level data gets a QuerySet with ``visible_to(user)`` (the
``VisibleToQuerySet`` protocol). Lists start from it; a detail goes through a
``<model>_get_for_user`` selector built on ``record_get_for_user``, for example::

    def referral_get_for_user(*, user, referral_id, request=None) -> Referral:
        return record_get_for_user(
            source=Referral.objects, user=user, pk=referral_id, request=request
        )

"Does not exist" and "not yours" give the same ``Http404`` (the same page, the same timing class
of query), so an id in a URL reveals nothing. A successful fetch writes exactly one access-log row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, TypeVar

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from safer.accounts.models import User
from safer.audit.models import AccessAction, AccessLog
from safer.audit.scoping import record_authority_ids
from safer.audit.services import access_log_record, client_ip

M = TypeVar("M", bound=models.Model)
M_co = TypeVar("M_co", bound=models.Model, covariant=True)

NOT_FOUND_MESSAGE = "No record found"


class VisibleToQuerySet(Protocol[M_co]):
    """A manager or queryset that can narrow itself to what a user may see."""

    def visible_to(self, user: User | AnonymousUser) -> QuerySet[M_co]: ...  # pragma: no cover


def get_for_user_or_404(queryset: QuerySet[M], pk: object) -> M:
    """Fetch ``pk`` from a queryset that is *already* ``visible_to(user)``; 404 if it is not there.

    A malformed id (not a UUID) is a 404 too, never a 500 or a 400 that would differ from "missing".
    """
    try:
        return queryset.get(pk=pk)
    except (ObjectDoesNotExist, ValidationError, ValueError, TypeError):
        raise Http404(NOT_FOUND_MESSAGE) from None


def record_get_for_user(
    *,
    source: VisibleToQuerySet[M],
    user: User | AnonymousUser,
    pk: object,
    request: HttpRequest | None = None,
    action: AccessAction = AccessAction.VIEW,
    reason: str | Callable[[M], str] = "",
    select_related: Sequence[str] = (),
) -> M:
    """Fetch one record the user may see, and log the read (one row).

    ``reason`` may be a function of the record, for a note that depends on *why* the user could
    see it (for example "under break-glass").
    """
    queryset = source.visible_to(user)
    if select_related:
        queryset = queryset.select_related(*select_related)
    record = get_for_user_or_404(queryset, pk)
    note = reason(record) if callable(reason) else reason
    access_log_record(user=user, action=action, record=record, request=request, reason=note)
    return record


def access_log_record_many(
    *,
    user: User | AnonymousUser,
    action: AccessAction,
    records: Iterable[models.Model],
    request: HttpRequest | None = None,
) -> int:
    """Log that a page of results showed these records (one INSERT for the whole page), each row
    stamped with its record's authority (at most one small query per model on the page)."""
    actor = user if isinstance(user, User) and user.pk else None
    label = f"{actor.full_name} <{actor.email}>" if actor is not None else "anonymous"
    ip = client_ip(request)
    records = list(records)
    authorities = record_authority_ids(records)
    rows = [
        AccessLog(
            user=actor,
            user_label=label,
            action=action,
            record_type=record._meta.label_lower,
            record_id=str(record.pk),
            source_ip=ip,
            authority_id=authorities.get((record._meta.label_lower, str(record.pk))),
        )
        for record in records
    ]
    AccessLog.objects.bulk_create(rows)
    return len(rows)
