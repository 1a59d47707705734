"""What the adult and CYP services share: locking, the transition check, case events, access
grants, allocation, transfer, contact attempts and closure.

Every public function here is called inside a service's transaction; each change writes its
``CaseEvent`` (codes and ids, staff names, never a note) in that same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, TypeVar, overload

from django.db import transaction
from django.utils import timezone

from safer import workdays
from safer.access.roles import user_has_role
from safer.access.scoping import user_authority_ids
from safer.access.services import casefile_access_grant, casefile_access_revoke
from safer.accounts.models import User
from safer.casefile.contact import IN_PERSON, RuleBreach, breaches_text, contact_check
from safer.casefile.models import (
    WORK_ON_CASEFILE,
    CaseEvent,
    CaseFile,
    ContactChannel,
    ContactService,
    SafeContactRules,
)
from safer.casefile.services import case_event_record, safe_contact_override_record
from safer.organisations.models import Organisation, Team
from support.access import worker_role_for
from support.exceptions import (
    ExitMeasuresMissing,
    InvalidRecord,
    InvalidTransition,
    SupportError,
    UnsafeChannel,
)
from support.models import (
    ADULT_ALLOCATED_STATES,
    ADULT_TRANSITIONS,
    CYP_ALLOCATED_STATES,
    CYP_TRANSITIONS,
    AdultStatus,
    AdultSupportCase,
    ClosureReason,
    ContactAttempt,
    ContactOutcome,
    CypCase,
    CypStatus,
    ExitOutcome,
    Handover,
    SessionMode,
)
from support.models.due import next_due_expression
from support.selectors.config import support_policy_for

C = TypeVar("C", AdultSupportCase, CypCase)

ALLOCATED = "allocated"
CLOSED = "closed"


# --- Basics -------------------------------------------------------------------------------------


@overload
def lock(case: AdultSupportCase) -> AdultSupportCase: ...
@overload
def lock(case: CypCase) -> CypCase: ...
@overload
def lock(case: AdultSupportCase | CypCase) -> AdultSupportCase | CypCase: ...
def lock(case: AdultSupportCase | CypCase) -> AdultSupportCase | CypCase:
    """Re-read the case under a row lock: two workers acting at once are serialised here."""
    locked: AdultSupportCase | CypCase = (
        type(case)
        .objects.select_related("case_file")
        .select_for_update(of=("self",))
        .get(pk=case.pk)
    )
    return locked


def is_cyp(case: AdultSupportCase | CypCase) -> bool:
    return isinstance(case, CypCase)


def transitions(case: AdultSupportCase | CypCase) -> dict[str, frozenset[str]]:
    return CYP_TRANSITIONS if is_cyp(case) else ADULT_TRANSITIONS


def allocated_states(case: AdultSupportCase | CypCase) -> frozenset[str]:
    return CYP_ALLOCATED_STATES if is_cyp(case) else ADULT_ALLOCATED_STATES


def status_label(case: AdultSupportCase | CypCase, status: str) -> str:
    choices = CypStatus if is_cyp(case) else AdultStatus
    return str(choices(status).label)


def check_move(case: AdultSupportCase | CypCase, to: str, *, attempted: str) -> None:
    allowed = transitions(case)[case.status]
    if to not in allowed:
        raise InvalidTransition(
            current=case.get_status_display(),
            attempted=attempted,
            allowed=[status_label(case, s) for s in allowed],
        )


def check_allocated(case: AdultSupportCase | CypCase, *, attempted: str) -> None:
    """The case has a worker and is open (contact, sessions, plans, transfer)."""
    if case.status not in allocated_states(case):
        allowed = [status_label(case, s) for s in transitions(case)[case.status]]
        raise InvalidTransition(
            current=case.get_status_display(), attempted=attempted, allowed=allowed
        )


def check_open(case: AdultSupportCase | CypCase, *, attempted: str) -> None:
    if case.status == CLOSED:
        raise InvalidTransition(current=case.get_status_display(), attempted=attempted)


def case_label(case: AdultSupportCase | CypCase) -> str:
    return f"{'CYP case' if is_cyp(case) else 'Adult support case'} {case.reference}"


def event(
    case: AdultSupportCase | CypCase, kind: str, summary: str, *, actor: User | None, **data: Any
) -> CaseEvent:
    """A case event on the shared timeline. Read by every service on the case: no notes."""
    prefix = "cyp." if is_cyp(case) else "adult_support."
    return case_event_record(
        case_file=case.case_file,
        kind=f"{prefix}{kind}",
        summary=summary,
        actor=actor,
        data={"support_case_id": str(case.pk), "reference": case.reference, **data},
    )


def save(case: AdultSupportCase | CypCase, *fields: str) -> None:
    case.save(update_fields=list(fields))


def next_due_refresh(case: AdultSupportCase | CypCase) -> None:
    """Store the case's next due date (``support.models.due``) after a service moved one of its
    clocks: first contact, the case review, a safety plan, an action, the exit plan, closure.

    Called inside the service's transaction, after its writes and with the case row locked
    (``lock``), so the computation sees every committed clock and no other service can move
    one until the transaction ends. Writes only when the date changed; the in-memory case gets
    the stored date. A writer that forgets to call this leaves the caseload mis-sorted until
    the nightly ``next_due_repair`` (which logs it): the tests compare the two after each
    service."""
    model = type(case)
    stored, computed = (
        model.objects.filter(pk=case.pk)
        .annotate(computed=next_due_expression(model))
        .values_list("next_due_on", "computed")
        .get()
    )
    if stored != computed:
        model.objects.filter(pk=case.pk).update(next_due_on=computed)
    case.next_due_on = computed


def not_in_future(day: dt.date, what: str) -> dt.date:
    if day > timezone.localdate():
        raise InvalidRecord(f"{what} cannot be in the future.")
    return day


def first_contact_moment(case: AdultSupportCase | CypCase, day: dt.date) -> dt.datetime:
    """A contact known only by its date: the start of that day, never before the allocation."""
    moment = dt.datetime.combine(day, dt.time.min, tzinfo=workdays.LOCAL_TZ)
    if case.allocated_at is not None:
        moment = max(moment, case.allocated_at)
    return moment


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28)


# --- Access -------------------------------------------------------------------------------------


def grant_work(
    case_file: CaseFile,
    *,
    by: User | None,
    user: User | None = None,
    team: Team | None = None,
    organisation: Organisation | None = None,
) -> None:
    casefile_access_grant(
        case_file=case_file,
        permission=WORK_ON_CASEFILE,
        granted_by=by,
        user=user,
        team=team,
        organisation=organisation,
    )


def revoke_work_if_unused(
    case: AdultSupportCase | CypCase,
    *,
    by: User | None,
    user_id: Any = None,
    team_id: Any = None,
) -> None:
    """Withdraw a worker's (or team's) access to the case file unless another open support case
    on it still needs it (a sibling's CYP case, the parent's adult case)."""
    if user_id is None and team_id is None:
        return
    field, value = ("allocated_worker_id", user_id) if user_id is not None else ("team_id", team_id)
    still_needed = any(
        model.objects.open()
        .filter(case_file_id=case.case_file_id, **{field: value})
        .exclude(pk=case.pk)
        .exists()
        for model in (AdultSupportCase, CypCase)
    )
    if still_needed:
        return
    holder: dict[str, Any] = (
        {"user": User.objects.get(pk=user_id)}
        if user_id is not None
        else {"team": Team.objects.get(pk=team_id)}
    )
    casefile_access_revoke(
        case_file=case.case_file, permission=WORK_ON_CASEFILE, revoked_by=by, **holder
    )


def check_worker(case: AdultSupportCase | CypCase, worker: User, team: Team | None) -> Team | None:
    """The worker must be active, on the case's provider, hold the service's role and work for
    the case's authority; the team (default: the worker's) must be the provider's."""
    role = worker_role_for(type(case))
    if not worker.is_active or worker.organisation_id != case.provider_id:
        raise SupportError(f"{worker.full_name} is not an active member of {case.provider}.")
    if not user_has_role(worker, role):
        raise SupportError(f"{worker.full_name} does not have the {role.label} role.")
    if case.authority_id not in user_authority_ids(worker):
        raise SupportError(f"{worker.full_name} does not work for {case.authority}.")
    team = team if team is not None else worker.team
    if team is not None and team.organisation_id != case.provider_id:
        raise SupportError(f"{team.name} is not a team of {case.provider}.")
    return team


