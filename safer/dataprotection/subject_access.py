"""Subject access requests (UK GDPR Article 15): recorded, exported, approved by a second person,
downloaded (docs/security.md, "Subject access").

The export gathers what every app holds about the person (``registry.sar_sections``) plus the
access log of who looked at their records, as one JSON document and a PDF made from it. Items
about someone else (another household member, the alleged perpetrator, a note that may name
others) are marked for redaction with the reason; the approver reviews them before release. The
files are kept in private storage and served only to those who may see the request, each
download logged.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from safer.accounts.models import User
from safer.audit.models import AccessLog
from safer.casefile.models import CaseFile, Person
from safer.casefile.services import case_event_record
from safer.dataprotection.models import SarStatus, SubjectAccessRequest
from safer.dataprotection.registry import SarGroup, erasable_models, sar_sections
from safer.transitions import InvalidTransition
from safer.workdays import working_days_between

EXPORT_VERSION = 1


class SubjectAccessError(InvalidTransition):
    subject = "subject access request"


def one_calendar_month_after(day: dt.date) -> dt.date:
    """The ICO's rule: the same date next month, or that month's last day if it has no such
    date (31 January → 28 or 29 February)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def working_days_left(sar: SubjectAccessRequest, *, today: dt.date | None = None) -> int:
    """Working days from today to the deadline (negative once it has passed)."""
    return working_days_between(today or timezone.localdate(), sar.due_on)


@transaction.atomic
def subject_access_request_record(
    *,
    case_file: CaseFile,
    person: Person,
    requested_by_description: str,
    received_on: dt.date,
    by: User,
) -> SubjectAccessRequest:
    description = requested_by_description.strip()
    if not description:
        raise SubjectAccessError("Say who made the request.")
    if received_on > timezone.localdate():
        raise SubjectAccessError("The date received must be today or in the past.")
    if person.household_id != case_file.household_id:
        raise SubjectAccessError("Choose someone in this case's household.")
    sar = SubjectAccessRequest.objects.create(
        case_file=case_file,
        person=person,
        authority_id=case_file.authority_id,
        requested_by_description=description,
        received_on=received_on,
        due_on=one_calendar_month_after(received_on),
        recorded_by=by,
    )
    case_event_record(
        case_file=case_file,
        kind="subject_access_recorded",
        summary="Subject access request recorded",
        actor=by,
        data={"request": str(sar.pk), "due_on": sar.due_on.isoformat()},
    )
    return sar


def _access_log(case_file: CaseFile, person: Person) -> SarGroup:
    """Who looked at the person's records: the case file, the person, the household, and every
    record hanging off the case file (the registry's models)."""
    keys: dict[str, set[str]] = {
        "casefile.casefile": {str(case_file.pk)},
        "casefile.person": {str(person.pk)},
        "casefile.household": {str(case_file.household_id)},
    }
    for erasable in erasable_models():
        pks = erasable.model._default_manager.filter(
            **{erasable.case_file_path: case_file.pk}
        ).values_list("pk", flat=True)
        keys.setdefault(erasable.model._meta.label_lower, set()).update(str(pk) for pk in pks)
    q = Q()
    for record_type, ids in keys.items():
        q |= Q(record_type=record_type, record_id__in=ids)
    group = SarGroup(title="Who looked at your records")
    for row in AccessLog.objects.filter(q).order_by("occurred_at", "id"):
        group.add(
            row.occurred_at.strftime("%d %B %Y %H:%M UTC"),
            f"{row.user_label}: {row.get_action_display()}",
        )
    return group


