"""Writes for security works: every status change is one function here.

Each transition locks the job row, checks the allowed prior states (``TRANSITIONS``), writes the
change and a ``CaseEvent`` in the same transaction, and recomputes the SLA deadlines. Case events
carry codes and ids only, never personal details: support workers read the same timeline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from safer import workdays
from safer.access.roles import user_has_role
from safer.access.services import casefile_access_grant, casefile_access_revoke
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.casefile.contact import IN_PERSON, RuleBreach, breaches_text, contact_check
from safer.casefile.models import (
    VIEW_CASEFILE_ADDRESS,
    WORK_ON_CASEFILE,
    CaseEvent,
    CaseFile,
    ContactChannel,
    ContactService,
    SafeContactRules,
    Tenure,
)
from safer.casefile.services import (
    case_event_record,
    reference_next,
    safe_contact_override_record,
)
from safer.concurrency import version_claim
from safer.organisations.models import Organisation, OrganisationKind
from security_works.exceptions import (
    InvalidTransition,
    InvalidWorks,
    StepBlocked,
    UnsafeContact,
)
from security_works.models import (
    CLOSED_STATUSES,
    FIRE_SAFETY_CHECK_STATUSES,
    TRANSITIONS,
    VARIATION_STATUSES,
    ApprovalKind,
    ApprovalStatus,
    CancellationReason,
    ConsentMethod,
    CostApproval,
    FeelsSafer,
    FireSafetyCheck,
    FireSafetyCheckKind,
    FireSafetyOutcome,
    HoldReason,
    InstalledMeasure,
    JobDocument,
    JobHold,
    JobPriority,
    JobStatus,
    LandlordConsent,
    Measure,
    PostInstallationCheck,
    SecurityJob,
    SurveyMeasure,
)
from security_works.selectors import (
    contractor_suggest,
    installation_clock_start,
    planned_lines,
    planned_quantities_by_code,
    planned_total,
    security_contract_for,
    sla_policy_for,
)

JOB_REFERENCE_PREFIX = "SW"
EVENT_PREFIX = "security_job."
# The steps a state may take, in words, for messages.
_STEP_WORDS = {
    JobStatus.SURVEY_BOOKED: "booked for survey",
    JobStatus.SURVEYED: "recorded as surveyed",
    JobStatus.AWAITING_LANDLORD_CONSENT: "recorded as surveyed",
    JobStatus.INSTALLATION_BOOKED: "booked for installation",
    JobStatus.INSTALLED: "recorded as installed",
    JobStatus.CHECKED: "given its post-installation check",
    JobStatus.COMPLETED: "completed",
    JobStatus.ON_HOLD: "put on hold",
    JobStatus.CANCELLED: "cancelled",
}


@dataclass(frozen=True)
class MeasureLine:
    """A measure a survey recommends or a variation adds."""

    measure: Measure
    quantity: Decimal
    location: str = ""


@dataclass(frozen=True)
class InstalledLine:
    measure: Measure
    quantity: Decimal
    actual_cost: Decimal
    variation_note: str = ""


# --- Allocation -------------------------------------------------------------------------------


@transaction.atomic
def security_job_allocate(
    *,
    case_file: CaseFile,
    priority: JobPriority | str,
    allocated_by: User | None,
    contractor: Organisation | None = None,
    override_reason: str = "",
) -> SecurityJob:
    """Create a job for the case and allocate it to a contractor covering the district.

    The covering contractor with the fewest open jobs is suggested; choosing another needs a
    reason. The contractor's organisation is given access to the case and its address.
    """
    case_file = CaseFile.objects.select_related("household").get(pk=case_file.pk)
    household = case_file.household
    suggested = contractor_suggest(authority=case_file.authority, district=household.district)
    override_reason = override_reason.strip()
    if contractor is None:
        if suggested is None:
            raise StepBlocked(
                f"No active contractor covers {household.district}. Choose one and give a reason."
            )
        contractor = suggested
    if contractor.kind != OrganisationKind.SECURITY_CONTRACTOR or not contractor.is_active:
        raise InvalidWorks(f"{contractor} is not an active security works contractor.")
    if not contractor.authorities.filter(pk=case_file.authority_id).exists():
        raise InvalidWorks(f"{contractor} does not work for {case_file.authority}.")
    if contractor != suggested and not override_reason:
        raise InvalidWorks(
            "Give a reason for choosing a contractor other than the suggested one"
            + (f" ({suggested})." if suggested else " (none covers the district).")
        )
    now = timezone.now()
    job = SecurityJob(
        reference=reference_next(prefix=JOB_REFERENCE_PREFIX),
        case_file=case_file,
        household=household,
        authority_id=case_file.authority_id,
        district_id=household.district_id,
        contract=security_contract_for(
            contractor=contractor, authority=case_file.authority, on=timezone.localdate(now)
        ),
        contractor=contractor,
        suggested_contractor=suggested,
        allocation_override_reason=override_reason if contractor != suggested else "",
        priority=priority,
        status=JobStatus.ALLOCATED,
        allocated_at=now,
    )
    _deadlines_refresh(job, holds=[])
    job.save(force_insert=True)
    _event(
        job,
        "allocated",
        f"Security job {job.reference} ({job.get_priority_display().lower()}) allocated to "
        f"{contractor}",
        actor=allocated_by,
        contractor_id=str(contractor.pk),
        suggested_contractor_id=str(suggested.pk) if suggested else None,
        overridden=contractor != suggested,
    )
    for permission in (WORK_ON_CASEFILE, VIEW_CASEFILE_ADDRESS):
        casefile_access_grant(
            case_file=case_file,
            permission=permission,
            granted_by=allocated_by,
            organisation=contractor,
        )
    return job


# --- Survey -----------------------------------------------------------------------------------


@transaction.atomic
def security_job_record_make_safe(
    *, job: SecurityJob, actor: User | None, made_safe_at: dt.datetime | None = None
) -> SecurityJob:
    """Stop the emergency clock: the property was made safe."""
    job = _lock(job)
    if job.status in CLOSED_STATUSES or job.status == JobStatus.ON_HOLD:
        raise InvalidTransition(
            current=job.get_status_display(), attempted="recorded as made safe", allowed=()
        )
    if job.priority != JobPriority.EMERGENCY:
        raise StepBlocked("Only emergency jobs have a make-safe visit.")
    if job.made_safe_at is not None:
        raise StepBlocked("The property has already been recorded as made safe.")
    job.made_safe_at = _when(made_safe_at, not_before=job.allocated_at)
    _save(job, "made_safe_at")
    _event(job, "made_safe", f"Property made safe ({job.reference})", actor=actor)
    return job


@transaction.atomic
def security_job_book_survey(
    *,
    job: SecurityJob,
    actor: User | None,
    booked_for: dt.datetime,
    arranged_via: str = "",
    unsafe_contact_reason: str = "",
) -> SecurityJob:
    """Book the survey visit. The safe-contact rule judges how it was arranged
    (``arranged_via``, a channel of the rules) and when the visit is; going against it needs a
    reason."""
    job = _lock(job)
    _check_move(job, JobStatus.SURVEY_BOOKED)
    if workdays.local_date(booked_for) < workdays.local_date(job.allocated_at):
        raise InvalidWorks("The survey cannot be booked before the job was allocated.")
    breaches, reason = _visit_check(job, booked_for, arranged_via, unsafe_contact_reason, actor)
    rebooking = job.status == JobStatus.SURVEY_BOOKED
    job.survey_booked_for = booked_for
    job.status = JobStatus.SURVEY_BOOKED
    _save(job, "survey_booked_for", "status")
    event = _event(
        job,
        "survey_rebooked" if rebooking else "survey_booked",
        f"Survey {'re' if rebooking else ''}booked for {_local(booked_for)} ({job.reference})"
        + (" - against the safe-contact rules, with a reason" if reason else ""),
        actor=actor,
        booked_for=booked_for.isoformat(),
        arranged_via=arranged_via,
    )
    _visit_override(event, actor, breaches, reason)
    return job


@transaction.atomic
def security_job_record_survey(
    *,
    job: SecurityJob,
    actor: User | None,
    lines: Sequence[MeasureLine],
    survivor_consents: bool,
    surveyed_at: dt.datetime | None = None,
) -> SecurityJob:
    """Record the survey and the measures it recommends (replacing any earlier survey's).

    Moves to "awaiting landlord consent" when the tenure needs it and consent is not yet given.
    A planned total above the threshold asks an SPA manager for approval.
    """
    job = _lock(job)
    _check_move(job, JobStatus.SURVEYED)
    revising = job.status in (JobStatus.SURVEYED, JobStatus.AWAITING_LANDLORD_CONSENT)
    if not survivor_consents:
        raise StepBlocked(
            "The survivor's consent to the works is needed before the survey can be recorded."
        )
    if not lines:
        raise InvalidWorks("Add at least one recommended measure.")
    when = _when(surveyed_at, not_before=job.allocated_at)
    survey_day = workdays.local_date(when)
    _check_measures_in_force([line.measure for line in lines], survey_day)

    # A revised survey replaces the plan: earlier lines go, and approvals asked for the old plan
    # no longer apply.
    SurveyMeasure.objects.filter(job=job, variation__isnull=True).delete()
    superseded = CostApproval.objects.filter(job=job, status=ApprovalStatus.PENDING).update(
        status=ApprovalStatus.SUPERSEDED, decided_at=timezone.now()
    )
    SurveyMeasure.objects.bulk_create(
        [
            SurveyMeasure(
                job=job,
                measure=line.measure,
                quantity=line.quantity,
                unit_cost=line.measure.unit_cost,
                location=line.location.strip(),
            )
            for line in lines
        ]
    )
    household = job.case_file.household
    job.landlord_consent_required = Tenure.needs_landlord_consent(household.tenure)
    if job.surveyed_at is None:
        job.surveyed_at = when  # the survey clock stops at the first survey
    if job.survivor_consent_at is None:
        job.survivor_consent_at = when
    waiting = job.landlord_consent_required and job.landlord_consent_at is None
    job.status = JobStatus.AWAITING_LANDLORD_CONSENT if waiting else JobStatus.SURVEYED
    _save(job, "landlord_consent_required", "surveyed_at", "survivor_consent_at", "status")

    total = planned_total(planned_lines(job))
    _event(
        job,
        "survey_revised" if revising else "survey_recorded",
        f"Survey {'revised' if revising else 'recorded'}: {len(lines)} measure(s), "
        f"£{total:,.2f} ({job.reference})",
        actor=actor,
        measures=[str(line.measure.pk) for line in lines],
        planned_total=str(total),
        landlord_consent_required=job.landlord_consent_required,
        approvals_superseded=superseded,
    )
    policy = sla_policy_for(contract_id=job.contract_id)
    if total > policy.approval_threshold and not _threshold_approved_for(job, total):
        _approval_request(
            job,
            kind=ApprovalKind.THRESHOLD,
            amount=total,
            reason=f"Planned total £{total:,.2f} is above £{policy.approval_threshold:,.2f}",
            actor=actor,
        )
    return job


@transaction.atomic
def security_job_record_landlord_consent(
    *,
    job: SecurityJob,
    actor: User | None,
    given_by: str,
    given_on: dt.date,
    method: ConsentMethod | str,
    granted: bool,
    evidence: JobDocument | None = None,
    notes: str = "",
) -> LandlordConsent:
    """Record the landlord's or owner's answer. Consent starts the installation clock."""
    job = _lock(job)
    if job.status != JobStatus.AWAITING_LANDLORD_CONSENT:
        raise InvalidTransition(
            current=job.get_status_display(),
            attempted="given landlord consent",
            allowed=_allowed_labels(job),
        )
    if given_on > timezone.localdate():
        raise InvalidWorks("Consent cannot be dated in the future.")
    if not given_by.strip():
        raise InvalidWorks("Say who gave or refused consent.")
    if evidence is not None and evidence.job_id != job.pk:
        raise InvalidWorks("The evidence must be a document of this job.")
    consent = LandlordConsent.objects.create(
        job=job,
        given_by=given_by.strip(),
        given_on=given_on,
        method=method,
        granted=granted,
        evidence=evidence,
        notes=notes.strip(),
        recorded_by=actor,
    )
    if granted:
        # The clock counts working days from the day consent was given (not from when it was
        # typed in), but never from before the survey.
        consent_moment = dt.datetime.combine(given_on, dt.time(12), tzinfo=workdays.LOCAL_TZ)
        assert job.surveyed_at is not None
        job.landlord_consent_at = min(max(consent_moment, job.surveyed_at), timezone.now())
        job.status = JobStatus.SURVEYED
        _save(job, "landlord_consent_at", "status")
    _event(
        job,
        "landlord_consent_granted" if granted else "landlord_consent_refused",
        f"Landlord consent {'granted' if granted else 'refused'} "
        f"({ConsentMethod(method).label.lower()}) ({job.reference})",
        actor=actor,
        landlord_consent_id=str(consent.pk),
    )
    return consent


@transaction.atomic
def security_job_record_fire_safety_check(
    *,
    job: SecurityJob,
    actor: User | None,
    kind: FireSafetyCheckKind | str,
    carried_out_by: str,
    carried_out_on: dt.date,
    outcome: FireSafetyOutcome | str,
    notes: str = "",
    document: JobDocument | None = None,
) -> FireSafetyCheck:
    """Record a fire-safety check or home fire safety visit (who, when, what kind, outcome).

    The latest check decides: a passing one lets a job whose measures affect a means of escape be
    booked and fitted; a failed one blocks it until the works change and a new check passes.
    """
    job = _lock(job)
    if job.status not in FIRE_SAFETY_CHECK_STATUSES:
        raise InvalidTransition(
            current=job.get_status_display(),
            attempted="given a fire-safety check",
            allowed=sorted(str(JobStatus(s).label) for s in FIRE_SAFETY_CHECK_STATUSES),
        )
    if kind not in FireSafetyCheckKind.values:
        raise InvalidWorks("Choose what kind of check it was.")
    if outcome not in FireSafetyOutcome.values:
        raise InvalidWorks("Choose the outcome of the check.")
    if not carried_out_by.strip():
        raise InvalidWorks("Enter who carried out the check (name and organisation).")
    if carried_out_on > timezone.localdate():
        raise InvalidWorks("The date of the check must be today or in the past.")
    if carried_out_on < workdays.local_date(job.allocated_at):
        raise InvalidWorks(
            "The date of the check must be on or after the day the job was allocated."
        )
    if outcome == FireSafetyOutcome.PASSED_WITH_ADVICE and not notes.strip():
        raise InvalidWorks("Enter the advice given, in the notes.")
    if outcome == FireSafetyOutcome.FAILED and not notes.strip():
        raise InvalidWorks("Enter why the check failed, in the notes.")
    if document is not None and document.job_id != job.pk:
        raise InvalidWorks("The document must be one of this job's documents.")
    check = FireSafetyCheck.objects.create(
        job=job,
        kind=kind,
        carried_out_by=carried_out_by.strip(),
        carried_out_on=carried_out_on,
        outcome=outcome,
        notes=notes.strip(),
        document=document,
        recorded_by=actor,
    )
    _event(
        job,
        "fire_safety_check_recorded",
        f"Fire-safety check {FireSafetyOutcome(outcome).label.split(':')[0].lower()} "
        f"({job.reference})",
        actor=actor,
        fire_safety_check_id=str(check.pk),
        outcome=str(outcome),
        check_kind=str(kind),
    )
    return check


@transaction.atomic
def security_job_access_notes_update(
    *,
    job: SecurityJob,
    actor: User | None,
    access_notes: str,
    expected_version: int | None = None,
) -> SecurityJob:
    """The SPA's access and hazard notes for the contractor (the only free text it reads).
    ``EditConflict`` when ``expected_version`` is stale: two people editing the notes at once
    never overwrite each other silently."""
    job = _lock(job)
    if job.status in CLOSED_STATUSES:
        raise InvalidTransition(
            current=job.get_status_display(), attempted="given access notes", allowed=()
        )
    version_claim(job, expected=expected_version, by=actor)
    job.access_notes = access_notes.strip()
    job.save(update_fields=["access_notes"])
    _event(job, "access_notes_updated", f"Access notes updated ({job.reference})", actor=actor)
    return job


# --- Approvals --------------------------------------------------------------------------------


@transaction.atomic
def security_job_request_variation(
    *, job: SecurityJob, actor: User | None, lines: Sequence[MeasureLine], reason: str
) -> CostApproval:
    """Ask to add to the surveyed works; none of it is fitted until an SPA manager approves.

    One request at a time: a second waits until the first is decided (the manager decides on the
    job's total, so two open requests would each be judged against a stale one)."""
    job = _lock(job)
    allowed = VARIATION_STATUSES
    if job.status not in allowed:
        raise InvalidTransition(
            current=job.get_status_display(),
            attempted="varied",
            allowed=sorted(str(JobStatus(s).label) for s in allowed),
        )
    if not lines:
        raise InvalidWorks("Add at least one measure to the variation.")
    if not reason.strip():
        raise InvalidWorks("Enter why the works need to change.")
    if CostApproval.objects.filter(
        job=job, kind=ApprovalKind.VARIATION, status=ApprovalStatus.PENDING
    ).exists():
        raise StepBlocked(
            "A variation on this job is already waiting for an SPA manager's decision. Wait for "
            "it before asking for another."
        )
    _check_measures_in_force([line.measure for line in lines], timezone.localdate())
    extra = sum((line.measure.unit_cost * line.quantity for line in lines), Decimal(0))
    amount = planned_total(planned_lines(job)) + extra
    approval = _approval_request(
        job, kind=ApprovalKind.VARIATION, amount=amount, reason=reason.strip(), actor=actor
    )
    SurveyMeasure.objects.bulk_create(
        [
            SurveyMeasure(
                job=job,
                measure=line.measure,
                quantity=line.quantity,
                unit_cost=line.measure.unit_cost,
                location=line.location.strip(),
                variation=approval,
            )
            for line in lines
        ]
    )
    return approval


@transaction.atomic
def security_job_approval_decide(
    *, approval: CostApproval, decided_by: User, approve: bool, note: str = ""
) -> CostApproval:
    """An SPA manager approves or refuses a variation or an over-threshold total; a refusal
    needs a reason (the contractor reads it). An approved variation's lines join the approved
    works (``selectors.planned_lines``)."""
    if not user_has_role(decided_by, Role.SPA_MANAGER):
        raise PermissionDenied("Only an SPA manager can approve costs.")
    job = _lock(approval.job)
    approval = CostApproval.objects.select_for_update().get(pk=approval.pk)
    if approval.status != ApprovalStatus.PENDING:
        raise StepBlocked(f"This request has already been {approval.get_status_display().lower()}.")
    if approval.requested_by_id == decided_by.pk:
        raise PermissionDenied("Costs cannot be approved by the person who asked for them.")
    if approve and job.status in CLOSED_STATUSES:
        raise StepBlocked("The job is closed.")
    if not approve and not note.strip():
        raise InvalidWorks("Enter the reason for refusing: the contractor will read it.")
    approval.status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    approval.decided_by = decided_by
    approval.decided_at = timezone.now()
    approval.decision_note = note.strip()
    approval.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    _event(
        job,
        f"{approval.kind}_{approval.status}",
        f"{approval.get_kind_display()} {approval.get_status_display().lower()}: "
        f"£{approval.amount:,.2f} ({job.reference})",
        actor=decided_by,
        approval_id=str(approval.pk),
    )
    return approval


# --- Installation -----------------------------------------------------------------------------


@transaction.atomic
def security_job_book_installation(
    *,
    job: SecurityJob,
    actor: User | None,
    booked_for: dt.datetime,
    arranged_via: str = "",
    unsafe_contact_reason: str = "",
) -> SecurityJob:
    """Book the installation visit. The safe-contact rule judges how it was arranged
    (``arranged_via``, a channel of the rules) and when the visit is; going against it needs a
    reason."""
    job = _lock(job)
    _check_move(job, JobStatus.INSTALLATION_BOOKED)
    _check_ready_to_install(job)
    surveyed = job.surveyed_at
    if surveyed is not None and workdays.local_date(booked_for) < workdays.local_date(surveyed):
        raise InvalidWorks("The installation cannot be booked before the survey.")
    breaches, reason = _visit_check(job, booked_for, arranged_via, unsafe_contact_reason, actor)
    rebooking = job.status == JobStatus.INSTALLATION_BOOKED
    job.installation_booked_for = booked_for
    job.status = JobStatus.INSTALLATION_BOOKED
    _save(job, "installation_booked_for", "status")
    event = _event(
        job,
        "installation_rebooked" if rebooking else "installation_booked",
        f"Installation {'re' if rebooking else ''}booked for {_local(booked_for)} "
        f"({job.reference})"
        + (" - against the safe-contact rules, with a reason" if reason else ""),
        actor=actor,
        booked_for=booked_for.isoformat(),
        arranged_via=arranged_via,
    )
    _visit_override(event, actor, breaches, reason)
    return job


@transaction.atomic
def security_job_record_installation(
    *,
    job: SecurityJob,
    actor: User | None,
    lines: Sequence[InstalledLine],
    installed_at: dt.datetime | None = None,
) -> SecurityJob:
    """Record what was fitted. Anything beyond the approved works needs an approved variation
    first; fitting less than planned is fine (say why in the variation note)."""
    job = _lock(job)
    _check_move(job, JobStatus.INSTALLED)
    _check_ready_to_install(job)
    if not lines:
        raise InvalidWorks("Add at least one fitted measure.")
    plan = planned_lines(job)
    planned_qty = planned_quantities_by_code(plan)
    fitted_qty: dict[str, Decimal] = {}
    for line in lines:
        fitted_qty[line.measure.code] = fitted_qty.get(line.measure.code, Decimal(0)) + (
            line.quantity
        )
    for code, quantity in fitted_qty.items():
        if quantity > planned_qty.get(code, Decimal(0)):
            raise InvalidWorks(
                f"{quantity:g} of {code} is more than the approved works "
                f"({planned_qty.get(code, Decimal(0)):g}). Ask for a variation and have it "
                "approved before recording it."
            )
    total = sum((line.actual_cost for line in lines), Decimal(0))
    approved = planned_total(plan)
    if total > approved:
        raise InvalidWorks(
            f"The fitted cost £{total:,.2f} is more than the approved £{approved:,.2f}. Ask for a "
            "variation and have it approved before recording it."
        )
    when = _when(installed_at, not_before=job.surveyed_at or job.allocated_at)
    InstalledMeasure.objects.bulk_create(
        [
            InstalledMeasure(
                job=job,
                measure=line.measure,
                quantity=line.quantity,
                actual_cost=line.actual_cost,
                variation_note=line.variation_note.strip(),
            )
            for line in lines
        ]
    )
    job.installed_at = when
    job.status = JobStatus.INSTALLED
    fields = ["installed_at", "status"]
    if job.priority == JobPriority.EMERGENCY and job.made_safe_at is None:
        job.made_safe_at = when  # fitting the works makes the property safe
        fields.append("made_safe_at")
    _save(job, *fields)
    _event(
        job,
        "installed",
        f"Installation recorded: {len(lines)} measure(s), £{total:,.2f} ({job.reference})",
        actor=actor,
        installed_total=str(total),
    )
    return job


@transaction.atomic
def security_job_record_post_installation_check(
    *,
    job: SecurityJob,
    actor: User | None,
    checked_on: dt.date,
    measures_working: bool,
    feels_safer: FeelsSafer | str = "",
    comments: str = "",
) -> PostInstallationCheck:
    """The check after fitting, with "Do you feel safer in your home?" (blank: not answered)."""
    job = _lock(job)
    _check_move(job, JobStatus.CHECKED)
    assert job.installed_at is not None
    if checked_on < workdays.local_date(job.installed_at):
        raise InvalidWorks("The check cannot be before the installation.")
    if checked_on > timezone.localdate():
        raise InvalidWorks("The check cannot be dated in the future.")
    check = PostInstallationCheck.objects.create(
        job=job,
        checked_on=checked_on,
        measures_working=measures_working,
        feels_safer=feels_safer,
        comments=comments.strip(),
        recorded_by=actor,
    )
    job.checked_at = timezone.now()
    job.status = JobStatus.CHECKED
    _save(job, "checked_at", "status")
    _event(
        job,
        "post_installation_checked",
        f"Post-installation check done ({job.reference})",
        actor=actor,
        feels_safer=str(feels_safer),
        measures_working=measures_working,
    )
    return check


@transaction.atomic
def security_job_complete(*, job: SecurityJob, actor: User | None) -> SecurityJob:
    job = _lock(job)
    _check_move(job, JobStatus.COMPLETED)
    job.completed_at = timezone.now()
    job.status = JobStatus.COMPLETED
    _save(job, "completed_at", "status")
    _event(job, "completed", f"Security job {job.reference} completed", actor=actor)
    _contractor_access_withdraw(job, actor=actor)
    return job


# --- Hold and cancellation --------------------------------------------------------------------


@transaction.atomic
def security_job_put_on_hold(
    *, job: SecurityJob, actor: User | None, reason: HoldReason | str, note: str = ""
) -> SecurityJob:
    """Pause the job and its clocks until it is resumed."""
    job = _lock(job)
    _check_move(job, JobStatus.ON_HOLD)
    JobHold.objects.create(job=job, reason=reason, note=note.strip(), started_by=actor)
    job.status_before_hold = job.status
    job.status = JobStatus.ON_HOLD
    job.hold_reason = reason
    _save(job, "status_before_hold", "status", "hold_reason")
    _event(
        job,
        "put_on_hold",
        f"On hold: {HoldReason(reason).label} ({job.reference})",
        actor=actor,
        reason=str(reason),
    )
    return job


@transaction.atomic
def security_job_resume(*, job: SecurityJob, actor: User | None) -> SecurityJob:
    job = _lock(job)
    if job.status != JobStatus.ON_HOLD:
        raise InvalidTransition(
            current=job.get_status_display(), attempted="resumed", allowed=_allowed_labels(job)
        )
    now = timezone.now()
    JobHold.objects.filter(job=job, ended_at__isnull=True).update(ended_at=now, ended_by=actor)
    job.status = job.status_before_hold
    job.status_before_hold = ""
    job.hold_reason = ""
    _save(job, "status", "status_before_hold", "hold_reason")
    _event(
        job,
        "resumed",
        f"Resumed: {job.get_status_display().lower()} ({job.reference})",
        actor=actor,
    )
    return job


@transaction.atomic
def security_job_cancel(
    *,
    job: SecurityJob,
    actor: User | None,
    reason: CancellationReason | str,
    note: str = "",
) -> SecurityJob:
    job = _lock(job)
    _check_move(job, JobStatus.CANCELLED)
    if reason not in CancellationReason.values:
        raise InvalidWorks("Choose a cancellation reason.")
    if reason == CancellationReason.OTHER and not note.strip():
        raise InvalidWorks("Say why the job is cancelled.")
    now = timezone.now()
    JobHold.objects.filter(job=job, ended_at__isnull=True).update(ended_at=now, ended_by=actor)
    CostApproval.objects.filter(job=job, status=ApprovalStatus.PENDING).update(
        status=ApprovalStatus.SUPERSEDED, decided_at=now
    )
    job.status = JobStatus.CANCELLED
    job.status_before_hold = ""
    job.hold_reason = ""
    job.cancelled_at = now
    job.cancellation_reason = reason
    job.cancellation_note = note.strip()
    _save(
        job,
        "status",
        "status_before_hold",
        "hold_reason",
        "cancelled_at",
        "cancellation_reason",
        "cancellation_note",
    )
    _event(
        job,
        "cancelled",
        f"Security job {job.reference} cancelled: {CancellationReason(reason).label}",
        actor=actor,
        reason=str(reason),
    )
    _contractor_access_withdraw(job, actor=actor)
    return job


# --- Internals --------------------------------------------------------------------------------


def _lock(job: SecurityJob) -> SecurityJob:
    """Re-read the job under a row lock: the state checked is the state changed."""
    return (
        SecurityJob.objects.select_for_update(of=("self",))
        .select_related("case_file__household", "contractor")
        .get(pk=job.pk)
    )


def _allowed_labels(job: SecurityJob) -> list[str]:
    allowed = {str(JobStatus(s).label) for s in TRANSITIONS[JobStatus(job.status)]}
    if job.status == JobStatus.ON_HOLD and job.status_before_hold:
        allowed.add(f"{JobStatus(job.status_before_hold).label} (resume)")
    return sorted(allowed)


def _check_move(job: SecurityJob, target: JobStatus) -> None:
    if target not in TRANSITIONS[JobStatus(job.status)]:
        raise InvalidTransition(
            current=job.get_status_display(),
            attempted=_STEP_WORDS.get(target, f"moved to {target.label.lower()}"),
            allowed=_allowed_labels(job),
        )


def _check_ready_to_install(job: SecurityJob) -> None:
    """What installation needs besides the right state: consent, approvals, fire safety."""
    if job.landlord_consent_required and job.landlord_consent_at is None:
        raise StepBlocked("The landlord's or owner's consent has not been recorded.")
    approvals = CostApproval.objects.filter(job=job)
    if approvals.filter(status=ApprovalStatus.PENDING).exists():
        raise StepBlocked("A cost approval is waiting for an SPA manager's decision.")
    plan = planned_lines(job)
    total = planned_total(plan)
    policy = sla_policy_for(contract_id=job.contract_id)
    if total > policy.approval_threshold and not _threshold_approved_for(job, total):
        raise StepBlocked(
            f"The planned total £{total:,.2f} is above £{policy.approval_threshold:,.2f} and has "
            "not been approved. Revise the survey or ask the SPA."
        )
    if any(line.measure.affects_escape_routes for line in plan):
        checks = FireSafetyCheck.objects.filter(job=job).order_by("-recorded_at")
        latest = checks.first()
        if latest is None:
            raise StepBlocked(
                "Some measures may affect a means of escape: record a fire-safety check (or a "
                "home fire safety visit) that passes first. An uploaded document is not enough."
            )
        if not FireSafetyOutcome.passes(latest.outcome):
            raise StepBlocked(
                f"The fire-safety check on {latest.carried_out_on:%-d %B %Y} failed: the works "
                "would block a means of escape. Revise the survey so they do not, then record a "
                "new check that passes."
            )


def _threshold_approved_for(job: SecurityJob, total: Decimal) -> bool:
    """An approval (of the total, or of a variation that brought it here) covering ``total``."""
    return CostApproval.objects.filter(
        job=job, status=ApprovalStatus.APPROVED, amount__gte=total
    ).exists()


def _approval_request(
    job: SecurityJob, *, kind: ApprovalKind, amount: Decimal, reason: str, actor: User | None
) -> CostApproval:
    policy = sla_policy_for(contract_id=job.contract_id)
    days = (
        policy.variation_working_days
        if kind == ApprovalKind.VARIATION
        else policy.cost_approval_working_days
    )
    now = timezone.now()
    approval = CostApproval.objects.create(
        job=job,
        kind=kind,
        amount=amount,
        reason=reason,
        requested_by=actor,
        requested_at=now,
        due_at=workdays.due_at(now, workdays.Target(days, workdays.TargetUnit.WORKING_DAYS)),
    )
    _event(
        job,
        f"{kind}_approval_requested",
        f"{approval.get_kind_display()}: approval asked for £{amount:,.2f} ({job.reference})",
        actor=actor,
        approval_id=str(approval.pk),
    )
    return approval


def _check_measures_in_force(measures: Sequence[Measure], day: dt.date) -> None:
    for measure in measures:
        if not measure.is_effective_on(day):
            raise InvalidWorks(
                f"The rate for {measure.code} is not in force on {day:%-d %B %Y}: choose the "
                "current one."
            )


def _deadlines_refresh(job: SecurityJob, *, holds: Sequence[JobHold] | None = None) -> None:
    """Recompute the stored deadlines from the policy, the clock events and the holds."""
    if holds is None:
        holds = list(JobHold.objects.filter(job=job)) if job.pk else []
    pauses: list[workdays.Pause] = [(h.started_at, h.ended_at) for h in holds]
    policy = sla_policy_for(contract_id=job.contract_id)

    def deadline(
        start: dt.datetime | None, stop: dt.datetime | None, target: workdays.Target
    ) -> dt.datetime | None:
        if start is None:
            return None
        relevant = pauses if stop is None else [p for p in pauses if p[0] < stop]
        return workdays.due_at(start, target, relevant)

    hours = workdays.TargetUnit.HOURS
    days = workdays.TargetUnit.WORKING_DAYS
    job.make_safe_due_at = (
        deadline(
            job.allocated_at,
            job.made_safe_at,
            workdays.Target(policy.emergency_make_safe_hours, hours),
        )
        if job.priority == JobPriority.EMERGENCY
        else None
    )
    job.survey_due_at = deadline(
        job.allocated_at, job.surveyed_at, workdays.Target(policy.survey_working_days, days)
    )
    job.installation_due_at = deadline(
        installation_clock_start(job),
        job.installed_at,
        workdays.Target(policy.installation_working_days, days),
    )
    running = [
        (job.make_safe_due_at, job.made_safe_at),
        (job.survey_due_at, job.surveyed_at),
        (job.installation_due_at, job.installed_at),
    ]
    open_deadlines = [due for due, stop in running if due is not None and stop is None]
    job.next_due_at = (
        min(open_deadlines)
        if open_deadlines and job.status not in CLOSED_STATUSES | {JobStatus.ON_HOLD}
        else None
    )


_DEADLINE_FIELDS = ("make_safe_due_at", "survey_due_at", "installation_due_at", "next_due_at")


def _save(job: SecurityJob, *fields: str) -> None:
    _deadlines_refresh(job)
    job.save(update_fields=[*fields, *_DEADLINE_FIELDS])


def _event(
    job: SecurityJob, kind: str, summary: str, *, actor: User | None, **data: Any
) -> CaseEvent:
    return case_event_record(
        case_file=job.case_file,
        kind=f"{EVENT_PREFIX}{kind}",
        summary=summary[:300],
        actor=actor,
        data={"job_id": str(job.pk), "status": job.status, **data},
    )


def _contractor_access_withdraw(job: SecurityJob, *, actor: User | None) -> None:
    """Withdraw the contractor's access to the case and its address, unless another of its jobs
    on the same case is still open."""
    still_open = (
        SecurityJob.objects.filter(case_file_id=job.case_file_id, contractor_id=job.contractor_id)
        .exclude(pk=job.pk)
        .exclude(status__in=CLOSED_STATUSES)
        .exists()
    )
    if still_open:
        return
    for permission in (VIEW_CASEFILE_ADDRESS, WORK_ON_CASEFILE):
        casefile_access_revoke(
            case_file=job.case_file,
            permission=permission,
            revoked_by=actor,
            organisation=job.contractor,
        )


def _when(moment: dt.datetime | None, *, not_before: dt.datetime) -> dt.datetime:
    now = timezone.now()
    moment = moment or now
    if timezone.is_naive(moment):
        raise InvalidWorks("A date and time without a time zone cannot be recorded.")
    if moment > now:
        raise InvalidWorks("This cannot be recorded for a time in the future.")
    if moment < not_before:
        raise InvalidWorks("This cannot be recorded for a time before the previous step.")
    return moment


def _visit_check(
    job: SecurityJob,
    booked_for: dt.datetime,
    arranged_via: str,
    reason: str,
    actor: User | None,
) -> tuple[list[RuleBreach], str]:
    """What the survivor's safe-contact rules say against arranging this visit (the channel it
    was arranged on) and against its time (a visit is contact in person)."""
    if arranged_via and arranged_via not in ContactChannel.values:
        raise InvalidWorks("Choose how the visit was arranged.")
    rules = SafeContactRules.objects.filter(case_file_id=job.case_file_id).first()
    channels = [arranged_via, IN_PERSON] if arranged_via else [IN_PERSON]
    breaches = contact_check(rules, channels=channels, at=booked_for)
    reason = reason.strip() if breaches else ""
    if breaches and (not reason or actor is None):
        raise UnsafeContact(breaches_text(breaches))
    return breaches, reason


def _visit_override(
    event: CaseEvent, actor: User | None, breaches: list[RuleBreach], reason: str
) -> None:
    if reason and actor is not None:
        safe_contact_override_record(
            event=event,
            actor=actor,
            service=ContactService.WORKS,
            breaches=breaches,
            reason=reason,
        )


def _local(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%-d %B %Y %H:%M}"
