"""Acceptance needs a risk level and a contact attempt (or the recorded reasons why not);
declining as a duplicate names the original, links the two and closes the duplicate's case file."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from referrals import ratelimit
from referrals.exceptions import ReferralError
from referrals.models import DeclineReason, MatchStatus, ReferralMatch, ReferralStatus, RiskLevel
from referrals.services import (
    referral_accept,
    referral_decline,
    referral_eligibility_record,
    referral_match_resolve,
)
from referrals.services.contact import referral_contact_attempt_record
from safer.accounts.roles import Role
from safer.casefile.models import CaseEvent, CaseStatus
from tests.helpers import sign_in
from tests.referrals_support import make_referral, staff

pytestmark = pytest.mark.django_db

ALL_YES = {
    "elig_resident_in_area": True,
    "elig_domestic_abuse": True,
    "elig_wishes_to_remain": True,
    "elig_perpetrator_not_resident": True,
    "elig_consent": True,
}


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    for limit in (ratelimit.FORM_POSTS, ratelimit.SUBMISSIONS):
        ratelimit.reset(limit, "127.0.0.1")


@pytest.fixture
def worker() -> Any:
    return staff("tina.triage@spa.example.org", Role.SPA_TRIAGE)


def _duplicate() -> DeclineReason:
    return DeclineReason.objects.get(code="duplicate")


# --- Acceptance: risk and contact ---------------------------------------------------------------


def test_accept_without_risk_level_or_reason_is_refused_naming_the_risk_field(worker: Any) -> None:
    referral = make_referral()
    referral_eligibility_record(referral=referral, user=worker, answers=ALL_YES)
    assert referral.risk_level == RiskLevel.NOT_ASSESSED
    with pytest.raises(ReferralError, match="risk has not been assessed") as refused:
        referral_accept(
            referral=referral,
            user=worker,
            security_works=False,
            adult_support=True,
            no_contact_attempt_reason="Referrer holds contact",
        )
    assert refused.value.field == "risk_not_assessed_reason"
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.RECEIVED


def test_accept_without_contact_attempt_or_reason_is_refused(worker: Any) -> None:
    referral = make_referral(dash_score=15)  # the referrer's DASH: high risk, assessed
    referral_eligibility_record(referral=referral, user=worker, answers=ALL_YES)
    assert referral.risk_level == RiskLevel.HIGH
    with pytest.raises(ReferralError, match="No attempt to contact") as refused:
        referral_accept(referral=referral, user=worker, security_works=False, adult_support=True)
    assert refused.value.field == "no_contact_attempt_reason"


def test_accept_with_assessed_risk_and_a_contact_attempt_needs_no_reason(worker: Any) -> None:
    referral = make_referral(dash_score=5)
    referral_eligibility_record(referral=referral, user=worker, answers=ALL_YES)
    referral_contact_attempt_record(
        referral=referral, user=worker, channel="phone", outcome="spoke_to_survivor"
    )
    accepted = referral_accept(
        referral=referral,
        user=worker,
        security_works=False,
        adult_support=True,
        risk_not_assessed_reason="ignored: the risk is assessed",
    )
    assert accepted.status == ReferralStatus.ACCEPTED
    assert accepted.risk_not_assessed_reason == ""
    assert accepted.no_contact_attempt_reason == ""


def test_accept_with_reasons_records_them_and_flags_the_event(worker: Any) -> None:
    referral = make_referral()
    referral_eligibility_record(referral=referral, user=worker, answers=ALL_YES)
    accepted = referral_accept(
        referral=referral,
        user=worker,
        security_works=False,
        adult_support=True,
        risk_not_assessed_reason="Survivor will do the checklist with the support worker",
        no_contact_attempt_reason="The IDVA holds contact and asked us not to call",
    )
    assert accepted.risk_not_assessed_reason.startswith("Survivor will")
    assert accepted.no_contact_attempt_reason.startswith("The IDVA")
    event = CaseEvent.objects.get(case_file=referral.case_file, kind="referral_accepted")
    assert event.data["risk_not_assessed"] is True
    assert event.data["no_contact_attempt"] is True
    assert "IDVA" not in event.summary  # no free text on the shared timeline


def test_accept_page_asks_for_the_reasons_and_shows_errors_against_them(worker: Any) -> None:
    referral = make_referral()
    referral_eligibility_record(referral=referral, user=worker, answers=ALL_YES)
    client = sign_in(Client(), worker)
    url = reverse("referrals:accept", kwargs={"referral_id": referral.id})
    page = client.get(url).content.decode()
    assert "Why the risk could not be assessed" in page
    assert "Why the survivor was not contacted" in page
    response = client.post(url, {"adult_support": "on"})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'href="#id_risk_not_assessed_reason"' in body
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.RECEIVED
    # Once assessed and contacted, the page no longer asks.
    referral.risk_level = RiskLevel.MEDIUM
    referral.save(update_fields=["risk_level"])
    referral_contact_attempt_record(
        referral=referral, user=worker, channel="phone", outcome="no_answer"
    )
    page = client.get(url).content.decode()
    assert "Why the risk could not be assessed" not in page
    assert "Why the survivor was not contacted" not in page


# --- Declining as a duplicate -------------------------------------------------------------------


def _pair() -> tuple[Any, Any]:
    original = make_referral(address_line_1="5 Example Lane", postcode="ME15 6AB")
    duplicate = make_referral(address_line_1="5 Example Lane", postcode="ME15 6AB")
    assert ReferralMatch.objects.filter(referral=duplicate, candidate=original).exists()
    return original, duplicate


def test_decline_as_duplicate_needs_the_original(worker: Any) -> None:
    _original, duplicate = _pair()
    with pytest.raises(ReferralError, match="Choose the referral this one duplicates"):
        referral_decline(referral=duplicate, user=worker, reason=_duplicate())
    with pytest.raises(ReferralError, match="cannot duplicate itself"):
        referral_decline(
            referral=duplicate, user=worker, reason=_duplicate(), duplicate_of=duplicate
        )


def test_decline_as_duplicate_links_it_and_closes_the_duplicates_case_file(worker: Any) -> None:
    original, duplicate = _pair()
    declined = referral_decline(
        referral=duplicate, user=worker, reason=_duplicate(), duplicate_of=original
    )
    assert declined.duplicate_of == original
    duplicate.case_file.refresh_from_db()
    assert duplicate.case_file.status == CaseStatus.CLOSED
    assert duplicate.case_file.closed_at is not None
    original.case_file.refresh_from_db()
    assert original.case_file.status == CaseStatus.OPEN
    match = ReferralMatch.objects.get(referral=duplicate, candidate=original)
    assert match.status == MatchStatus.LINKED
    assert CaseEvent.objects.filter(
        case_file=original.case_file, kind="referral_duplicate_linked"
    ).exists()
    assert CaseEvent.objects.filter(case_file=duplicate.case_file, kind="case_file_closed").exists()

    client = sign_in(Client(), worker)
    page = client.get(reverse("referrals:detail", kwargs={"referral_id": original.id}))
    body = page.content.decode()
    assert "Later referrals linked to this one" in body
    assert duplicate.reference in body
    assert "declined as a duplicate of this referral" in body
    assert "None found" not in body
    page = client.get(reverse("referrals:detail", kwargs={"referral_id": duplicate.id}))
    assert "Duplicate of" in page.content.decode()
    assert original.reference in page.content.decode()


def test_original_lists_a_repeat_linked_to_it(worker: Any) -> None:
    original, later = _pair()
    match = ReferralMatch.objects.get(referral=later, candidate=original)
    referral_match_resolve(match=match, user=worker, same_person=True)
    client = sign_in(Client(), worker)
    body = client.get(reverse("referrals:detail", kwargs={"referral_id": original.id})).content
    assert "a repeat referral of the same person" in body.decode()
    assert "None found" not in body.decode()


def test_decline_page_for_a_duplicate_offers_the_matches_and_takes_a_reference(
    worker: Any,
) -> None:
    original, duplicate = _pair()
    client = sign_in(Client(), worker)
    url = reverse("referrals:decline", kwargs={"referral_id": duplicate.id})
    page = client.get(url).content.decode()
    assert original.reference in page
    response = client.post(url, {"reason": "duplicate"})
    assert response.status_code == 200
    assert "Choose the referral this one duplicates, or give its reference" in (
        response.content.decode()
    )
    response = client.post(url, {"reason": "duplicate", "duplicate_of_reference": "SAFER-NOPE-1"})
    assert "No referral SAFER-NOPE-1 was found" in response.content.decode()
    response = client.post(
        url, {"reason": "duplicate", "duplicate_of_reference": original.reference.lower()}
    )
    assert response.status_code == 302
    duplicate.refresh_from_db()
    assert duplicate.duplicate_of == original
