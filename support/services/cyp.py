"""Writes for children's (CYP) cases: opening, the three service functions, the exit plan, the
child's feedback, safeguarding, closure. GBO and groups have their own modules."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from safer.accounts.models import User
from safer.audit.history import history_context
from safer.casefile.models import CaseFile, HouseholdRole, Person
from safer.casefile.services import casefile_safeguarding_flag_set, reference_next
from safer.concurrency import version_claim
from safer.organisations.models import Organisation, OrganisationKind, Team
from support.exceptions import InvalidRecord, SupportError
from support.models import (
    ClosureReason,
    ConcernCategory,
    ConcernStatus,
    CypCase,
    CypSession,
    CypSource,
    CypStatus,
    ExitOutcome,
    ExitPlan,
    FeedbackMethod,
    GboTimePoint,
    Handover,
    SafeAccommodationType,
    SafeguardingConcern,
    ServiceFunction,
    SessionMode,
    VoiceOfChild,
)
from support.selectors.closure import cyp_exit_measures_missing
from support.selectors.config import provider_suggest, support_policy_for
from support.services import common

CYP_REFERENCE_PREFIX = "CY"


@transaction.atomic
def cyp_case_open(
    *,
    case_file: CaseFile,
    child: Person,
    opened_by: User | None,
    accommodation_type: str = SafeAccommodationType.SANCTUARY,
    source: str = CypSource.SPA,
    provider: Organisation | None = None,
    referring_organisation: Organisation | None = None,
    referred_by: User | None = None,
    worker: User | None = None,
    team: Team | None = None,
) -> CypCase:
    """Open the CYP case of one child of the case file's household (one case per child).

    From the SPA the child lives in the sanctuary property (the default accommodation type);
    a direct referral names its own type. The CYP provider's managers see it at once.
    """
    with history_context(actor=opened_by, source="cyp_case_open"):
        case_file = CaseFile.objects.select_for_update().get(pk=case_file.pk)
        if child.household_id != case_file.household_id or child.household_role != (
            HouseholdRole.CHILD
        ):
            raise SupportError("A CYP case is for a child of the case file's household.")
        if CypCase.objects.filter(child=child).exists():
            raise SupportError("This child already has a CYP case.")
        if accommodation_type not in SafeAccommodationType.values:
            raise InvalidRecord("Choose the type of safe accommodation the child lives in.")
        if source not in CypSource.values:
            raise InvalidRecord("Say where the referral came from.")
        provider = provider or provider_suggest(
            authority_id=case_file.authority_id, kind=OrganisationKind.CYP_SUPPORT
        )
        common.check_provider(provider, case_file, OrganisationKind.CYP_SUPPORT)
        assert provider is not None
        case = CypCase.objects.create(
            reference=reference_next(prefix=CYP_REFERENCE_PREFIX),
            case_file=case_file,
            household_id=case_file.household_id,
            authority_id=case_file.authority_id,
            child=child,
            provider=provider,
            opened_by=opened_by,
            source=source,
            referring_organisation=referring_organisation,
            referred_by=referred_by,
            accommodation_type=accommodation_type,
            lives_in_safe_accommodation=child.lives_at_address,
        )
        common.grant_work(case_file, by=opened_by, organisation=provider)
        common.event(
            case,
            "opened",
            f"{common.case_label(case)} opened with {provider} ({case.get_source_display()})",
            actor=opened_by,
            provider_id=str(provider.pk),
            child_id=str(child.pk),
            source=source,
            accommodation_type=accommodation_type,
        )
        if worker is not None:
            case = common.allocate(case, worker=worker, team=team, by=opened_by)
        return case


@transaction.atomic
def cyp_case_allocate(
    *, case: CypCase, worker: User, allocated_by: User | None, team: Team | None = None
) -> CypCase:
    with history_context(actor=allocated_by, source="cyp_case_allocate"):
        return common.allocate(case, worker=worker, team=team, by=allocated_by)


@transaction.atomic
def cyp_case_transfer(
    *,
    case: CypCase,
    worker: User,
    transferred_by: User,
    handover_note: str,
    team: Team | None = None,
) -> tuple[CypCase, Handover]:
    with history_context(actor=transferred_by, source="cyp_case_transfer"):
        return common.transfer(
            case, worker=worker, team=team, by=transferred_by, handover_note=handover_note
        )


@transaction.atomic
def cyp_referral_review(
    *,
    case: CypCase,
    lives_in_safe_accommodation: bool,
    accommodation_type: str,
    reviewed_by: User,
    expected_version: int | None = None,
) -> CypCase:
    """Support coordination: review the referral and record the child's eligibility (living in
    safe accommodation, of which type). An ineligible child's case is then closed with a reason."""
    locked = common.lock(case)
    version_claim(locked, expected=expected_version, by=reviewed_by)
    common.check_open(locked, attempted="reviewed")
    if accommodation_type not in SafeAccommodationType.values:
        raise InvalidRecord("Choose the type of safe accommodation the child lives in.")
    locked.lives_in_safe_accommodation = lives_in_safe_accommodation
    locked.accommodation_type = accommodation_type
    locked.referral_reviewed_at = timezone.now()
    locked.referral_reviewed_by = reviewed_by
    common.save(
        locked,
        "lives_in_safe_accommodation",
        "accommodation_type",
        "referral_reviewed_at",
        "referral_reviewed_by",
    )
    common.event(
        locked,
        "referral_reviewed",
        "Referral reviewed: "
        + ("eligible" if lives_in_safe_accommodation else "not living in safe accommodation")
        + f" ({locked.get_accommodation_type_display().lower()})",
        actor=reviewed_by,
        eligible=lives_in_safe_accommodation,
        accommodation_type=accommodation_type,
    )
    return locked


