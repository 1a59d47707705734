"""The SPA's demo data: referrals on three demo case files, the SPA's attempts to reach each
survivor (one met the next-day deadline, one high-risk case tried the same day, one Medway
referral not yet tried), a MARAC referral that has been heard, and a month of
information-and-advice-only contacts. Fictional; idempotent: each part is written only when
missing, through the services where they exist, as the demo SPA triage worker."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils import timezone

from referrals.models import (
    AdviceContact,
    MaracReferral,
    Referral,
    ReferralSource,
    RiskLevel,
)
from referrals.services import (
    advice_contact_record,
    marac_hearing_record,
    marac_referral_record,
    referral_contact_attempt_record,
    risk_assessment_record,
)
from referrals.sla import first_contact_due_at, spa_policy_for, triage_due_at
from safer.accounts.models import User
from safer.casefile.models import CaseFile
from safer.demo import DemoContext, demo_seeder
from safer.organisations.models import CommissioningAuthority, District


@dataclass(frozen=True)
class DemoReferral:
    case_reference: str
    received_hours_ago: int
    dash_score: int | None
    # (hours after receipt, channel, outcome)
    attempts: tuple[tuple[int, str, str], ...] = ()


REFERRALS = [
    DemoReferral(
        "SAFER-DEMO-0002",
        50,
        6,
        ((3, "phone", "no_answer"), (22, "phone", "spoke_to_survivor")),
    ),
    DemoReferral("SAFER-DEMO-0003", 30, 16, ((2, "phone", "spoke_to_survivor"),)),
    DemoReferral("SAFER-DEMO-0005", 4, None),
]

# (days ago, district code or "", caller type, agency type, method, topics, signposted to)
ADVICE = [
    (1, "canterbury", "professional", "police", "phone", ["how_to_refer"], []),
    (
        3,
        "",
        "survivor",
        "",
        "phone",
        ["scheme_eligibility", "safety_planning"],
        ["national_helpline"],
    ),
    (6, "thanet", "friend_or_family", "", "email", ["support_services"], ["local_da_service"]),
    (9, "maidstone", "professional", "housing", "phone", ["home_security"], []),
    (14, "dover", "survivor", "", "online", ["housing_options"], ["housing_options"]),
    (21, "ashford", "professional", "health", "phone", ["risk_and_marac"], []),
]


@demo_seeder
def referrals_demo(context: DemoContext) -> Iterator[str]:
    worker = context.users["spa_triage"]
    medway_worker = context.users["medway_spa_triage"]
    made = [
        _referral(context.case_files[demo.case_reference], demo, worker, medway_worker)
        for demo in REFERRALS
    ]
    heard = _marac_heard(made[1], worker)
    advice = _advice(worker)
    yield (
        f"Referrals: {len(made)} demo referrals with contact attempts, "
        f"{'a heard MARAC referral, ' if heard else ''}{advice} advice contacts."
    )


def _referral(
    case_file: CaseFile, demo: DemoReferral, worker: User, medway_worker: User
) -> Referral:
    existing = Referral.objects.filter(reference=case_file.reference).first()
    if existing is not None:
        return existing
    received = timezone.now() - dt.timedelta(hours=demo.received_hours_ago)
    policy = spa_policy_for(authority_id=case_file.authority_id)
    high = demo.dash_score is not None and demo.dash_score >= 14
    referral = Referral.objects.create(
        reference=case_file.reference,
        case_file=case_file,
        authority_id=case_file.authority_id,
        source=ReferralSource.PROFESSIONAL,
        referrer_name="Rita Referrer",
        referrer_organisation="Example Constabulary (demo)",
        referrer_agency_type="police",
        referrer_role="Domestic abuse officer",
        referrer_email="referrer@example.org",
        consent_given=True,
        consent_date=received.date(),
        consent_method="phone",
        requests_security_works=True,
        requests_adult_support=True,
        dash_completed=demo.dash_score is not None,
        dash_score=demo.dash_score,
        risk_level=RiskLevel.HIGH if high else RiskLevel.NOT_ASSESSED,
        received_at=received,
        sla_due_at=triage_due_at(received_at=received, pauses=(), policy=policy),
        first_contact_due_at=first_contact_due_at(
            received_at=received, high_risk=high, policy=policy
        ),
    )
    user = medway_worker if case_file.authority.code == "medway" else worker
    for hours, channel, outcome in demo.attempts:
        referral_contact_attempt_record(
            referral=referral,
            user=user,
            channel=channel,
            outcome=outcome,
            attempted_at=received + dt.timedelta(hours=hours),
        )
    return referral


def _marac_heard(referral: Referral, worker: User) -> bool:
    if MaracReferral.objects.filter(referral=referral).exists():
        return True
    today = timezone.localdate()
    assessment = risk_assessment_record(
        referral=referral,
        user=worker,
        answers={n: "yes" if n <= 16 else "no" for n in range(1, 25)},
        completed_on=today,
    )
    if not assessment.marac_grounds:
        return False
    marac = marac_referral_record(
        referral=referral,
        user=worker,
        assessment=assessment,
        area="Mid Kent MARAC (demo)",
        referred_on=today,
    )
    marac_hearing_record(
        marac=marac,
        user=worker,
        heard_on=today,
        outcome="Police address marker; IDVA weekly contact; school's safeguarding lead told.",
    )
    return True


def _advice(worker: User) -> int:
    existing = AdviceContact.objects.filter(recorded_by=worker).count()
    if existing:
        return existing
    kent = CommissioningAuthority.objects.get(code="kent")
    districts = {d.code: d for d in District.objects.filter(authority=kent)}
    today = timezone.localdate()
    for days_ago, district, caller, agency, method, topics, signposts in ADVICE:
        advice_contact_record(
            user=worker,
            authority=kent,
            district=districts.get(district),
            contacted_on=today - dt.timedelta(days=days_ago),
            caller_type=caller,
            agency_type=agency,
            method=method,
            topics=topics,
            signposted_to=signposts,
            duration_minutes=15,
        )
    return len(ADVICE)
