"""What security works tells retention and subject access about jobs (``safer.dataprotection``).

A completed or cancelled job's period runs from the day it closed; an open job keeps the case.
Photos and documents are deleted with their files (the measures installed, their costs and dates
stay: spend and the returns are built from them).
"""

from __future__ import annotations

from django.utils import timezone

from safer.casefile.models import CaseFile, HouseholdRole, Person
from safer.dataprotection.casefile import MAY_NAME_OTHERS
from safer.dataprotection.models import RecordType
from safer.dataprotection.registry import (
    Anchor,
    ErasableModel,
    SarGroup,
    SarSection,
    retention_anchor_source_register,
    retention_erasable_register,
    subject_access_section_register,
)
from security_works.models import (
    CLOSED_STATUSES,
    FireSafetyCheck,
    JobDocument,
    JobHold,
    LandlordConsent,
    PostInstallationCheck,
    SecurityJob,
)


def job_anchors(case_file: CaseFile) -> list[Anchor]:
    anchors = []
    for job in SecurityJob.objects.filter(case_file=case_file).only(
        "status", "completed_at", "cancelled_at"
    ):
        closed = job.completed_at or job.cancelled_at
        if job.status in CLOSED_STATUSES and closed is not None:
            anchors.append(Anchor(RecordType.CLOSED_CASE, timezone.localdate(closed)))
        else:
            anchors.append(Anchor(RecordType.CLOSED_CASE, None))
    return anchors


ERASABLE = (
    ErasableModel(
        label="Security jobs",
        model=SecurityJob,
        case_file_path="case_file",
        blank=("access_notes", "cancellation_note", "allocation_override_reason"),
        order=30,
    ),
    ErasableModel(
        label="Job holds", model=JobHold, case_file_path="job__case_file", blank=("note",), order=30
    ),
    # The document links are cleared before the documents go (they protect them).
    ErasableModel(
        label="Landlord consents",
        model=LandlordConsent,
        case_file_path="job__case_file",
        blank=("given_by", "notes", "evidence"),
        order=30,
    ),
    ErasableModel(
        label="Fire-safety checks",
        model=FireSafetyCheck,
        case_file_path="job__case_file",
        blank=("carried_out_by", "notes", "document"),
        order=30,
    ),
    ErasableModel(
        label="Post-installation checks",
        model=PostInstallationCheck,
        case_file_path="job__case_file",
        blank=("comments",),
        order=30,
    ),
    ErasableModel(
        label="Photos and documents",
        model=JobDocument,
        case_file_path="job__case_file",
        delete=True,
        file_fields=("file",),
        order=90,
    ),
)


def _jobs_section(case_file: CaseFile, person: Person) -> list[SarGroup]:
    if person.household_role != HouseholdRole.SURVIVOR:
        return []
    groups = []
    jobs = SecurityJob.objects.filter(case_file=case_file).select_related("contractor")
    for job in jobs.order_by("allocated_at"):
        group = SarGroup(title=f"Security job {job.reference}")
        group.add("Status", job.get_status_display())
        group.add("Contractor", job.contractor.name)
        group.add("Completed", job.completed_at)
        group.add("Cancelled", job.cancelled_at)
        group.add("Access and hazard notes", job.access_notes, redact=MAY_NAME_OTHERS)
        for installed in job.installed_measures.select_related("measure").order_by("id"):
            group.add("Installed", f"{installed.measure.description} x {installed.quantity}")
        for document in JobDocument.objects.filter(job=job).order_by("uploaded_at"):
            group.add(
                f"{document.get_kind_display()} uploaded {document.uploaded_at:%d %B %Y}",
                document.original_name,
            )
        groups.append(group)
    return groups


def register() -> None:
    retention_anchor_source_register(job_anchors)
    retention_erasable_register(*ERASABLE)
    subject_access_section_register(
        SarSection(title="Security works", build=_jobs_section, order=30)
    )
