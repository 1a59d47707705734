"""Recording a DASH assessment at triage, and a MARAC referral built from its answers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.db import transaction
from django.utils import timezone

from referrals.exceptions import InvalidTransition, ReferralError
from referrals.models import (
    RISK_RANK,
    MaracReferral,
    MatchStatus,
    Referral,
    ReferralMatch,
    ReferralStatus,
    RiskAnswer,
    RiskAssessment,
    RiskLevel,
)
from referrals.risk import RiskInputError, risk_evaluate
from referrals.services.decisions import OPEN, _lock
from referrals.services.risk_policy import risk_policy_for, risk_rules_from_policy
from referrals.sla import first_contact_due_when_high_risk, spa_policy_for
from safer.accounts.models import User
from safer.audit.history import history_context
from safer.casefile.models import HouseholdRole, Person
from safer.casefile.services import case_event_record


def related_referral_ids(referral: Referral) -> set[object]:
    """This referral and those a person linked it to as the same survivor."""
    ids: set[object] = {referral.pk}
    if referral.repeat_of_id:
        ids.add(referral.repeat_of_id)
    ids.update(
        ReferralMatch.objects.filter(referral=referral, status=MatchStatus.LINKED).values_list(
            "candidate_id", flat=True
        )
    )
    ids.update(
        Referral.objects.filter(case_file_id=referral.case_file_id).values_list("pk", flat=True)
    )
    return ids


@transaction.atomic
def risk_assessment_record(
    *,
    referral: Referral,
    user: User,
    answers: Mapping[int, str],
    completed_on: dt.date,
    professional_judgement_level: str = "",
    professional_judgement_reason: str = "",
    incidents_in_window: int | None = None,
    crimes_in_window: int | None = None,
    honour_based_abuse: bool = False,
) -> RiskAssessment:
    """Score the answers under the authority's policy and record them with the result."""
    if professional_judgement_level and not professional_judgement_reason.strip():
        raise ReferralError("Explain the professional judgement.")
    if completed_on > timezone.localdate():
        raise ReferralError("The checklist cannot be completed in the future.")
    with history_context(actor=user, source="risk_assessment_record"):
        locked = _lock(
            referral,
            allowed=[*OPEN, ReferralStatus.ACCEPTED],
            doing="risk assessed",
        )
        policy = risk_policy_for(authority_id=locked.case_file.authority_id)
        if policy is None:
            raise ReferralError("No risk checklist is set up for this area.")
        questions = {q.number: q for q in policy.questionnaire.questions.all()}
        rules = risk_rules_from_policy(policy)
        window_start = timezone.localdate() - dt.timedelta(days=policy.repeat_window_days)
        repeat = MaracReferral.objects.filter(
            referral_id__in=related_referral_ids(locked), referred_on__gte=window_start
        ).exists()
        try:
            result = risk_evaluate(
                answers=answers,
                question_numbers=list(questions),
                rules=rules,
                professional_judgement_level=professional_judgement_level,
                incidents_in_window=incidents_in_window,
                crimes_in_window=crimes_in_window,
                repeat_within_window=repeat,
                honour_based_abuse=honour_based_abuse,
            )
        except RiskInputError as error:
            raise ReferralError(str(error)) from error
        if (
            professional_judgement_level
            and RISK_RANK[professional_judgement_level] < RISK_RANK[result.actuarial_level]
        ):
            raise ReferralError(
                "Professional judgement can raise the risk level but never lower the score's."
            )
        assessment = RiskAssessment.objects.create(
            referral=locked,
            questionnaire=policy.questionnaire,
            policy=policy,
            assessed_by=user,
            completed_on=completed_on,
            yes_count=result.yes_count,
            not_known_count=result.not_known_count,
            actuarial_level=result.actuarial_level,
            professional_judgement_level=professional_judgement_level,
            professional_judgement_reason=professional_judgement_reason.strip(),
            incidents_in_window=incidents_in_window,
            crimes_in_window=crimes_in_window,
            honour_based_abuse=honour_based_abuse,
            final_level=result.final_level,
            marac_grounds=list(result.grounds),
        )
        RiskAnswer.objects.bulk_create(
            RiskAnswer(assessment=assessment, question=questions[number], answer=answer)
            for number, answer in sorted(answers.items())
        )
        was_high = locked.risk_level == RiskLevel.HIGH
        locked.risk_level = result.final_level
        fields = ["risk_level"]
        if (
            result.final_level == RiskLevel.HIGH
            and not was_high
            and locked.first_contact_attempted_at is None
        ):
            # The first-contact clock is still running: a high-risk referral is due sooner.
            locked.first_contact_due_at = first_contact_due_when_high_risk(
                current_due=locked.first_contact_due_at,
                known_at=timezone.now(),
                policy=spa_policy_for(authority_id=locked.case_file.authority_id),
            )
            fields.append("first_contact_due_at")
        locked.save(update_fields=fields)
        case_event_record(
            case_file=locked.case_file,
            kind="risk_assessed",
            summary=f"DASH risk checklist recorded: {result.final_level} risk",
            actor=user,
            data={
                "referral_id": str(locked.id),
                "assessment_id": str(assessment.id),
                "yes_count": result.yes_count,
                "level": result.final_level,
                "grounds": list(result.grounds),
            },
        )
        return assessment