@transaction.atomic
def cyp_case_function_set(
    *, case: CypCase, status: str, changed_by: User, expected_version: int | None = None
) -> CypCase:
    """Move between participation and engagement (keeping in touch until the child is ready)
    and therapeutic work."""
    if status not in (CypStatus.ENGAGEMENT, CypStatus.THERAPEUTIC):
        raise InvalidRecord("Choose engagement or therapeutic work.")
    locked = common.lock(case)
    version_claim(locked, expected=expected_version, by=changed_by)
    label = CypStatus(status).label
    common.check_move(locked, status, attempted=f"moved to {label.lower()}")
    if status == CypStatus.THERAPEUTIC and not locked.lives_in_safe_accommodation:
        raise InvalidRecord("The child is not recorded as living in safe accommodation.")
    locked.status = status
    common.save(locked, "status")
    common.event(
        locked, "function_changed", f"Now: {label.lower()}", actor=changed_by, status=status
    )
    return locked


@transaction.atomic
def cyp_session_record(
    *,
    case: CypCase,
    function: str,
    occurred_on: dt.date,
    mode: str,
    duration_minutes: int,
    recorded_by: User,
    note: str = "",
    unsafe_channel_reason: str = "",
) -> CypSession:
    """Record work under one of the three functions. One-to-one therapeutic sessions need the
    case to be in therapeutic work."""
    locked = common.lock(case)
    common.check_allocated(locked, attempted="given a session")
    if function not in ServiceFunction.values:
        raise InvalidRecord("Choose the service function.")
    if function == ServiceFunction.THERAPEUTIC and locked.status != CypStatus.THERAPEUTIC:
        raise InvalidRecord("Move the case to therapeutic work before recording a therapy session.")
    common.not_in_future(occurred_on, "A session")
    if locked.allocated_at and occurred_on < timezone.localdate(locked.allocated_at):
        raise InvalidRecord("A session cannot be before the case was allocated.")
    if mode not in SessionMode.values:
        raise InvalidRecord("Choose how the session took place.")
    if not 1 <= duration_minutes <= 24 * 60:
        raise InvalidRecord("Give the session's length in minutes.")
    breaches = common.session_breaches(locked, mode=mode, occurred_on=occurred_on)
    reason = common.reason_for(breaches, unsafe_channel_reason)
    session = CypSession.objects.create(
        cyp_case=locked,
        function=function,
        occurred_on=occurred_on,
        mode=mode,
        duration_minutes=duration_minutes,
        note=note.strip(),
        recorded_by=recorded_by,
    )
    fields: list[str] = []
    if function != ServiceFunction.COORDINATION and locked.first_contact_at is None:
        locked.first_contact_at = common.first_contact_moment(locked, occurred_on)
        fields.append("first_contact_at")
        if locked.review_due_on is None:
            weeks = support_policy_for(authority_id=locked.authority_id).review_interval_weeks
            locked.review_due_on = occurred_on + dt.timedelta(weeks=weeks)
            fields.append("review_due_on")
    if locked.status == CypStatus.ALLOCATED and function == ServiceFunction.ENGAGEMENT:
        locked.status = CypStatus.ENGAGEMENT
        fields.append("status")
    if fields:
        common.save(locked, *fields)
        common.next_due_refresh(locked)
    recorded = common.event(
        locked,
        "session_recorded",
        f"{session.get_function_display()} session recorded "
        f"({session.get_mode_display().lower()}, {duration_minutes} minutes)"
        + (" - against the safe-contact rules, with a reason" if reason else ""),
        actor=recorded_by,
        session_id=str(session.pk),
        function=function,
        occurred_on=occurred_on.isoformat(),
        rules_broken=[b.code for b in breaches] if reason else [],
    )
    common.override_record(locked, recorded, actor=recorded_by, breaches=breaches, reason=reason)
    return session