def check_provider(provider: Organisation | None, case_file: CaseFile, kind: str) -> None:
    if provider is None:
        raise SupportError(f"No active provider of this service works for {case_file.authority}.")
    if provider.kind != kind or not provider.is_active:
        raise SupportError(f"{provider} does not provide this service.")
    if not provider.authorities.filter(pk=case_file.authority_id).exists():
        raise SupportError(f"{provider} does not work for {case_file.authority}.")


# --- Shared transitions -------------------------------------------------------------------------


def allocate(case: C, *, worker: User, team: Team | None, by: User | None) -> C:
    locked = lock(case)
    check_move(locked, ALLOCATED, attempted="allocated")
    team = check_worker(locked, worker, team)
    now = timezone.now()
    policy = support_policy_for(authority_id=locked.authority_id)
    days = policy.cyp_contact_working_days if is_cyp(locked) else policy.adult_contact_working_days
    locked.allocated_worker = worker
    locked.team = team
    locked.allocated_at = now
    locked.first_contact_due_on = workdays.due_date(workdays.local_date(now), days)
    locked.status = ALLOCATED
    save(locked, "allocated_worker", "team", "allocated_at", "first_contact_due_on", "status")
    next_due_refresh(locked)
    grant_work(locked.case_file, by=by, user=worker)
    if team is not None:
        grant_work(locked.case_file, by=by, team=team)
    event(
        locked,
        "allocated",
        f"{case_label(locked)} allocated to {worker.full_name}"
        + (f" ({team.name})" if team else ""),
        actor=by,
        worker_id=str(worker.pk),
        team_id=str(team.pk) if team else None,
        first_contact_due_on=locked.first_contact_due_on.isoformat()
        if locked.first_contact_due_on
        else None,
    )
    return locked