@transaction.atomic
def marac_referral_record(
    *,
    referral: Referral,
    user: User,
    assessment: RiskAssessment,
    area: str,
    referred_on: dt.date,
    meeting_on: dt.date | None = None,
) -> MaracReferral:
    """Refer to MARAC on the grounds the assessment found, reusing its answers. ``meeting_on``
    is the meeting it is listed for, if known; the hearing is recorded by
    ``marac_hearing_record``."""
    if assessment.referral_id != referral.pk:
        raise ReferralError("That assessment belongs to another referral.")
    if not assessment.marac_grounds:
        raise ReferralError(
            "This assessment gives no ground for a MARAC referral. Record a new assessment "
            "with professional judgement if you believe the risk is high."
        )
    if not area.strip():
        raise ReferralError("Name the MARAC area.")
    if meeting_on is not None and meeting_on < referred_on:
        raise ReferralError("The MARAC meeting cannot be before the referral.")
    with history_context(actor=user, source="marac_referral_record"):
        locked = _lock(
            referral, allowed=[*OPEN, ReferralStatus.ACCEPTED], doing="referred to MARAC"
        )
        marac = MaracReferral.objects.create(
            referral=locked,
            assessment=assessment,
            area=area.strip(),
            referred_on=referred_on,
            meeting_on=meeting_on,
            grounds=list(assessment.marac_grounds),
            recorded_by=user,
        )
        case_event_record(
            case_file=locked.case_file,
            kind="marac_referred",
            summary="Referred to MARAC",
            actor=user,
            data={
                "referral_id": str(locked.id),
                "marac_id": str(marac.id),
                "grounds": marac.grounds,
            },
        )
        return marac


@transaction.atomic
def marac_hearing_record(
    *, marac: MaracReferral, user: User, heard_on: dt.date, outcome: str
) -> MaracReferral:
    """Record that the MARAC heard the case: the date and the outcome (the action plan in
    summary). A case is heard once; a second hearing is a new MARAC referral (a repeat)."""
    if not outcome.strip():
        raise ReferralError("Enter the outcome and a summary of the action plan.")
    if heard_on > timezone.localdate():
        raise ReferralError("The hearing date cannot be in the future.")
    with history_context(actor=user, source="marac_hearing_record"):
        locked = (
            MaracReferral.objects.select_for_update(of=("self",))
            .select_related("referral__case_file")
            .get(pk=marac.pk)
        )
        if locked.heard_on is not None:
            raise InvalidTransition(
                f"This MARAC referral was already recorded as heard on "
                f"{locked.heard_on:%-d %B %Y}. Reload the page to see it."
            )
        if heard_on < locked.referred_on:
            raise ReferralError("The MARAC cannot hear the case before it was referred.")
        locked.heard_on = heard_on
        locked.meeting_on = heard_on
        locked.outcome = outcome.strip()
        locked.heard_recorded_by = user
        locked.save(update_fields=["heard_on", "meeting_on", "outcome", "heard_recorded_by"])
        case_file = locked.referral.case_file
        children = Person.objects.filter(
            household_id=case_file.household_id,
            household_role=HouseholdRole.CHILD,
            lives_at_address=True,
        ).exists()
        case_event_record(
            case_file=case_file,
            kind="marac_heard",
            summary="MARAC hearing recorded",
            actor=user,
            data={
                "referral_id": str(locked.referral_id),
                "marac_id": str(locked.id),
                "heard_on": heard_on.isoformat(),
                "children_in_household": children,
            },
        )
        return locked