@transaction.atomic
def exit_plan_record(
    *,
    case: CypCase,
    planned_end_on: dt.date,
    plan: str,
    agreed_with_child: bool,
    recorded_by: User,
    expected_version: int | None = None,
) -> ExitPlan:
    """Set (or revise) how therapeutic work will end: an edit of the case (``EditConflict`` when
    ``expected_version`` is stale)."""
    locked = common.lock(case)
    version_claim(locked, expected=expected_version, by=recorded_by)
    common.check_allocated(locked, attempted="given an exit plan")
    if not plan.strip():
        raise InvalidRecord("Write the exit plan.")
    exit_plan, created = ExitPlan.objects.update_or_create(
        cyp_case=locked,
        defaults={
            "planned_end_on": planned_end_on,
            "plan": plan.strip(),
            "agreed_with_child": agreed_with_child,
            "updated_at": timezone.now(),
            "updated_by": recorded_by,
        },
    )
    common.next_due_refresh(locked)
    common.event(
        locked,
        "exit_plan_set" if created else "exit_plan_revised",
        f"Exit plan {'agreed' if created else 'revised'}: planned end {planned_end_on:%d %b %Y}",
        actor=recorded_by,
        exit_plan_id=str(exit_plan.pk),
        agreed_with_child=agreed_with_child,
    )
    return exit_plan


@transaction.atomic
def voice_of_child_record(
    *,
    case: CypCase,
    collected_on: dt.date,
    time_point: str,
    method: str,
    recorded_by: User,
    what_helped: str = "",
    what_could_be_better: str = "",
    in_their_words: str = "",
) -> VoiceOfChild:
    """Participation and engagement: the child's feedback, in their own words."""
    locked = common.lock(case)
    common.check_open(locked, attempted="given feedback")
    common.not_in_future(collected_on, "Feedback")
    if time_point not in GboTimePoint.values or method not in FeedbackMethod.values:
        raise InvalidRecord("Choose when and how the feedback was gathered.")
    texts = [t.strip() for t in (what_helped, what_could_be_better, in_their_words)]
    if not any(texts):
        raise InvalidRecord("Write down what the child said.")
    feedback = VoiceOfChild.objects.create(
        cyp_case=locked,
        collected_on=collected_on,
        time_point=time_point,
        method=method,
        what_helped=texts[0],
        what_could_be_better=texts[1],
        in_their_words=texts[2],
        recorded_by=recorded_by,
    )
    common.event(
        locked,
        "feedback_recorded",
        f"The child's feedback recorded ({feedback.get_time_point_display().lower()})",
        actor=recorded_by,
        feedback_id=str(feedback.pk),
    )
    return feedback