def transfer(
    case: C, *, worker: User, team: Team | None, by: User, handover_note: str
) -> tuple[C, Handover]:
    locked = lock(case)
    check_allocated(locked, attempted="transferred")
    note = handover_note.strip()
    if not note:
        raise InvalidRecord("Write a handover note for the new worker.")
    if worker.pk == locked.allocated_worker_id:
        raise InvalidRecord(f"The case is already allocated to {worker.full_name}.")
    team = check_worker(locked, worker, team)
    old_worker_id, old_team_id = locked.allocated_worker_id, locked.team_id
    locked.allocated_worker = worker
    locked.team = team
    save(locked, "allocated_worker", "team")
    handover = Handover.objects.create(
        **{"cyp_case" if is_cyp(locked) else "adult_case": locked},
        from_worker_id=old_worker_id,
        to_worker=worker,
        note=note,
        handed_over_by=by,
    )
    grant_work(locked.case_file, by=by, user=worker)
    if team is not None:
        grant_work(locked.case_file, by=by, team=team)
    revoke_work_if_unused(locked, by=by, user_id=old_worker_id)
    if old_team_id is not None and old_team_id != locked.team_id:
        revoke_work_if_unused(locked, by=by, team_id=old_team_id)
    event(
        locked,
        "transferred",
        f"{case_label(locked)} transferred to {worker.full_name} with a handover note",
        actor=by,
        from_worker_id=str(old_worker_id) if old_worker_id else None,
        to_worker_id=str(worker.pk),
        handover_id=str(handover.pk),
    )
    return locked, handover


