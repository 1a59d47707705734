"""Local helpers for the referrals tests: geography and staff, without the shared factories."""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

from django.apps import apps as django_apps
from django.contrib.auth.models import Group

from referrals.models import DeclineReason, Referral, ReferralSource, RiskQuestionnaire
from referrals.services.submit import (
    ConsentDetails,
    ReferralSubmission,
    ReferrerDetails,
    RiskReport,
    ServiceRequest,
    referral_submit,
)
from safer.accounts.models import User
from safer.accounts.roles import ROLE_GROUP_NAMES, Role
from safer.casefile.intake import AddressDetails, PersonDetails, SafeContactDetails
from safer.organisations.models import (
    CommissioningAuthority,
    District,
    Organisation,
    OrganisationKind,
)

# What an accept decision needs when no DASH and no contact attempt is recorded (the rule is
# tested in tests/test_referrals_acceptance.py; other tests pass these to get past it).
ACCEPT_REASONS: dict[str, Any] = {
    "risk_not_assessed_reason": "Test: the survivor asked to do the checklist later",
    "no_contact_attempt_reason": "Test: the referrer holds contact",
}


def reference_data() -> None:
    """The data the referrals migrations seed (decline reasons, the DASH checklist), put back if
    a transactional test elsewhere flushed it. Idempotent."""
    if DeclineReason.objects.exists() and RiskQuestionnaire.objects.exists():
        return
    for module in ("0002_seed_decline_reasons", "0003_seed_dash_ric"):
        importlib.import_module(f"referrals.migrations.{module}").seed(django_apps, None)
    importlib.import_module(
        "referrals.migrations.0009_acceptance_reasons_and_duplicates"
    ).mark_duplicate_reason(django_apps, None)


def geography() -> dict[str, District]:
    reference_data()
    kent, _ = CommissioningAuthority.objects.get_or_create(
        code="kent", defaults={"name": "Kent County Council"}
    )
    medway, _ = CommissioningAuthority.objects.get_or_create(
        code="medway", defaults={"name": "Medway Council"}
    )
    rows = [
        (kent, "maidstone", "Maidstone", "ME14 ME15 ME16"),
        (kent, "canterbury", "Canterbury", "CT1 CT2"),
        # TN12 is shared between two districts: never pre-selected.
        (kent, "tunbridge-wells", "Tunbridge Wells", "TN1 TN2 TN12"),
        (kent, "tonbridge-and-malling", "Tonbridge and Malling", "ME19 TN9 TN12"),
        (medway, "medway", "Medway", "ME1 ME2 ME4"),
    ]
    districts = {}
    for authority, code, name, outward in rows:
        districts[code], _ = District.objects.get_or_create(
            code=code, defaults={"authority": authority, "name": name, "outward_codes": outward}
        )
    support_providers()
    return districts


def support_providers() -> None:
    """The adult and CYP providers an accept decision opens support cases with."""
    for name, kind in (
        ("Fictional Adult Support Provider", OrganisationKind.ADULT_SUPPORT),
        ("Fictional CYP Provider", OrganisationKind.CYP_SUPPORT),
    ):
        provider, _ = Organisation.objects.get_or_create(name=name, defaults={"kind": kind})
        provider.authorities.add(*CommissioningAuthority.objects.all())


def spa_organisation() -> Organisation:
    organisation, _ = Organisation.objects.get_or_create(
        name="Fictional SPA Provider", defaults={"kind": OrganisationKind.SPA_PROVIDER}
    )
    organisation.authorities.add(*CommissioningAuthority.objects.all())
    return organisation


def staff(
    email: str,
    role: Role,
    *,
    authorities: tuple[str, ...] = ("kent",),
    organisation: Organisation | None = None,
) -> User:
    geography()
    user = User.objects.create_user(
        email,
        "a-long-test-password",
        full_name=email.split("@")[0].title(),
        organisation=organisation or spa_organisation(),
    )
    user.authorities.set(CommissioningAuthority.objects.filter(code__in=authorities))
    group, _ = Group.objects.get_or_create(name=ROLE_GROUP_NAMES[role])
    user.groups.add(group)
    return user


def make_referral(
    *,
    district: str = "maidstone",
    given_name: str = "Alex",
    family_name: str = "Example",
    date_of_birth: dt.date | None = dt.date(1988, 6, 14),
    address_line_1: str = "1 Fictional Road",
    postcode: str = "ME15 6AA",
    urgent: bool = False,
    dash_score: int | None = None,
    children: int = 0,
    referrer_user: User | None = None,
    referrer_email: str = "pat.referrer@police.example.org",
    voicemail_safe: bool = False,
) -> Referral:
    """A professional referral stored through the real service."""
    districts = geography()
    submission = ReferralSubmission(
        source=ReferralSource.PROFESSIONAL,
        referrer=ReferrerDetails(
            name="Pat Referrer",
            organisation="Kent Police",
            agency_type="police",
            role="DA officer",
            email=referrer_email,
        ),
        consent=ConsentDetails(given=True, date=dt.date(2026, 1, 5), method="phone"),
        survivor=PersonDetails(
            given_name=given_name, family_name=family_name, date_of_birth=date_of_birth
        ),
        address=AddressDetails(
            district=districts[district],
            address_line_1=address_line_1,
            town="Town",
            postcode=postcode,
            tenure="council",
        ),
        safe_contact=SafeContactDetails(
            safe_channels=["phone"], phone="07700 900123", voicemail_safe=voicemail_safe
        ),
        children=[
            PersonDetails(given_name=f"Child{i}", family_name=family_name, stated_age=5 + i)
            for i in range(children)
        ],
        risk=RiskReport(dash_completed=dash_score is not None, dash_score=dash_score),
        request=ServiceRequest(
            security_works=True,
            adult_support=True,
            urgent=urgent,
            urgency_reason="Released next week" if urgent else "",
        ),
    )
    return referral_submit(submission=submission, referrer_user=referrer_user)