@transaction.atomic
def safeguarding_concern_record(
    *,
    case: CypCase,
    raised_on: dt.date,
    category: str,
    details: str,
    raised_by: User,
    immediate_action: str = "",
) -> SafeguardingConcern:
    """Record a safeguarding concern. The case file's safeguarding flag is raised, so every case
    page of the household shows it at the top."""
    locked = common.lock(case)
    common.check_open(locked, attempted="given a safeguarding concern")
    common.not_in_future(raised_on, "A concern")
    if category not in ConcernCategory.values:
        raise InvalidRecord("Choose the kind of concern.")
    if not details.strip():
        raise InvalidRecord("Describe the concern.")
    concern = SafeguardingConcern.objects.create(
        cyp_case=locked,
        raised_on=raised_on,
        category=category,
        details=details.strip(),
        immediate_action=immediate_action.strip(),
        raised_by=raised_by,
    )
    casefile_safeguarding_flag_set(
        case_file=locked.case_file, actor=raised_by, reason_code="cyp_safeguarding_concern"
    )
    common.event(
        locked,
        "safeguarding_concern",
        f"Safeguarding concern recorded ({concern.get_category_display().lower()})",
        actor=raised_by,
        concern_id=str(concern.pk),
        category=category,
    )
    return concern


@transaction.atomic
def safeguarding_referral_record(
    *,
    concern: SafeguardingConcern,
    referred_on: dt.date,
    recorded_by: User,
    reference: str = "",
    outcome: str = "",
) -> SafeguardingConcern:
    """Record the referral made to children's social care for a concern."""
    common.lock(concern.cyp_case)
    concern = SafeguardingConcern.objects.select_for_update().get(pk=concern.pk)
    if concern.status != ConcernStatus.OPEN:
        raise InvalidRecord("This concern is closed.")
    common.not_in_future(referred_on, "A referral")
    if referred_on < concern.raised_on:
        raise InvalidRecord("The referral cannot be before the concern was raised.")
    concern.social_care_referred_on = referred_on
    concern.social_care_reference = reference.strip()[:60]
    concern.social_care_outcome = outcome.strip()
    concern.save(
        update_fields=["social_care_referred_on", "social_care_reference", "social_care_outcome"]
    )
    common.event(
        concern.cyp_case,
        "safeguarding_referral",
        f"Referral to children's social care recorded ({referred_on:%d %b %Y})",
        actor=recorded_by,
        concern_id=str(concern.pk),
    )
    return concern


@transaction.atomic
def cyp_case_close(
    *,
    case: CypCase,
    reason: ClosureReason,
    exit_outcome: str,
    closed_by: User,
    note: str = "",
    exit_measures_missing_reason: str = "",
) -> CypCase:
    """Close the child's case. A planned ending after therapeutic work needs its exit plan; any
    planned ending needs an end score for every goal (GBO), or a reason why they could not be
    recorded. Records are kept at least until the child's 25th birthday (configurable)."""
    with history_context(actor=closed_by, source="cyp_case_close"):
        locked = common.lock(case)
        planned = exit_outcome != ExitOutcome.UNPLANNED
        had_therapy = locked.sessions.filter(function=ServiceFunction.THERAPEUTIC).exists()
        if planned and had_therapy and not ExitPlan.objects.filter(cyp_case=locked).exists():
            raise InvalidRecord("Record the exit plan before a planned ending of therapeutic work.")
        child = Person.objects.only("date_of_birth").get(pk=locked.child_id)
        return common.close(
            locked,
            reason=reason,
            exit_outcome=exit_outcome,
            by=closed_by,
            note=note,
            child_date_of_birth=child.date_of_birth,
            missing_exit_measures=cyp_exit_measures_missing(case=locked),
            exit_measures_missing_reason=exit_measures_missing_reason,
        )