def close(
    case: C,
    *,
    reason: ClosureReason,
    exit_outcome: str,
    by: User,
    note: str = "",
    child_date_of_birth: dt.date | None = None,
    missing_exit_measures: Sequence[str] = (),
    exit_measures_missing_reason: str = "",
) -> C:
    """Close the case (the caller has locked it and worked out ``missing_exit_measures``).

    A planned ending (any exit outcome but "unplanned") with exit measures missing needs a
    reason why they could not be recorded; the reason is kept on the case."""
    locked = lock(case)
    check_move(locked, CLOSED, attempted="closed")
    if not reason.is_active:
        raise InvalidRecord("That closure reason is no longer in use.")
    note = note.strip()
    if reason.requires_note and not note:
        raise InvalidRecord(f"Add a note to explain “{reason.label}”.")
    if exit_outcome not in ExitOutcome.values:
        raise InvalidRecord("Choose an exit outcome.")
    missing_reason = exit_measures_missing_reason.strip()
    planned = exit_outcome != ExitOutcome.UNPLANNED
    if planned and missing_exit_measures and not missing_reason:
        raise ExitMeasuresMissing(missing_exit_measures)
    if not (planned and missing_exit_measures):
        missing_reason = ""  # nothing was missing: no reason to keep
    now = timezone.now()
    policy = support_policy_for(authority_id=locked.authority_id)
    retain = add_years(timezone.localdate(now), policy.retention_years)
    if child_date_of_birth is not None:
        retain = max(retain, add_years(child_date_of_birth, policy.cyp_retain_until_age))
    old_worker_id, old_team_id = locked.allocated_worker_id, locked.team_id
    locked.status = CLOSED
    locked.closed_at = now
    locked.closure_reason = reason
    locked.exit_outcome = exit_outcome
    locked.closure_note = note
    locked.closed_by = by
    locked.exit_measures_missing_reason = missing_reason
    locked.retention_until = retain
    save(
        locked,
        "status",
        "closed_at",
        "closure_reason",
        "exit_outcome",
        "closure_note",
        "closed_by",
        "exit_measures_missing_reason",
        "retention_until",
    )
    next_due_refresh(locked)
    # Workers lose the case with its closure; the provider's managers keep it (organisation grant).
    revoke_work_if_unused(locked, by=by, user_id=old_worker_id)
    revoke_work_if_unused(locked, by=by, team_id=old_team_id)
    event(
        locked,
        "closed",
        f"{case_label(locked)} closed: {reason.label} ({ExitOutcome(exit_outcome).label.lower()})",
        actor=by,
        closure_reason=reason.code,
        exit_outcome=exit_outcome,
        retention_until=retain.isoformat(),
        exit_measures_missing=bool(missing_reason),
    )
    return locked


# --- Contact --------------------------------------------------------------------------------------


