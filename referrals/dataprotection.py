"""What the SPA tells retention and subject access about referrals (``safer.dataprotection``).

A declined or withdrawn referral's period runs from its decision. An accepted one gives none:
the jobs and support cases it led to do (and the case file's own closure when there are none).
One not decided yet keeps the case. Information-and-advice contacts hold nothing personal
(``AdviceContact``), so retention has nothing to do with them.
"""

from __future__ import annotations

from django.utils import timezone

from referrals.choices import Ethnicity
from referrals.models import (
    MaracReferral,
    Referral,
    ReferralContactAttempt,
    ReferralHold,
    ReferralNotification,
    ReferralStatus,
    RiskAssessment,
)
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

_NOT_GOING_AHEAD = (ReferralStatus.DECLINED, ReferralStatus.WITHDRAWN)


def referral_anchors(case_file: CaseFile) -> list[Anchor]:
    anchors = []
    for referral in Referral.objects.filter(case_file=case_file).only(
        "status", "decided_at", "received_at"
    ):
        if referral.status in _NOT_GOING_AHEAD:
            decided = referral.decided_at or referral.received_at
            anchors.append(Anchor(RecordType.DECLINED_REFERRAL, timezone.localdate(decided)))
        elif referral.status != ReferralStatus.ACCEPTED:
            anchors.append(Anchor(RecordType.DECLINED_REFERRAL, None))  # still being decided
    return anchors


ERASABLE = (
    ErasableModel(
        label="Referrals",
        model=Referral,
        case_file_path="case_file",
        blank=(
            "referrer_name",
            "referrer_email",
            "referrer_phone",
            "safeguarding_override_reason",
            "urgency_reason",
            "decision_note",
            "risk_not_assessed_reason",
            "no_contact_attempt_reason",
        ),
        order=20,
    ),
    ErasableModel(
        label="Referral holds",
        model=ReferralHold,
        case_file_path="referral__case_file",
        blank=("reason",),
        order=20,
    ),
    ErasableModel(
        label="Referral notifications",
        model=ReferralNotification,
        case_file_path="referral__case_file",
        blank=("recipient",),
        order=20,
    ),
    ErasableModel(
        label="Risk assessments",
        model=RiskAssessment,
        case_file_path="referral__case_file",
        blank=("professional_judgement_reason",),
        order=20,
    ),
    ErasableModel(
        label="MARAC referrals",
        model=MaracReferral,
        case_file_path="referral__case_file",
        blank=("outcome",),
        order=20,
    ),
    ErasableModel(
        label="SPA contact attempts",
        model=ReferralContactAttempt,
        case_file_path="referral__case_file",
        blank=("unsafe_channel_reason", "note"),
        order=20,
    ),
)


def _referrals_section(case_file: CaseFile, person: Person) -> list[SarGroup]:
    if person.household_role != HouseholdRole.SURVIVOR:
        return []
    groups = []
    if person.ethnicity:
        # The code's words live with the referral form that asks it (referrals.choices).
        equality = SarGroup(title="Equality information you gave")
        labels = dict(Ethnicity.choices)
        equality.add("Ethnicity", labels.get(person.ethnicity, person.ethnicity))
        groups.append(equality)
    referrals = Referral.objects.filter(case_file=case_file).select_related("decline_reason")
    for referral in referrals.order_by("received_at"):
        group = SarGroup(title=f"Referral {referral.reference}")
        group.add("Received", referral.received_at)
        group.add("How it came", referral.get_source_display())
        group.add("Referring organisation", referral.referrer_organisation)
        group.add("Consent given", referral.consent_given)
        group.add("Status", referral.get_status_display())
        group.add("Decided", referral.decided_at)
        if referral.decline_reason:
            group.add("Reason it was declined", referral.decline_reason.label)
        group.add("Decision note", referral.decision_note, redact=MAY_NAME_OTHERS)
        group.add("Why it was urgent", referral.urgency_reason, redact=MAY_NAME_OTHERS)
        group.add("Risk level", referral.get_risk_level_display())
        groups.append(group)
        for assessment in RiskAssessment.objects.filter(referral=referral).order_by("assessed_at"):
            risk = SarGroup(title=f"Risk assessment of {assessment.completed_on:%d %B %Y}")
            risk.add("Questions answered yes", assessment.yes_count)
            risk.add("Level from the answers", assessment.get_actuarial_level_display())
            risk.add("Level decided", assessment.get_final_level_display())
            risk.add(
                "Professional judgement",
                assessment.professional_judgement_reason,
                redact=MAY_NAME_OTHERS,
            )
            for answer in assessment.answers.select_related("question").order_by("question_id"):
                risk.add(answer.question.text, answer.get_answer_display())
            groups.append(risk)
        attempts = ReferralContactAttempt.objects.filter(referral=referral)
        if attempts.exists():
            contact = SarGroup(title=f"Attempts to contact you about {referral.reference}")
            for attempt in attempts.order_by("attempted_at"):
                contact.add(
                    attempt.attempted_at.strftime("%d %B %Y %H:%M UTC"),
                    f"{attempt.get_channel_display()}: {attempt.get_outcome_display()}",
                )
                if attempt.note:
                    contact.add("Note", attempt.note, redact=MAY_NAME_OTHERS)
            groups.append(contact)
    return groups


def register() -> None:
    retention_anchor_source_register(referral_anchors)
    retention_erasable_register(*ERASABLE)
    subject_access_section_register(
        SarSection(title="Referrals and risk assessments", build=_referrals_section, order=20)
    )