def subject_access_export_build(*, sar: SubjectAccessRequest) -> dict[str, Any]:
    """The export as data: the JSON file as it is, and what the PDF is rendered from."""
    case_file, person = sar.case_file, sar.person
    sections: list[tuple[str, list[SarGroup]]] = []
    for section in sar_sections():
        groups = section.build(case_file, person)
        if groups:
            sections.append((section.title, groups))
    sections.append(("Access log", [_access_log(case_file, person)]))
    redactions = sum(item.redact for _, groups in sections for g in groups for item in g.items)
    return {
        "format": "safer-subject-access",
        "version": EXPORT_VERSION,
        "request": {
            "id": str(sar.pk),
            "case_reference": case_file.reference,
            "requested_by": sar.requested_by_description,
            "received_on": sar.received_on.isoformat(),
            "due_on": sar.due_on.isoformat(),
        },
        "generated_at": timezone.now().isoformat(),
        "items_marked_for_redaction": redactions,
        "sections": [
            {
                "title": title,
                "records": [
                    {"title": g.title, "items": [i.as_dict() for i in g.items]} for g in groups
                ],
            }
            for title, groups in sections
        ],
    }


def subject_access_pdf_render(*, document: dict[str, Any], person_label: str) -> bytes:
    from weasyprint import HTML

    request = document["request"]
    dates = {
        "received_on": dt.date.fromisoformat(request["received_on"]),
        "due_on": dt.date.fromisoformat(request["due_on"]),
        "generated_at": dt.datetime.fromisoformat(document["generated_at"]),
    }
    html = render_to_string(
        "dataprotection/subject_access_export.html",
        {"doc": document, "person_label": person_label, "dates": dates},
    )
    return bytes(HTML(string=html, base_url=None).write_pdf())


@transaction.atomic
def subject_access_export_generate(*, sar: SubjectAccessRequest, by: User) -> SubjectAccessRequest:
    """Make (or, before approval, remake) the export. A remade export needs approving again."""
    locked = SubjectAccessRequest.objects.select_for_update().get(pk=sar.pk)
    if locked.status == SarStatus.APPROVED:
        raise SubjectAccessError("This export has been approved for release: it cannot change.")
    document = subject_access_export_build(sar=locked)
    person = locked.person
    label = f"{person.given_name} {person.family_name}".strip()
    pdf = subject_access_pdf_render(document=document, person_label=label)
    stem = f"subject-access-{locked.case_file.reference}"
    for field_name in ("pdf", "json"):
        old = getattr(locked, field_name)
        if old and old.name:
            old.delete(save=False)
    locked.pdf.save(f"{stem}.pdf", ContentFile(pdf), save=False)
    body = json.dumps(document, indent=2, ensure_ascii=False).encode()
    locked.json.save(f"{stem}.json", ContentFile(body), save=False)
    locked.redactions = document["items_marked_for_redaction"]
    locked.status = SarStatus.GENERATED
    locked.generated_by = by
    locked.generated_at = timezone.now()
    locked.save(
        update_fields=["pdf", "json", "redactions", "status", "generated_by", "generated_at"]
    )
    case_event_record(
        case_file=locked.case_file,
        kind="subject_access_generated",
        summary="Subject access export made, waiting for a second person to approve it",
        actor=by,
        data={"request": str(locked.pk)},
    )
    return locked


@transaction.atomic
def subject_access_release_approve(*, sar: SubjectAccessRequest, by: User) -> SubjectAccessRequest:
    """A second person (not the one who made the export) approves it for release."""
    locked = SubjectAccessRequest.objects.select_for_update().get(pk=sar.pk)
    if locked.status != SarStatus.GENERATED:
        raise SubjectAccessError("Only an export waiting for approval can be approved.")
    if locked.generated_by_id == by.pk:
        raise SubjectAccessError(
            "Someone other than the person who made the export must approve it."
        )
    locked.status = SarStatus.APPROVED
    locked.approved_by = by
    locked.approved_at = timezone.now()
    locked.save(update_fields=["status", "approved_by", "approved_at"])
    case_event_record(
        case_file=locked.case_file,
        kind="subject_access_approved",
        summary="Subject access export approved for release",
        actor=by,
        data={"request": str(locked.pk)},
    )
    return locked