@transaction.atomic
def contact_attempt_record(
    *,
    case: AdultSupportCase | CypCase,
    channel: str,
    outcome: str,
    recorded_by: User,
    attempted_at: dt.datetime | None = None,
    unsafe_channel_reason: str = "",
    note: str = "",
) -> ContactAttempt:
    """Record an attempt to reach the survivor (or a child's parent or carer).

    Anything the safe-contact rule (``safer.casefile.contact``) says against it (the channel,
    a message left on voicemail, the time) raises ``UnsafeChannel`` (the warnings) unless the
    worker gives a reason for going ahead; the reason is kept as a ``SafeContactOverride``.
    The first successful contact stops the first-contact clock and moves the case on (adult:
    in contact; CYP: engagement).
    """
    locked = lock(case)
    check_allocated(locked, attempted="contacted")
    if outcome not in ContactOutcome.values:
        raise InvalidRecord("Choose what happened.")
    now = timezone.now()
    when = attempted_at or now
    if when > now:
        raise InvalidRecord("A contact attempt cannot be in the future.")
    if locked.allocated_at is not None and when < locked.allocated_at:
        raise InvalidRecord("A contact attempt cannot be before the case was allocated.")
    rules = SafeContactRules.objects.filter(case_file_id=locked.case_file_id).first()
    breaches = contact_check(
        rules,
        channels=[channel],
        at=when,
        leaves_message=channel == ContactChannel.PHONE and outcome == ContactOutcome.MESSAGE_LEFT,
    )
    reason = reason_for(breaches, unsafe_channel_reason)
    attempt = ContactAttempt.objects.create(
        **{"cyp_case" if is_cyp(locked) else "adult_case": locked},
        attempted_at=when,
        channel=channel,
        outcome=outcome,
        unsafe_channel_reason=reason[:300],
        note=note.strip(),
        recorded_by=recorded_by,
    )
    fields: list[str] = []
    if outcome == ContactOutcome.CONTACTED and locked.first_contact_at is None:
        locked.first_contact_at = when
        fields.append("first_contact_at")
        if locked.review_due_on is None:
            policy = support_policy_for(authority_id=locked.authority_id)
            locked.review_due_on = workdays.local_date(when) + dt.timedelta(
                weeks=policy.review_interval_weeks
            )
            fields.append("review_due_on")
        if locked.status == ALLOCATED:
            locked.status = CypStatus.ENGAGEMENT if is_cyp(locked) else AdultStatus.IN_CONTACT
            fields.append("status")
    if fields:
        save(locked, *fields)
        next_due_refresh(locked)
    recorded = event(
        locked,
        "contact_attempt",
        f"Contact attempt ({attempt.get_channel_display().lower()}): "
        f"{attempt.get_outcome_display().lower()}"
        + (" - against the safe-contact rules, with a reason" if reason else ""),
        actor=recorded_by,
        contact_attempt_id=str(attempt.pk),
        channel=channel,
        outcome=outcome,
        unsafe_channel=bool(reason),
        rules_broken=[b.code for b in breaches] if reason else [],
    )
    override_record(locked, recorded, actor=recorded_by, breaches=breaches, reason=reason)
    return attempt


# The channels of the safe-contact rules a session's mode used. "Text or email" does not say
# which: both must be marked safe, or the worker gives a reason. Group work and school sessions
# do not reach the survivor through their own channels.
SESSION_MODE_CHANNELS: dict[str, tuple[str, ...]] = {
    SessionMode.PHONE: (ContactChannel.PHONE,),
    SessionMode.VIDEO: (ContactChannel.PHONE,),
    SessionMode.MESSAGE: (ContactChannel.TEXT, ContactChannel.EMAIL),
    SessionMode.FACE_TO_FACE: (IN_PERSON,),
    SessionMode.GROUP: (),
    SessionMode.SCHOOL: (),
}


def session_breaches(
    case: AdultSupportCase | CypCase, *, mode: str, occurred_on: dt.date
) -> list[RuleBreach]:
    """What the safe-contact rules say against a session (its date only: days, not hours)."""
    channels = SESSION_MODE_CHANNELS.get(mode, ())
    if not channels:
        return []
    rules = SafeContactRules.objects.filter(case_file_id=case.case_file_id).first()
    return contact_check(rules, channels=channels, on_day=occurred_on)


def reason_for(breaches: list[RuleBreach], given: str) -> str:
    """The worker's reason for going against the rules; ``UnsafeChannel`` (the warnings) when
    the rules say something against the contact and no reason was given."""
    reason = given.strip() if breaches else ""
    if breaches and not reason:
        raise UnsafeChannel(breaches_text(breaches))
    return reason


def override_record(
    case: AdultSupportCase | CypCase,
    recorded: CaseEvent,
    *,
    actor: User,
    breaches: list[RuleBreach],
    reason: str,
) -> None:
    if reason:
        safe_contact_override_record(
            event=recorded,
            actor=actor,
            service=ContactService.CYP if is_cyp(case) else ContactService.ADULT,
            breaches=breaches,
            reason=reason,
        )
