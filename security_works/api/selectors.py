"""Reads for the contractor API: a job's version (its ETag), its next states and what a
contractor's system receives of it. Access goes through ``security_works.selectors``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from safer import workdays
from safer.api.etags import etag_of
from security_works.contractor_view import JobAddress, address_data
from security_works.models import (
    TRANSITIONS,
    CostApproval,
    InstalledMeasure,
    JobDocument,
    JobStatus,
    SecurityJob,
    SurveyMeasure,
)
from security_works.selectors import planned_lines


def job_version(job: SecurityJob) -> str:
    """An ETag that changes whenever anything a contractor sees of the job changes: its row, its
    works, its approvals and its documents. Computed without reading the address."""
    row = {f.attname: getattr(job, f.attname) for f in SecurityJob._meta.concrete_fields}
    related = {
        "survey": list(
            SurveyMeasure.objects.filter(job=job).order_by("pk").values_list("pk", "variation_id")
        ),
        "installed": list(
            InstalledMeasure.objects.filter(job=job).order_by("pk").values_list("pk", flat=True)
        ),
        "approvals": list(
            CostApproval.objects.filter(job=job).order_by("pk").values_list("pk", "status")
        ),
        "documents": list(
            JobDocument.objects.filter(job=job).order_by("pk").values_list("pk", flat=True)
        ),
    }
    return etag_of({"job": row, **related})


def allowed_next_states(job: SecurityJob) -> list[str]:
    states = {str(s) for s in TRANSITIONS[JobStatus(job.status)]}
    if job.status == JobStatus.ON_HOLD and job.status_before_hold:
        states.add(job.status_before_hold)  # resuming returns to where it was
    return sorted(states)


def job_state_data(job: SecurityJob) -> dict[str, Any]:
    return {
        "id": job.id,
        "reference": job.reference,
        "status": job.status,
        "allowed_next_states": allowed_next_states(job),
    }


def job_detail_data(job: SecurityJob, *, address: JobAddress | None) -> dict[str, Any]:
    """The job as a contractor may have it. ``address`` comes from ``job_address_reveal``, which
    decides (and logs) whether it may be seen; photos and documents follow the same rule."""
    plan = planned_lines(job)
    documents = (
        list(JobDocument.objects.filter(job=job).order_by("uploaded_at"))
        if address is not None
        else []
    )
    return {
        "id": job.id,
        "reference": job.reference,
        "status": job.status,
        "status_label": job.get_status_display(),
        "priority": job.priority,
        "district": job.district,
        "allocated_at": job.allocated_at,
        "survey_booked_for": job.survey_booked_for,
        "installation_booked_for": job.installation_booked_for,
        "next_due_at": job.next_due_at,
        "make_safe_due_at": job.make_safe_due_at,
        "survey_due_at": job.survey_due_at,
        "installation_due_at": job.installation_due_at,
        "surveyed_at": job.surveyed_at,
        "installed_at": job.installed_at,
        "landlord_consent_required": job.landlord_consent_required,
        "landlord_consent_given": job.landlord_consent_at is not None,
        "allowed_next_states": allowed_next_states(job),
        "address": address_data(address),
        "survey_measures": [
            {
                "measure": line.measure,
                "quantity": line.quantity,
                "unit_cost": line.unit_cost,
                "location": line.location,
                "is_variation": line.variation_id is not None,
            }
            for line in plan
        ],
        "installed_measures": list(
            InstalledMeasure.objects.filter(job=job).select_related("measure")
        ),
        "documents": documents,
    }


def day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day``, UK time (deadlines are filtered by local day)."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=workdays.LOCAL_TZ)
