"""Writes to the shared case file."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from safer.accounts.models import User
from safer.casefile.models import (
    CaseEvent,
    CaseFile,
    ContactService,
    ReferenceCounter,
    SafeContactOverride,
)
from safer.concurrency import version_claim

if TYPE_CHECKING:
    from safer.casefile.contact import RuleBreach

OVERRIDE_REASON_MAX = 300


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


@transaction.atomic
def casefile_safeguarding_flag_set(
    *, case_file: CaseFile, actor: User | None, reason_code: str
) -> CaseFile:
    """Raise the case file's safeguarding flag, so every service's pages show it at the top.

    ``reason_code`` says which service raised it and why (a code, never a note: the timeline is
    read by every service on the case). Raising a flag that is already up changes nothing and
    writes no event: the event that raised it is already on the timeline.
    """
    code = reason_code.strip()
    if not code or len(code) > 60:
        raise ValueError("A safeguarding flag needs a short reason code.")
    locked = CaseFile.objects.select_for_update(of=("self",)).get(pk=case_file.pk)
    if locked.safeguarding_flag:
        return locked
    version_claim(locked, expected=None, by=actor)
    locked.safeguarding_flag = True
    locked.save(update_fields=["safeguarding_flag"])
    case_event_record(
        case_file=locked,
        kind="safeguarding_flag_set",
        summary="Safeguarding flag raised",
        actor=actor,
        data={"reason_code": code},
    )
    return locked


def safe_contact_override_record(
    *,
    event: CaseEvent,
    actor: User,
    service: ContactService,
    breaches: Sequence[RuleBreach],
    reason: str,
) -> SafeContactOverride:
    """Keep a contact made against the safe-contact rules, inside the transaction of the contact
    (``event`` is its case event, so the timeline shows it with the reason). The managers of the
    worker's organisation (SPA managers for the SPA) see it in their list."""
    reason = reason.strip()
    if not reason:
        raise ValueError("Going against the safe-contact rules needs a reason.")
    return SafeContactOverride.objects.create(
        case_file=event.case_file,
        case_event=event,
        authority_id=event.case_file.authority_id,
        organisation_id=actor.organisation_id,
        service=service,
        rules=[b.code for b in breaches],
        reason=reason[:OVERRIDE_REASON_MAX],
        actor=actor,
        occurred_at=event.occurred_at,
    )
