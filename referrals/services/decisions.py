"""Triage transitions. Each one locks the referral, checks the states it may leave, changes it,
and writes the timeline event in the same transaction (pghistory records the before/after).

Two workers deciding at once: the second waits on the row lock, then finds the referral no
longer in an allowed state and gets ``InvalidTransition``; exactly one decision stands.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from referrals.exceptions import InvalidTransition, ReferralError
from referrals.models import (
    DeclineReason,
    MatchStatus,
    Referral,
    ReferralHold,
    ReferralMatch,
    ReferralStatus,
    RiskLevel,
)
from referrals.sla import spa_policy_for, triage_due_at
from safer.accounts.models import User
from safer.audit.history import history_context
from safer.casefile.models import CaseEvent, CaseFile, CaseStatus, HouseholdRole, Person
from safer.casefile.services import case_event_record
from safer.concurrency import version_claim
from safer.organisations.models import Organisation
from safer.workdays import Pause
from security_works.exceptions import SecurityWorksError
from security_works.models import JobPriority, SecurityJob
from security_works.services import security_job_allocate
from support.exceptions import SupportError
from support.models import AdultSupportCase, CypCase
from support.services import adult_support_case_open, cyp_case_open

OPEN = (
    ReferralStatus.RECEIVED,
    ReferralStatus.IN_TRIAGE,
    ReferralStatus.AWAITING_INFORMATION,
)


def _lock(referral: Referral, *, allowed: Collection[str], doing: str) -> Referral:
    """Lock the row and check its state *after* the lock: the state seen before may be stale."""
    locked = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("case_file")
        .get(pk=referral.pk)
    )
    if locked.status not in allowed:
        raise InvalidTransition(
            f"This referral is now {locked.get_status_display().lower()}, so it cannot be "
            f"{doing}. Reload the page to see its current state."
        )
    return locked


def _event(referral: Referral, user: User, kind: str, summary: str, **data: Any) -> CaseEvent:
    return case_event_record(
        case_file=referral.case_file,
        kind=kind,
        summary=summary,
        actor=user,
        data={"referral_id": str(referral.id), **data},
    )


def referral_pauses(referral: Referral) -> list[Pause]:
    return [(hold.started_at, hold.ended_at) for hold in referral.holds.all()]


def _end_open_hold(referral: Referral) -> None:
    ReferralHold.objects.filter(referral=referral, ended_at__isnull=True).update(
        ended_at=timezone.now()
    )


@transaction.atomic
def referral_triage_start(*, referral: Referral, user: User) -> Referral:
    with history_context(actor=user, source="referral_triage_start"):
        locked = _lock(referral, allowed=[ReferralStatus.RECEIVED], doing="taken into triage")
        locked.status = ReferralStatus.IN_TRIAGE
        locked.triage_started_at = timezone.now()
        locked.triage_worker = user
        locked.save(update_fields=["status", "triage_started_at", "triage_worker"])
        _event(locked, user, "referral_triage_started", "Triage started")
        return locked


@transaction.atomic
def referral_eligibility_record(
    *,
    referral: Referral,
    user: User,
    answers: Mapping[str, bool | None],
    expected_version: int | None = None,
) -> Referral:
    """Record the eligibility checklist (each item yes, no or not yet checked); ``EditConflict``
    when ``expected_version`` is stale."""
    unknown = set(answers) - set(Referral.ELIGIBILITY_FIELDS)
    if unknown:
        raise ReferralError("Unknown eligibility item.")
    with history_context(actor=user, source="referral_eligibility_record"):
        locked = _lock(referral, allowed=OPEN, doing="checked for eligibility")
        version_claim(locked, expected=expected_version, by=user)
        for name, value in answers.items():
            setattr(locked, name, value)
        locked.eligibility_checked_at = timezone.now()
        locked.eligibility_checked_by = user
        locked.save(update_fields=[*answers, "eligibility_checked_at", "eligibility_checked_by"])
        _event(
            locked,
            user,
            "referral_eligibility_checked",
            "Eligibility checklist recorded",
            eligible=locked.eligible,
            complete=locked.eligibility_complete,
        )
        return locked


@transaction.atomic
def referral_request_information(*, referral: Referral, user: User, reason: str) -> Referral:
    """Ask for more information: the triage clock pauses until it arrives."""
    if not reason.strip():
        raise ReferralError("Say what information is needed and from whom.")
    with history_context(actor=user, source="referral_request_information"):
        locked = _lock(
            referral,
            allowed=[ReferralStatus.RECEIVED, ReferralStatus.IN_TRIAGE],
            doing="put on hold for information",
        )
        ReferralHold.objects.create(referral=locked, reason=reason.strip(), requested_by=user)
        locked.status = ReferralStatus.AWAITING_INFORMATION
        locked.sla_due_at = None
        locked.save(update_fields=["status", "sla_due_at"])
        _event(
            locked,
            user,
            "referral_information_requested",
            "More information requested (triage clock paused)",
        )
        return locked


@transaction.atomic
def referral_information_received(*, referral: Referral, user: User) -> Referral:
    """The information arrived: back to triage, with the clock moved on by the paused days."""
    with history_context(actor=user, source="referral_information_received"):
        locked = _lock(
            referral,
            allowed=[ReferralStatus.AWAITING_INFORMATION],
            doing="taken off hold",
        )
        _end_open_hold(locked)
        locked.status = ReferralStatus.IN_TRIAGE
        locked.sla_due_at = triage_due_at(
            received_at=locked.received_at,
            pauses=referral_pauses(locked),
            policy=spa_policy_for(authority_id=locked.case_file.authority_id),
        )
        if locked.triage_started_at is None:
            locked.triage_started_at = timezone.now()
            locked.triage_worker = user
        locked.save(update_fields=["status", "sla_due_at", "triage_started_at", "triage_worker"])
        _event(
            locked,
            user,
            "referral_information_received",
            "Information received (triage clock restarted)",
        )
        return locked


def _adult_support_open(referral: Referral, user: User) -> AdultSupportCase:
    try:
        return adult_support_case_open(case_file=referral.case_file, opened_by=user)
    except SupportError as error:
        raise ReferralError(
            f"The referral has not been accepted: the adult support case could not be opened. "
            f"{error.message}"
        ) from error


def _cyp_open(referral: Referral, user: User, child: Person) -> CypCase:
    # Defaults: referred by the SPA, the child living in the sanctuary property.
    try:
        return cyp_case_open(case_file=referral.case_file, child=child, opened_by=user)
    except SupportError as error:
        raise ReferralError(
            f"The referral has not been accepted: the children and young people's case for "
            f"{child.given_name} could not be opened. {error.message}"
        ) from error


@transaction.atomic
def referral_accept(
    *,
    referral: Referral,
    user: User,
    security_works: bool,
    adult_support: bool,
    children: Sequence[Person] = (),
    note: str = "",
    contractor: Organisation | None = None,
    contractor_override_reason: str = "",
    risk_not_assessed_reason: str = "",
    no_contact_attempt_reason: str = "",
) -> Referral:
    """Accept the referral onto the chosen routes, in one transaction with their first steps.

    Before anything is set up the SPA must know the risk and have tried to reach the survivor:
    the referral needs a risk level other than "Not assessed" (the referrer's DASH score, or a
    checklist recorded at triage, professional judgement included) and at least one recorded
    contact attempt. Where either was not possible (the survivor would not answer the checklist,
    the referrer holds contact and asked the SPA not to call) the reason is recorded instead.

    Security works: a job is created and allocated to the contractor covering the district
    (``security_works.services.security_job_allocate``; another contractor needs a reason).
    Adult support: an adult support case is opened with the authority's adult provider.
    Children: a CYP case is opened for each chosen child of the household (the ``Person`` rows
    made at intake), with the authority's CYP provider.
    If any of them cannot be created the whole decision rolls back and the referral stays where
    it was: a household must never be accepted with half its routes in place.
    """
    if not (security_works or adult_support or children):
        raise ReferralError("Choose at least one route: security works, adult or child support.")
    with history_context(actor=user, source="referral_accept"):
        locked = _lock(
            referral,
            allowed=[ReferralStatus.RECEIVED, ReferralStatus.IN_TRIAGE],
            doing="accepted",
        )
        if not locked.eligibility_complete or not locked.eligible:
            raise ReferralError(
                "Complete the eligibility checklist, with every item met, before accepting."
            )
        if locked.matches.filter(status=MatchStatus.OPEN).exists():
            raise ReferralError(
                "Check the possible repeat referrals first: link each one as a repeat or "
                "mark it as not the same person."
            )
        risk_reason = risk_not_assessed_reason.strip()
        if locked.risk_level != RiskLevel.NOT_ASSESSED:
            risk_reason = ""  # assessed: nothing to explain
        elif not risk_reason:
            raise ReferralError(
                "The risk has not been assessed. Record the DASH checklist (with your "
                "professional judgement) first, or say why the risk could not be assessed.",
                field="risk_not_assessed_reason",
            )
        contact_reason = no_contact_attempt_reason.strip()
        if locked.contact_attempts.exists():
            contact_reason = ""
        elif not contact_reason:
            raise ReferralError(
                "No attempt to contact the survivor is recorded. Record the contact attempt "
                "first, or say why the survivor was not contacted.",
                field="no_contact_attempt_reason",
            )
        child_ids = {child.pk for child in children}
        # Re-read the children: the rows passed in may be stale or from another household.
        chosen_children = list(
            Person.objects.filter(
                household_id=locked.case_file.household_id,
                household_role=HouseholdRole.CHILD,
                pk__in=child_ids,
            ).order_by("given_name", "pk")
        )
        if {child.pk for child in chosen_children} != child_ids:
            raise ReferralError("Support can only be chosen for children in this household.")
        now = timezone.now()
        locked.status = ReferralStatus.ACCEPTED
        locked.decided_at = now
        locked.decided_by = user
        locked.decision_note = note.strip()
        locked.risk_not_assessed_reason = risk_reason
        locked.no_contact_attempt_reason = contact_reason
        locked.route_security_works = security_works
        locked.route_adult_support = adult_support
        if locked.triage_started_at is None:
            locked.triage_started_at = now
            locked.triage_worker = user
        locked.save(
            update_fields=[
                "status",
                "decided_at",
                "decided_by",
                "decision_note",
                "risk_not_assessed_reason",
                "no_contact_attempt_reason",
                "route_security_works",
                "route_adult_support",
                "triage_started_at",
                "triage_worker",
            ]
        )
        locked.routed_children.set(chosen_children)
        job_reference = ""
        if security_works:
            try:
                job = security_job_allocate(
                    case_file=locked.case_file,
                    priority=JobPriority.EMERGENCY if locked.urgent else JobPriority.STANDARD,
                    allocated_by=user,
                    contractor=contractor,
                    override_reason=contractor_override_reason,
                )
            except SecurityWorksError as error:
                raise ReferralError(error.message) from error
            job_reference = job.reference
        adult_reference = _adult_support_open(locked, user).reference if adult_support else ""
        cyp_references = [_cyp_open(locked, user, child).reference for child in chosen_children]
        routes = [
            *(["security_works"] if security_works else []),
            *(["adult_support"] if adult_support else []),
            *(["children"] if child_ids else []),
        ]
        _event(
            locked,
            user,
            "referral_accepted",
            "Referral accepted",
            routes=routes,
            child_ids=sorted(str(c) for c in child_ids),
            security_job=job_reference,
            adult_support_case=adult_reference,
            cyp_cases=cyp_references,
            risk_level=locked.risk_level,
            risk_not_assessed=bool(risk_reason),
            no_contact_attempt=bool(contact_reason),
        )
        return locked


def _case_file_has_open_work(case_file: CaseFile, *, besides: Referral) -> bool:
    """Another open referral, an open security job or an open support case on the case file."""
    return (
        Referral.objects.open().filter(case_file=case_file).exclude(pk=besides.pk).exists()
        or SecurityJob.objects.open().filter(case_file=case_file).exists()
        or AdultSupportCase.objects.open().filter(case_file=case_file).exists()
        or CypCase.objects.open().filter(case_file=case_file).exists()
    )


def _check_original(locked: Referral, original: Referral | None) -> Referral:
    if original is None:
        raise ReferralError("Choose the referral this one duplicates.", field="duplicate_of")
    original = Referral.objects.select_related("case_file").get(pk=original.pk)
    if original.pk == locked.pk:
        raise ReferralError("A referral cannot duplicate itself.", field="duplicate_of")
    if original.case_file.authority_id != locked.case_file.authority_id:
        raise ReferralError(
            "The original referral must be in the same area as this one.", field="duplicate_of"
        )
    if original.duplicate_of_id is not None:
        raise ReferralError(
            f"{original.reference} is itself a duplicate: choose the referral it duplicates, "
            f"{original.duplicate_of.reference if original.duplicate_of else ''}.",
            field="duplicate_of",
        )
    return original


@transaction.atomic
def referral_decline(
    *,
    referral: Referral,
    user: User,
    reason: DeclineReason,
    note: str = "",
    duplicate_of: Referral | None = None,
) -> Referral:
    """Decline the referral with a reason.

    Declined as a duplicate (a reason that ``marks_duplicate``), it names the original: the two
    are linked (the original lists it), the match between them is marked linked, and the
    duplicate's case file is closed unless something else is still open on it.
    """
    if not reason.is_active:
        raise ReferralError("That decline reason is no longer in use.", field="reason")
    if reason.requires_note and not note.strip():
        raise ReferralError(f"Add a note to explain “{reason.label}”.", field="note")
    with history_context(actor=user, source="referral_decline"):
        locked = _lock(referral, allowed=OPEN, doing="declined")
        original = _check_original(locked, duplicate_of) if reason.marks_duplicate else None
        _end_open_hold(locked)
        now = timezone.now()
        locked.status = ReferralStatus.DECLINED
        locked.decided_at = now
        locked.decided_by = user
        locked.decline_reason = reason
        locked.decision_note = note.strip()
        locked.duplicate_of = original
        locked.save(
            update_fields=[
                "status",
                "decided_at",
                "decided_by",
                "decline_reason",
                "decision_note",
                "duplicate_of",
            ]
        )
        _event(
            locked,
            user,
            "referral_declined",
            "Referral declined" + (f" as a duplicate of {original.reference}" if original else ""),
            reason=reason.code,
            duplicate_of=str(original.pk) if original else None,
        )
        if original is not None:
            _link_duplicate(locked, original, user, now)
        return locked


def _link_duplicate(duplicate: Referral, original: Referral, user: User, now: Any) -> None:
    ReferralMatch.objects.filter(referral=duplicate, candidate=original).update(
        status=MatchStatus.LINKED, resolved_by=user, resolved_at=now
    )
    if duplicate.case_file_id != original.case_file_id:
        _event(
            original,
            user,
            "referral_duplicate_linked",
            f"Duplicate referral {duplicate.reference} declined and linked to this one",
            duplicate_id=str(duplicate.pk),
        )
        case_file = CaseFile.objects.select_for_update().get(pk=duplicate.case_file_id)
        if case_file.status == CaseStatus.OPEN and not _case_file_has_open_work(
            case_file, besides=duplicate
        ):
            case_file.status = CaseStatus.CLOSED
            case_file.closed_at = now
            case_file.save(update_fields=["status", "closed_at"])
            _event(
                duplicate,
                user,
                "case_file_closed",
                f"Case file closed: a duplicate of referral {original.reference}",
                original_id=str(original.pk),
            )


@transaction.atomic
def referral_withdraw(*, referral: Referral, user: User, note: str = "") -> Referral:
    """The referrer or the survivor withdrew the referral before a decision."""
    with history_context(actor=user, source="referral_withdraw"):
        locked = _lock(referral, allowed=OPEN, doing="withdrawn")
        _end_open_hold(locked)
        locked.status = ReferralStatus.WITHDRAWN
        locked.decided_at = timezone.now()
        locked.decided_by = user
        locked.decision_note = note.strip()
        locked.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
        _event(locked, user, "referral_withdrawn", "Referral withdrawn")
        return locked
