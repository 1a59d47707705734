"""Writes to the shared case file."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from safer.accounts.models import User
from safer.casefile.models import CaseEvent, CaseFile, ReferenceCounter


@transaction.atomic
def reference_next(*, prefix: str = "SAFER") -> str:
    """The next reference for this year, e.g. SAFER-2026-000123. Gap-free under concurrency: the
    counter row is locked for the rest of the caller's transaction."""
    year = timezone.localdate().year
    ReferenceCounter.objects.get_or_create(prefix=prefix, year=year)
    counter = ReferenceCounter.objects.select_for_update().get(prefix=prefix, year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"{prefix}-{year}-{counter.last_number:06d}"


def case_event_record(
    *,
    case_file: CaseFile,
    kind: str,
    summary: str,
    actor: User | None = None,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Append an event to the case timeline, inside the transaction of the change it records."""
    return CaseEvent.objects.create(
        case_file=case_file, kind=kind, summary=summary, actor=actor, data=data or {}
    )
