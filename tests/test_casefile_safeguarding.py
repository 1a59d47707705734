"""The case file's safeguarding flag is raised through one core service, by every app."""

from __future__ import annotations

import pytest
from django.utils import timezone

from safer.accounts.roles import Role
from safer.casefile.models import CaseEvent, HouseholdRole, Person
from safer.casefile.services import casefile_safeguarding_flag_set
from safer.organisations.models import CommissioningAuthority, Organisation, OrganisationKind
from support.services import cyp_case_open
from support.services.cyp import safeguarding_concern_record
from tests.referrals_support import make_referral, staff

pytestmark = pytest.mark.django_db


def test_flag_is_raised_once_with_its_reason_on_the_timeline() -> None:
    case_file = make_referral().case_file
    worker = staff("sam.spa@spa.example.org", Role.SPA_TRIAGE)
    assert not case_file.safeguarding_flag

    flagged = casefile_safeguarding_flag_set(
        case_file=case_file, actor=worker, reason_code="test_reason"
    )
    again = casefile_safeguarding_flag_set(
        case_file=case_file, actor=worker, reason_code="another_reason"
    )

    case_file.refresh_from_db()
    assert case_file.safeguarding_flag
    assert flagged.safeguarding_flag
    assert again.safeguarding_flag
    (event,) = CaseEvent.objects.filter(case_file=case_file, kind="safeguarding_flag_set")
    assert event.actor == worker
    assert event.data == {"reason_code": "test_reason"}


def test_flag_needs_a_reason_code() -> None:
    case_file = make_referral().case_file
    with pytest.raises(ValueError, match="reason code"):
        casefile_safeguarding_flag_set(case_file=case_file, actor=None, reason_code=" ")
    case_file.refresh_from_db()
    assert not case_file.safeguarding_flag


def test_a_cyp_safeguarding_concern_raises_the_flag_through_the_core_service() -> None:
    referral = make_referral(children=1)
    case_file = referral.case_file
    provider = Organisation.objects.create(
        name="Fictional Young People's Service", kind=OrganisationKind.CYP_SUPPORT
    )
    provider.authorities.add(CommissioningAuthority.objects.get(code="kent"))
    worker = staff("cy.worker@cyp.example.org", Role.CYP_WORKER, organisation=provider)
    child = Person.objects.get(
        household_id=case_file.household_id, household_role=HouseholdRole.CHILD
    )
    case = cyp_case_open(case_file=case_file, child=child, opened_by=worker)

    safeguarding_concern_record(
        case=case,
        raised_on=timezone.localdate(),
        category="neglect",
        details="Not eating at school",
        raised_by=worker,
    )

    case_file.refresh_from_db()
    assert case_file.safeguarding_flag
    (event,) = CaseEvent.objects.filter(case_file=case_file, kind="safeguarding_flag_set")
    assert event.actor == worker
    assert event.data == {"reason_code": "cyp_safeguarding_concern"}
    assert "eating" not in event.summary
