"""Taking a referral in: one transaction stores the referral, opens its case file, records the
first timeline event, flags possible repeats and queues the notifications (outbox)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from referrals.choices import OtherRisk
from referrals.exceptions import ReferralRejected
from referrals.models import Referral, ReferralSource, RiskLevel
from referrals.risk import level_from_score, level_max
from referrals.services.matching import referral_matches_find
from referrals.services.notifications import referral_notifications_message
from referrals.services.risk_policy import risk_rules_cached
from referrals.sla import first_contact_due_at, spa_policy_cached, triage_due_at
from safer import sqlbatch
from safer.accounts.models import User
from safer.casefile.intake import (
    AddressDetails,
    Intake,
    PerpetratorDetails,
    PersonDetails,
    SafeContactDetails,
    case_file_build_from_intake,
)
from safer.casefile.services import case_event_new, reference_next
from safer.organisations.models import AgencyType


@dataclass(frozen=True)
class ReferrerDetails:
    name: str
    organisation: str
    agency_type: str
    role: str
    email: str
    phone: str = ""


@dataclass(frozen=True)
class ConsentDetails:
    given: bool
    date: dt.date | None = None
    method: str = ""
    safeguarding_override_reason: str = ""


@dataclass(frozen=True)
class RiskReport:
    dash_completed: bool | None = None
    dash_score: int | None = None
    dash_date: dt.date | None = None
    marac_referred: bool | None = None
    marac_date: dt.date | None = None
    other_risks: Sequence[str] = ()


@dataclass(frozen=True)
class ServiceRequest:
    security_works: bool = False
    adult_support: bool = False
    # Positions in ``ReferralSubmission.children`` of the children support is asked for.
    children: Sequence[int] = ()
    urgent: bool = False
    urgency_reason: str = ""


@dataclass(frozen=True)
class ReferralSubmission:
    source: str
    consent: ConsentDetails
    survivor: PersonDetails
    address: AddressDetails
    safe_contact: SafeContactDetails
    referrer: ReferrerDetails | None = None
    children: Sequence[PersonDetails] = ()
    other_adults: Sequence[PersonDetails] = ()
    perpetrator: PerpetratorDetails | None = None
    risk: RiskReport = field(default_factory=RiskReport)
    request: ServiceRequest = field(default_factory=ServiceRequest)


# No savepoint when the caller already holds a transaction (the API's idempotency record):
# nothing catches a failure halfway and carries on, so a savepoint would only add two round trips
# to every submission (issue 17); a failure rolls back the caller's whole transaction.
@transaction.atomic(savepoint=False)
def referral_submit(
    *, submission: ReferralSubmission, referrer_user: User | None = None
) -> Referral:
    """Store a referral and everything that comes with it, or nothing at all."""
    _validate(submission)
    now = timezone.now()
    reference = reference_next()
    override = submission.consent.safeguarding_override_reason.strip()
    opened = case_file_build_from_intake(
        intake=Intake(
            reference=reference,
            survivor=submission.survivor,
            address=submission.address,
            safe_contact=submission.safe_contact,
            children=submission.children,
            other_adults=submission.other_adults,
            perpetrator=submission.perpetrator,
            safeguarding_flag=bool(override),
        )
    )
    case_file = opened.case_file
    risk = submission.risk
    risk_level = _reported_risk_level(submission, case_file.authority_id)
    policy = spa_policy_cached(authority_id=case_file.authority_id)
    referrer = submission.referrer if submission.source == ReferralSource.PROFESSIONAL else None
    referral = Referral(
        reference=reference,
        case_file=case_file,
        authority_id=case_file.authority_id,
        source=submission.source,
        referrer_user=referrer_user,
        referrer_name=referrer.name if referrer else "",
        referrer_organisation=referrer.organisation if referrer else "",
        referrer_agency_type=referrer.agency_type if referrer else "",
        referrer_role=referrer.role if referrer else "",
        referrer_email=referrer.email if referrer else "",
        referrer_phone=referrer.phone if referrer else "",
        consent_given=submission.consent.given,
        consent_date=submission.consent.date,
        consent_method=submission.consent.method,
        safeguarding_override_reason=override,
        requests_security_works=submission.request.security_works,
        requests_adult_support=submission.request.adult_support,
        urgent=submission.request.urgent,
        urgency_reason=submission.request.urgency_reason.strip(),
        dash_completed=risk.dash_completed,
        dash_score=risk.dash_score if risk.dash_completed else None,
        dash_date=risk.dash_date if risk.dash_completed else None,
        marac_referred=risk.marac_referred,
        marac_date=risk.marac_date if risk.marac_referred else None,
        other_risks=sorted(set(risk.other_risks)),
        risk_level=risk_level,
        received_at=now,
        sla_due_at=triage_due_at(received_at=now, pauses=(), policy=policy),
        first_contact_due_at=first_contact_due_at(
            received_at=now, high_risk=risk_level == RiskLevel.HIGH, policy=policy
        ),
    )
    wanted = [opened.children[i] for i in sorted(set(submission.request.children))]
    # A new referral has no links yet: they are inserted (``set`` would first read them).
    links = [
        Referral.children_for_support.through(referral=referral, person=child) for child in wanted
    ]
    event = case_event_new(
        case_file=case_file,
        kind="referral_received",
        summary=(
            "Self-referral received"
            if submission.source == ReferralSource.SELF
            else "Referral received from a professional"
        ),
        data={"referral_id": str(referral.id), "reference": reference, "urgent": referral.urgent},
    )
    # The emails' outbox row (relayed after commit), if any are due.
    message = referral_notifications_message(referral=referral)
    # Every new row in one round trip, carried ahead of the duplicate search (issue 17: ten
    # round trips before). The search excludes this referral and its case file, so whether it
    # runs before or after them changes nothing it finds.
    referral_matches_find(
        referral=referral,
        new=True,
        writes=sqlbatch.inserts(
            [*opened.rows, referral, *links, event, *([message] if message else [])]
        ),
    )
    return referral


def _validate(submission: ReferralSubmission) -> None:
    if submission.source not in ReferralSource.values:
        raise ReferralRejected("Unknown referral source.")
    if submission.source == ReferralSource.PROFESSIONAL:
        referrer = submission.referrer
        if referrer is None or not referrer.name.strip() or not referrer.email.strip():
            raise ReferralRejected("A professional referral needs the referrer's name and email.")
        if referrer.agency_type and referrer.agency_type not in AgencyType.values:
            raise ReferralRejected("Unknown agency type.")
    consent = submission.consent
    if not consent.given and not consent.safeguarding_override_reason.strip():
        raise ReferralRejected(
            "A referral needs the person's consent, or a safeguarding reason to refer without it."
        )
    if submission.source == ReferralSource.SELF and not consent.given:
        raise ReferralRejected("A self-referral needs the person's agreement.")
    request = submission.request
    if not (request.security_works or request.adult_support or request.children):
        raise ReferralRejected("Say what support is asked for.")
    if any(i < 0 or i >= len(submission.children) for i in request.children):
        raise ReferralRejected("Support was asked for a child who is not listed.")
    if request.urgent and not request.urgency_reason.strip():
        raise ReferralRejected("Say why the referral is urgent.")
    unknown_risks = set(submission.risk.other_risks) - set(OtherRisk.values)
    if unknown_risks:
        raise ReferralRejected("Unknown risk flag.")
    score = submission.risk.dash_score
    if score is not None and not 0 <= score <= 24:
        raise ReferralRejected("A DASH score is between 0 and 24.")


def _reported_risk_level(submission: ReferralSubmission, authority_id: object) -> str:
    """The level the referrer's own DASH score implies, under this authority's bands; a MARAC
    referral already made means high risk whatever the score."""
    risk = submission.risk
    level: str = RiskLevel.NOT_ASSESSED
    if risk.dash_completed and risk.dash_score is not None:
        rules = risk_rules_cached(authority_id=authority_id)
        if rules is not None:
            level = level_from_score(risk.dash_score, rules)
    if risk.marac_referred:
        level = level_max(level, RiskLevel.HIGH)
    return level
