"""SPA triage in a real browser, with the keyboard only (Tab, the arrow keys within radios,
Space, typing, Enter; no mouse, no programmatic focus; pages are opened by their address):
the eligibility checklist, the DASH checklist, a first contact attempt, then acceptance into
security works and adult support. Acceptance first refuses, naming the missing contact attempt,
and the error leads to its field. axe and 320px reflow on every page; screenshots kept."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from referrals import ratelimit
from referrals.models import Referral, ReferralStatus, RiskQuestion
from referrals.services import referral_triage_start
from safer.accounts.roles import Role
from safer.organisations.models import CommissioningAuthority, Organisation, OrganisationKind
from security_works.models import SecurityJob
from support.models import AdultSupportCase
from tests.e2e.conftest import (
    ConsoleErrors,
    check_page,
    follow_error_link,
    sign_in_browser,
    unexpected_console_errors,
)
from tests.e2e.keyboard import KeyboardUser
from tests.referrals_support import geography, make_referral, staff

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _providers() -> None:
    districts = geography()
    kent = CommissioningAuthority.objects.get(code="kent")
    kinds = (OrganisationKind.SECURITY_CONTRACTOR, OrganisationKind.ADULT_SUPPORT)
    Organisation.objects.filter(kind__in=kinds).update(is_active=False)
    for kind, name in zip(kinds, ("Fictional Locks", "Fictional Adult Support"), strict=True):
        organisation = Organisation.objects.create(name=name, kind=kind)
        organisation.authorities.add(kent)
        if kind == OrganisationKind.SECURITY_CONTRACTOR:
            organisation.districts_covered.add(districts["maidstone"])


def test_spa_triages_with_dash_and_accepts_into_works_and_support_by_keyboard(
    page: Page, axe_source: str, screenshots: Path, console_errors: ConsoleErrors
) -> None:
    for limit in (ratelimit.FORM_POSTS, ratelimit.SUBMISSIONS):
        ratelimit.reset(limit, "127.0.0.1")
    _providers()
    worker: Any = staff("kim.keyboard@spa.example.org", Role.SPA_TRIAGE)
    referral: Referral = make_referral(dash_score=None)
    referral_triage_start(referral=referral, user=worker)
    sign_in_browser(page, worker)
    keys = KeyboardUser(page)
    page.goto(f"/referrals/{referral.id}/")
    check_page(page, axe_source)

    # Eligibility: every item "Yes", by keyboard.
    for name in Referral.ELIGIBILITY_FIELDS:
        keys.pick(page.locator(f"input[name={name}][value=yes]"))
    keys.press_button("Save checklist")

    # The DASH checklist: a few "yes", the rest "no"; the date is typed into the three boxes.
    page.goto(f"/referrals/{referral.id}/risk/")
    check_page(page, axe_source)
    numbers = list(
        RiskQuestion.objects.filter(questionnaire__is_current=True).values_list("number", flat=True)
    )
    today = timezone.localdate()
    for box, value in enumerate((today.day, today.month, today.year)):
        keys.type(page.locator(f"#id_completed_on_{box}"), str(value))
    for number in numbers:
        keys.pick(page.locator(f"input[name=q{number}][value={'yes' if number <= 5 else 'no'}]"))
    keys.press_button("Save checklist")
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    referral.refresh_from_db()
    assert referral.risk_level != "not_assessed"

    # Accept without a contact attempt: refused, the error names the field and leads to it.
    page.goto(f"/referrals/{referral.id}/accept/")
    check_page(page, axe_source)
    expect(page.get_by_label("Why the survivor was not contacted")).to_be_visible()
    expect(page.get_by_label("Why the risk could not be assessed")).to_have_count(0)
    keys.press_button("Accept referral")
    follow_error_link(
        page,
        "No attempt to contact the survivor is recorded. Record the contact attempt first, or "
        "say why the survivor was not contacted.",
    )
    check_page(page, axe_source)
    page.screenshot(path=str(screenshots / "triage-accept-refused.png"), full_page=True)

    # Record a contact attempt from the referral page, by keyboard.
    page.goto(f"/referrals/{referral.id}/contact/")
    keys.pick(page.get_by_label("Phone call"))
    keys.pick(page.get_by_label("Spoke to the survivor"))
    keys.press_button("Record the attempt")

    # Accept into security works and adult support.
    page.goto(f"/referrals/{referral.id}/accept/")
    expect(page.get_by_label("Why the survivor was not contacted")).to_have_count(0)
    works = page.get_by_label("Security works")
    adult = page.get_by_label("Adult support")
    if not works.is_checked():
        keys.pick(works)
    if not adult.is_checked():
        keys.pick(adult)
    keys.press_button("Accept referral")
    expect(page).to_have_url(re.compile(rf"/referrals/{referral.id}/$"))
    expect(page.get_by_text(f"Referral {referral.reference} accepted.")).to_be_visible()
    check_page(page, axe_source)
    page.screenshot(path=str(screenshots / "triage-accepted.png"), full_page=True)

    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACCEPTED
    assert referral.no_contact_attempt_reason == ""
    assert SecurityJob.objects.filter(case_file=referral.case_file).exists()
    assert AdultSupportCase.objects.filter(case_file=referral.case_file).exists()
    assert unexpected_console_errors(console_errors) == []
