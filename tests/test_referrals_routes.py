"""Accepting a referral sets up every chosen route in one transaction: the security job, the adult
support case and a CYP case for each named child; if one cannot be set up, none is."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from referrals import ratelimit
from referrals.exceptions import ReferralError
from referrals.models import Referral, ReferralStatus
from referrals.services import referral_accept, referral_eligibility_record, referral_triage_start
from safer.accounts.roles import Role
from safer.casefile.models import (
    CaseEvent,
    CaseFileGroupObjectPermission,
    CaseFileUserObjectPermission,
    HouseholdRole,
    Person,
)
from safer.organisations.models import CommissioningAuthority, Organisation, OrganisationKind
from security_works.models import SecurityJob
from support.models import AdultStatus, AdultSupportCase, CypCase, CypSource, CypStatus
from tests.helpers import sign_in
from tests.referrals_support import ACCEPT_REASONS, geography, make_referral, staff

pytestmark = pytest.mark.django_db

ALL_YES = dict.fromkeys(Referral.ELIGIBILITY_FIELDS, True)
SERVICE_KINDS = (
    OrganisationKind.SECURITY_CONTRACTOR,
    OrganisationKind.ADULT_SUPPORT,
    OrganisationKind.CYP_SUPPORT,
)


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    # The counters live in the shared Redis and outlast a test run.
    for limit in (ratelimit.FORM_POSTS, ratelimit.SUBMISSIONS):
        ratelimit.reset(limit, "127.0.0.1")


@pytest.fixture
def worker() -> Any:
    return staff("tia.triage@spa.example.org", Role.SPA_TRIAGE)


def provider(kind: str, name: str, *, authority: str = "kent") -> Organisation:
    districts = geography()
    organisation = Organisation.objects.create(name=name, kind=kind)
    organisation.authorities.add(CommissioningAuthority.objects.get(code=authority))
    if kind == OrganisationKind.SECURITY_CONTRACTOR:
        organisation.districts_covered.add(districts["maidstone"])
    return organisation


@pytest.fixture
def providers() -> dict[str, Organisation]:
    # These are the only providers in play, whatever shared helpers may have set up.
    Organisation.objects.filter(kind__in=SERVICE_KINDS).update(is_active=False)
    return {
        "contractor": provider(OrganisationKind.SECURITY_CONTRACTOR, "Fictional Locks"),
        "adult": provider(OrganisationKind.ADULT_SUPPORT, "Fictional Adult Support"),
        "cyp": provider(OrganisationKind.CYP_SUPPORT, "Fictional Young People's Service"),
    }


def eligible_referral(worker: Any, *, children: int = 0) -> Referral:
    referral = make_referral(children=children)
    referral = referral_triage_start(referral=referral, user=worker)
    return referral_eligibility_record(referral=referral, user=worker, answers=ALL_YES)


def household_children(referral: Referral) -> list[Person]:
    return list(
        Person.objects.filter(
            household_id=referral.case_file.household_id, household_role=HouseholdRole.CHILD
        ).order_by("given_name")
    )


def timeline(referral: Referral) -> list[tuple[str, dict[str, Any]]]:
    return [
        (event.kind, event.data)
        for event in CaseEvent.objects.filter(case_file=referral.case_file).order_by("id")
    ]


def test_accept_with_every_route_opens_the_job_the_adult_case_and_a_cyp_case_per_named_child(
    worker: Any, providers: dict[str, Organisation]
) -> None:
    referral = eligible_referral(worker, children=3)
    first, second, not_named = household_children(referral)

    accepted = referral_accept(
        **ACCEPT_REASONS,
        referral=referral,
        user=worker,
        security_works=True,
        adult_support=True,
        children=[second, first],
    )

    assert accepted.status == ReferralStatus.ACCEPTED
    case_file = referral.case_file
    job = SecurityJob.objects.get(case_file=case_file)
    assert job.contractor == providers["contractor"]
    adult = AdultSupportCase.objects.get(case_file=case_file)
    assert adult.survivor_id == case_file.survivor_id
    assert adult.provider == providers["adult"]
    assert adult.status == AdultStatus.AWAITING_ALLOCATION
    assert adult.opened_by == worker
    cyp_cases = {case.child_id: case for case in CypCase.objects.filter(case_file=case_file)}
    assert set(cyp_cases) == {first.pk, second.pk}
    assert not CypCase.objects.filter(child=not_named).exists()
    for case in cyp_cases.values():
        assert case.provider == providers["cyp"]
        assert case.source == CypSource.SPA
        assert case.accommodation_type == "sanctuary"
        assert case.status == CypStatus.AWAITING_ALLOCATION
    assert set(accepted.routed_children.all()) == {first, second}

    events = timeline(referral)
    kinds = [kind for kind, _ in events]
    assert kinds.count("security_job.allocated") == 1
    assert kinds.count("adult_support.opened") == 1
    opened_children = {data["child_id"] for kind, data in events if kind == "cyp.opened"}
    assert opened_children == {str(first.pk), str(second.pk)}
    (decision,) = [data for kind, data in events if kind == "referral_accepted"]
    assert decision["routes"] == ["security_works", "adult_support", "children"]
    assert decision["security_job"] == job.reference
    assert decision["adult_support_case"] == adult.reference
    assert sorted(decision["cyp_cases"]) == sorted(c.reference for c in cyp_cases.values())
    # The providers' managers can pick the cases up at once: the case file is shared with them.
    granted = {data["holder_id"] for kind, data in events if kind == "access_granted"}
    assert {str(providers["adult"].pk), str(providers["cyp"].pk)} <= granted


def test_accept_with_security_works_only_opens_no_support_case(
    worker: Any, providers: dict[str, Organisation]
) -> None:
    referral = eligible_referral(worker, children=2)

    referral_accept(
        **ACCEPT_REASONS, referral=referral, user=worker, security_works=True, adult_support=False
    )

    assert SecurityJob.objects.filter(case_file=referral.case_file).count() == 1
    assert not AdultSupportCase.objects.filter(case_file=referral.case_file).exists()
    assert not CypCase.objects.filter(case_file=referral.case_file).exists()
    kinds = [kind for kind, _ in timeline(referral)]
    assert not [k for k in kinds if k.startswith(("adult_support.", "cyp."))]
    (decision,) = [data for kind, data in timeline(referral) if kind == "referral_accepted"]
    assert decision["adult_support_case"] == ""
    assert decision["cyp_cases"] == []


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("adult", "the adult support case could not be opened"),
        # The CYP cases are opened last: the job and the adult case already made must go too.
        ("cyp", "case for Child0 could not be opened"),
    ],
)
def test_accept_rolls_back_every_route_when_a_support_case_cannot_be_opened(
    worker: Any, providers: dict[str, Organisation], missing: str, message: str
) -> None:
    referral = eligible_referral(worker, children=1)
    (child,) = household_children(referral)
    # The provider serves another authority only: none is configured for Kent.
    absent = providers[missing]
    absent.authorities.set(CommissioningAuthority.objects.filter(code="medway"))
    events_before = timeline(referral)
    grants_before = (
        CaseFileGroupObjectPermission.objects.count(),
        CaseFileUserObjectPermission.objects.count(),
    )

    with pytest.raises(ReferralError, match=message) as raised:
        referral_accept(
            **ACCEPT_REASONS,
            referral=referral,
            user=worker,
            security_works=True,
            adult_support=True,
            children=[child],
        )

    assert "No active provider of this service works for Kent County Council" in (
        raised.value.message
    )
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.IN_TRIAGE
    assert referral.decided_at is None
    assert not referral.route_security_works
    assert not referral.routed_children.exists()
    assert not SecurityJob.objects.filter(case_file=referral.case_file).exists()
    assert not AdultSupportCase.objects.filter(case_file=referral.case_file).exists()
    assert not CypCase.objects.filter(case_file=referral.case_file).exists()
    assert timeline(referral) == events_before
    assert (
        CaseFileGroupObjectPermission.objects.count(),
        CaseFileUserObjectPermission.objects.count(),
    ) == grants_before

    # Once the provider is configured the same decision goes through.
    absent.authorities.add(CommissioningAuthority.objects.get(code="kent"))
    referral_accept(
        **ACCEPT_REASONS,
        referral=referral,
        user=worker,
        security_works=True,
        adult_support=True,
        children=[child],
    )
    assert CypCase.objects.filter(child=child).count() == 1
    assert AdultSupportCase.objects.filter(case_file=referral.case_file).count() == 1


def test_accept_page_names_the_children_and_shows_a_missing_provider_clearly(
    client: Client, worker: Any, providers: dict[str, Organisation]
) -> None:
    referral = eligible_referral(worker, children=2)
    first, second = household_children(referral)
    providers["cyp"].is_active = False
    providers["cyp"].save(update_fields=["is_active"])
    sign_in(client, worker)
    url = reverse("referrals:accept", kwargs={"referral_id": referral.id})

    page = client.get(url).content.decode()
    assert "(CYP) case is opened for each child ticked" in page
    assert "Child0 Example" in page
    assert "Child1 Example" in page

    response = client.post(
        url,
        {
            "security_works": "on",
            "adult_support": "on",
            "children": [first.pk, second.pk],
            **ACCEPT_REASONS,
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "The referral has not been accepted" in body
    assert "No active provider of this service works for Kent County Council" in body
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.IN_TRIAGE
    assert not SecurityJob.objects.filter(case_file=referral.case_file).exists()
    assert not AdultSupportCase.objects.filter(case_file=referral.case_file).exists()

    providers["cyp"].is_active = True
    providers["cyp"].save(update_fields=["is_active"])
    response = client.post(url, {"adult_support": "on", "children": [second.pk], **ACCEPT_REASONS})
    assert response.status_code == 302
    assert list(CypCase.objects.filter(case_file=referral.case_file)) == list(
        CypCase.objects.filter(child=second)
    )
