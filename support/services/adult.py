"""Writes for adult support cases. Each is one transaction: lock the case, check its state,
write the change and its ``CaseEvent`` (and any access grant) together."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from safer.accounts.models import User
from safer.audit.history import history_context
from safer.casefile.models import CaseFile
from safer.casefile.services import reference_next
from safer.concurrency import version_claim
from safer.organisations.models import Organisation, OrganisationKind, Team
from support.exceptions import InvalidRecord, SupportError
from support.models import (
    AbuseStatus,
    AbuseType,
    AdultStatus,
    AdultSupportCase,
    ClosureReason,
    GoalStatus,
    Handover,
    NeedLevel,
    NeedsArea,
    NeedsAssessment,
    NeedsAssessmentItem,
    OutcomeMeasure,
    SafetyPlan,
    SafetyPlanStatus,
    SessionLog,
    SessionMode,
    SupportAction,
    SupportGoal,
    TimePoint,
)
from support.selectors.closure import adult_exit_measures_missing
from support.selectors.config import provider_suggest, support_policy_for
from support.services import common

ADULT_REFERENCE_PREFIX = "AS"


@transaction.atomic
def adult_support_case_open(
    *,
    case_file: CaseFile,
    opened_by: User | None,
    provider: Organisation | None = None,
    worker: User | None = None,
    team: Team | None = None,
) -> AdultSupportCase:
    """Open an adult support case for the case file's survivor (the SPA's accept decision).

    The provider defaults to the authority's adult support provider; its managers can see the
    case at once (an organisation grant) and allocate it. Given a ``worker``, it is allocated in
    the same transaction.
    """
    with history_context(actor=opened_by, source="adult_support_case_open"):
        case_file = CaseFile.objects.select_for_update().get(pk=case_file.pk)
        if AdultSupportCase.objects.open().filter(case_file=case_file).exists():
            raise SupportError("This case file already has an open adult support case.")
        provider = provider or provider_suggest(
            authority_id=case_file.authority_id, kind=OrganisationKind.ADULT_SUPPORT
        )
        common.check_provider(provider, case_file, OrganisationKind.ADULT_SUPPORT)
        assert provider is not None
        case = AdultSupportCase.objects.create(
            reference=reference_next(prefix=ADULT_REFERENCE_PREFIX),
            case_file=case_file,
            household_id=case_file.household_id,
            authority_id=case_file.authority_id,
            survivor_id=case_file.survivor_id,
            provider=provider,
            opened_by=opened_by,
        )
        common.grant_work(case_file, by=opened_by, organisation=provider)
        common.event(
            case,
            "opened",
            f"{common.case_label(case)} opened with {provider}",
            actor=opened_by,
            provider_id=str(provider.pk),
        )
        if worker is not None:
            case = common.allocate(case, worker=worker, team=team, by=opened_by)
        return case


@transaction.atomic
def adult_support_case_allocate(
    *, case: AdultSupportCase, worker: User, allocated_by: User | None, team: Team | None = None
) -> AdultSupportCase:
    """Allocate a waiting case to a worker (and their team); starts the first-contact clock."""
    with history_context(actor=allocated_by, source="adult_support_case_allocate"):
        return common.allocate(case, worker=worker, team=team, by=allocated_by)


@transaction.atomic
def adult_support_case_transfer(
    *,
    case: AdultSupportCase,
    worker: User,
    transferred_by: User,
    handover_note: str,
    team: Team | None = None,
) -> tuple[AdultSupportCase, Handover]:
    """Re-allocate to another worker of the same provider, with a handover note. The old worker
    loses access to the case file unless another open case there is theirs."""
    with history_context(actor=transferred_by, source="adult_support_case_transfer"):
        return common.transfer(
            case, worker=worker, team=team, by=transferred_by, handover_note=handover_note
        )


@transaction.atomic
def adult_session_record(
    *,
    case: AdultSupportCase,
    occurred_on: dt.date,
    mode: str,
    duration_minutes: int,
    recorded_by: User,
    note: str = "",
    unsafe_channel_reason: str = "",
) -> SessionLog:
    """Log a contact or support session. The first one stops the first-contact clock if no
    contact attempt did; the case becomes active."""
    locked = common.lock(case)
    common.check_allocated(locked, attempted="given a session")
    common.not_in_future(occurred_on, "A session")
    if locked.allocated_at and occurred_on < timezone.localdate(locked.allocated_at):
        raise InvalidRecord("A session cannot be before the case was allocated.")
    if mode not in SessionMode.values:
        raise InvalidRecord("Choose how the session took place.")
    if not 1 <= duration_minutes <= 24 * 60:
        raise InvalidRecord("Give the session's length in minutes.")
    breaches = common.session_breaches(locked, mode=mode, occurred_on=occurred_on)
    reason = common.reason_for(breaches, unsafe_channel_reason)
    session = SessionLog.objects.create(
        adult_case=locked,
        occurred_on=occurred_on,
        mode=mode,
        duration_minutes=duration_minutes,
        note=note.strip(),
        recorded_by=recorded_by,
    )
    fields: list[str] = []
    if locked.first_contact_at is None:
        locked.first_contact_at = common.first_contact_moment(locked, occurred_on)
        fields.append("first_contact_at")
    if locked.review_due_on is None:
        weeks = support_policy_for(authority_id=locked.authority_id).review_interval_weeks
        locked.review_due_on = occurred_on + dt.timedelta(weeks=weeks)
        fields.append("review_due_on")
    if locked.status != AdultStatus.ACTIVE:
        common.check_move(locked, AdultStatus.ACTIVE, attempted="made active")
        locked.status = AdultStatus.ACTIVE
        fields.append("status")
    if fields:
        common.save(locked, *fields)
        common.next_due_refresh(locked)
    recorded = common.event(
        locked,
        "session_recorded",
        f"Session recorded ({session.get_mode_display().lower()}, {duration_minutes} minutes)"
        + (" - against the safe-contact rules, with a reason" if reason else ""),
        actor=recorded_by,
        session_id=str(session.pk),
        occurred_on=occurred_on.isoformat(),
        rules_broken=[b.code for b in breaches] if reason else [],
    )
    common.override_record(locked, recorded, actor=recorded_by, breaches=breaches, reason=reason)
    return session


@dataclass(frozen=True)
class OutcomeScores:
    feeling_safe: int
    quality_of_life: int
    confidence: int
    abuse_types: Sequence[str] = ()
    abuse_status: str = AbuseStatus.NOT_KNOWN
    dash_score: int | None = None
    risk_reduced: bool | None = None


@transaction.atomic
def outcome_measure_record(
    *,
    case: AdultSupportCase,
    time_point: str,
    recorded_on: dt.date,
    scores: OutcomeScores,
    recorded_by: User,
) -> OutcomeMeasure:
    """Record the outcome measures at start, review or close. Review and close need a start to
    compare with; a review sets the next review date."""
    locked = common.lock(case)
    common.check_open(locked, attempted="given outcome measures")
    common.not_in_future(recorded_on, "The date of the measures")
    if time_point not in TimePoint.values:
        raise InvalidRecord("Choose when the measures were taken.")
    existing = set(
        OutcomeMeasure.objects.filter(adult_case=locked).values_list("time_point", flat=True)
    )
    if time_point in (TimePoint.START, TimePoint.CLOSE) and time_point in existing:
        raise InvalidRecord(
            f"Measures at {TimePoint(time_point).label.lower()} are already recorded."
        )
    if time_point != TimePoint.START and TimePoint.START not in existing:
        raise InvalidRecord("Record the measures at the start first.")
    for label, value in (
        ("Feeling safe", scores.feeling_safe),
        ("Quality of life", scores.quality_of_life),
        ("Confidence", scores.confidence),
    ):
        if not 0 <= value <= 10:
            raise InvalidRecord(f"{label} must be a score from 0 to 10.")
    if scores.dash_score is not None and not 0 <= scores.dash_score <= 24:
        raise InvalidRecord("A DASH score is from 0 to 24.")
    unknown = set(scores.abuse_types) - set(AbuseType.values)
    if unknown or scores.abuse_status not in AbuseStatus.values:
        raise InvalidRecord("Choose the abuse types and status from the list.")
    measure = OutcomeMeasure.objects.create(
        adult_case=locked,
        time_point=time_point,
        recorded_on=recorded_on,
        feeling_safe=scores.feeling_safe,
        abuse_types=sorted(set(scores.abuse_types)),
        abuse_status=scores.abuse_status,
        dash_score=scores.dash_score,
        risk_reduced=scores.risk_reduced,
        quality_of_life=scores.quality_of_life,
        confidence=scores.confidence,
        recorded_by=recorded_by,
    )
    if time_point == TimePoint.REVIEW:
        weeks = support_policy_for(authority_id=locked.authority_id).review_interval_weeks
        locked.review_due_on = recorded_on + dt.timedelta(weeks=weeks)
        common.save(locked, "review_due_on")
        common.next_due_refresh(locked)
    common.event(
        locked,
        "outcomes_recorded",
        f"Outcome measures recorded at {measure.get_time_point_display().lower()}",
        actor=recorded_by,
        outcome_measure_id=str(measure.pk),
        time_point=time_point,
    )
    return measure


@dataclass(frozen=True)
class NeedLine:
    area: NeedsArea
    level: str
    note: str = ""


@transaction.atomic
def needs_assessment_record(
    *,
    case: AdultSupportCase,
    assessed_on: dt.date,
    lines: Sequence[NeedLine],
    assessed_by: User,
    summary: str = "",
) -> NeedsAssessment:
    locked = common.lock(case)
    common.check_allocated(locked, attempted="assessed")
    common.not_in_future(assessed_on, "An assessment")
    if not lines:
        raise InvalidRecord("Assess at least one area.")
    if len({line.area.pk for line in lines}) != len(lines):
        raise InvalidRecord("Each area can be assessed once.")
    if any(line.level not in NeedLevel.values for line in lines):
        raise InvalidRecord("Choose a level of need for each area.")
    assessment = NeedsAssessment.objects.create(
        adult_case=locked, assessed_on=assessed_on, assessed_by=assessed_by, summary=summary.strip()
    )
    NeedsAssessmentItem.objects.bulk_create(
        NeedsAssessmentItem(
            assessment=assessment, area=line.area, level=line.level, note=line.note.strip()
        )
        for line in lines
    )
    high = sum(1 for line in lines if line.level == NeedLevel.HIGH)
    common.event(
        locked,
        "needs_assessed",
        f"Needs assessed: {len(lines)} area(s), {high} high",
        actor=assessed_by,
        needs_assessment_id=str(assessment.pk),
        areas={line.area.code: line.level for line in lines},
    )
    return assessment


@transaction.atomic
def safety_plan_record(
    *,
    case: AdultSupportCase,
    agreed_on: dt.date,
    plan: str,
    created_by: User,
    review_due_on: dt.date | None = None,
    expected_version: int | None = None,
) -> SafetyPlan:
    """Agree a safety plan; it replaces the current one. The review date defaults to the
    policy's interval. Replacing the plan is an edit of the case: ``expected_version`` (the
    case's version the worker read) refuses it with ``EditConflict`` when someone else changed
    the plan meanwhile."""
    locked = common.lock(case)
    version_claim(locked, expected=expected_version, by=created_by)
    common.check_allocated(locked, attempted="given a safety plan")
    common.not_in_future(agreed_on, "The date a plan was agreed")
    if not plan.strip():
        raise InvalidRecord("Write the safety plan.")
    if review_due_on is None:
        weeks = support_policy_for(authority_id=locked.authority_id).safety_plan_review_weeks
        review_due_on = agreed_on + dt.timedelta(weeks=weeks)
    if review_due_on <= agreed_on:
        raise InvalidRecord("The review date must be after the date the plan was agreed.")
    replaced = SafetyPlan.objects.filter(adult_case=locked, status=SafetyPlanStatus.ACTIVE).update(
        status=SafetyPlanStatus.SUPERSEDED
    )
    safety_plan = SafetyPlan.objects.create(
        adult_case=locked,
        agreed_on=agreed_on,
        plan=plan.strip(),
        review_due_on=review_due_on,
        created_by=created_by,
    )
    common.next_due_refresh(locked)
    common.event(
        locked,
        "safety_plan_agreed",
        f"Safety plan agreed, review due {review_due_on:%d %b %Y}"
        + (" (replaces the previous plan)" if replaced else ""),
        actor=created_by,
        safety_plan_id=str(safety_plan.pk),
        review_due_on=review_due_on.isoformat(),
    )
    return safety_plan


@transaction.atomic
def safety_plan_review(
    *, plan: SafetyPlan, reviewed_on: dt.date, next_review_on: dt.date, reviewed_by: User
) -> SafetyPlan:
    locked = common.lock(plan.adult_case)
    common.check_allocated(locked, attempted="given a safety plan review")
    current = SafetyPlan.objects.select_for_update().get(pk=plan.pk)
    if current.status != SafetyPlanStatus.ACTIVE:
        raise InvalidRecord("Only the current safety plan can be reviewed.")
    common.not_in_future(reviewed_on, "A review")
    if next_review_on <= reviewed_on:
        raise InvalidRecord("The next review must be after this one.")
    current.last_reviewed_on = reviewed_on
    current.review_due_on = next_review_on
    current.save(update_fields=["last_reviewed_on", "review_due_on"])
    common.next_due_refresh(locked)
    common.event(
        locked,
        "safety_plan_reviewed",
        f"Safety plan reviewed, next review {next_review_on:%d %b %Y}",
        actor=reviewed_by,
        safety_plan_id=str(current.pk),
    )
    return current


@transaction.atomic
def support_goal_add(
    *,
    case: AdultSupportCase,
    description: str,
    created_by: User,
    need_area: NeedsArea | None = None,
) -> SupportGoal:
    locked = common.lock(case)
    common.check_allocated(locked, attempted="given a support goal")
    if not description.strip():
        raise InvalidRecord("Describe the goal.")
    goal = SupportGoal.objects.create(
        adult_case=locked,
        description=description.strip()[:300],
        need_area=need_area,
        created_by=created_by,
    )
    common.event(
        locked,
        "support_goal_added",
        "Support plan goal added" + (f" ({need_area.label})" if need_area else ""),
        actor=created_by,
        support_goal_id=str(goal.pk),
    )
    return goal


@transaction.atomic
def support_goal_set_status(
    *, goal: SupportGoal, status: str, changed_by: User, expected_version: int | None = None
) -> SupportGoal:
    locked = common.lock(goal.adult_case)
    common.check_allocated(locked, attempted="have its plan changed")
    if status not in GoalStatus.values:
        raise InvalidRecord("Choose the goal's status.")
    goal = SupportGoal.objects.select_for_update().get(pk=goal.pk)
    version_claim(goal, expected=expected_version, by=changed_by)
    goal.status = status
    goal.save(update_fields=["status"])
    common.event(
        locked,
        "support_goal_status",
        f"Support plan goal marked: {goal.get_status_display().lower()}",
        actor=changed_by,
        support_goal_id=str(goal.pk),
        status=status,
    )
    return goal


@transaction.atomic
def support_action_add(
    *,
    goal: SupportGoal,
    description: str,
    created_by: User,
    due_on: dt.date | None = None,
    responsible: str = "",
) -> SupportAction:
    locked = common.lock(goal.adult_case)
    common.check_allocated(locked, attempted="given an action")
    if not description.strip():
        raise InvalidRecord("Describe the action.")
    action = SupportAction.objects.create(
        goal=goal,
        description=description.strip()[:300],
        due_on=due_on,
        responsible=responsible.strip()[:120],
    )
    common.next_due_refresh(locked)
    common.event(
        locked,
        "support_action_added",
        "Support plan action added" + (f", due {due_on:%d %b %Y}" if due_on else ""),
        actor=created_by,
        support_action_id=str(action.pk),
    )
    return action


@transaction.atomic
def support_action_complete(
    *, action: SupportAction, done_on: dt.date, completed_by: User
) -> SupportAction:
    locked = common.lock(action.goal.adult_case)
    common.check_allocated(locked, attempted="have an action completed")
    common.not_in_future(done_on, "The date an action was done")
    action = SupportAction.objects.select_for_update().get(pk=action.pk)
    if action.done_on is not None:
        raise InvalidRecord("This action is already done.")
    action.done_on = done_on
    action.save(update_fields=["done_on"])
    common.next_due_refresh(locked)
    common.event(
        locked,
        "support_action_done",
        "Support plan action done",
        actor=completed_by,
        support_action_id=str(action.pk),
    )
    return action


@transaction.atomic
def adult_support_case_close(
    *,
    case: AdultSupportCase,
    reason: ClosureReason,
    exit_outcome: str,
    closed_by: User,
    note: str = "",
    exit_measures_missing_reason: str = "",
) -> AdultSupportCase:
    """Close with a reason code and an exit outcome; sets the retention date. The worker and
    team lose access to the case file unless another open case there is theirs.

    A planned ending needs the outcome measures at exit and a final status for every goal
    (achieved, or no longer a goal), or a reason why they could not be recorded."""
    with history_context(actor=closed_by, source="adult_support_case_close"):
        locked = common.lock(case)
        return common.close(
            locked,
            reason=reason,
            exit_outcome=exit_outcome,
            by=closed_by,
            note=note,
            missing_exit_measures=adult_exit_measures_missing(case=locked),
            exit_measures_missing_reason=exit_measures_missing_reason,
        )
