"""The header search in a real browser, as SPA triage staff: find a referral by postcode and by
date of birth from the box in the header, open it (the open is access-logged), with axe and
320px reflow checks on the results page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from safer.accounts.models import User
from safer.audit.models import AccessAction, AccessLog
from tests.e2e.conftest import (
    ConsoleErrors,
    OutsideRequests,
    check_page,
    unexpected_console_errors,
)
from tests.referrals_support import make_referral

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _search_from_header(page: Page, text: str) -> None:
    box = page.get_by_role("search", name="Search records")
    box.get_by_label("Search by reference, name, date of birth, postcode or phone").fill(text)
    button = box.get_by_role("button", name="Search")
    button.focus()
    button.press("Enter")
    page.wait_for_load_state()


def test_spa_finds_a_referral_by_postcode_and_date_of_birth_and_opens_it(
    page: Page,
    spa_triage: User,
    axe_source: str,
    screenshots: object,
    console_errors: ConsoleErrors,
    outside_requests: OutsideRequests,
) -> None:
    from tests.e2e.conftest import sign_in_browser

    wanted = make_referral(
        given_name="Jordan",
        family_name="Fictional",
        date_of_birth=dt.date(1990, 12, 4),
        postcode="ME14 1XX",
    )
    make_referral(given_name="Other", postcode="ME16 8ZZ")
    medway = make_referral(
        given_name="Jordan",
        family_name="Fictional",
        date_of_birth=dt.date(1990, 12, 4),
        district="medway",
        postcode="ME4 4XX",
    )
    sign_in_browser(page, spa_triage)
    page.goto("/referrals/")

    # By postcode, typed the way people do: lower case, no space.
    _search_from_header(page, "me141xx")
    expect(page).to_have_title(re.compile("^Search results for ME14 1XX"))
    expect(page.get_by_text("Searched by postcode: ME14 1XX")).to_be_visible()
    referrals = page.get_by_role("list", name=re.compile("^Referrals"))
    expect(referrals.get_by_role("link", name=wanted.reference)).to_be_visible()
    expect(page.get_by_text(medway.reference)).to_have_count(0)
    check_page(page, axe_source)
    page.screenshot(path=f"{screenshots}/search-postcode.png", full_page=True)

    # By date of birth, GOV.UK style.
    _search_from_header(page, "4 December 1990")
    expect(page.get_by_text("Searched by date of birth: 4 December 1990")).to_be_visible()
    referrals = page.get_by_role("list", name=re.compile("^Referrals"))
    expect(referrals.get_by_role("listitem")).to_have_count(1)
    expect(referrals).to_contain_text("Jordan Fictional")
    expect(page.get_by_text(medway.reference)).to_have_count(0)
    check_page(page, axe_source)
    page.screenshot(path=f"{screenshots}/search-dob.png", full_page=True)

    # A date that cannot exist: the error names the fix and leads to the field.
    _search_from_header(page, "31/02/1990")
    expect(page).to_have_title(re.compile("^Error: "))
    link = page.locator(".govuk-error-summary").get_by_role("link")
    expect(link).to_have_text(re.compile("Date of birth must be a real date"))
    check_page(page, axe_source)

    # Open the result: the referral page, whose read is logged.
    _search_from_header(page, "04/12/1990")
    referrals = page.get_by_role("list", name=re.compile("^Referrals"))
    referrals.get_by_role("link", name=wanted.reference).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(wanted.reference)
    assert AccessLog.objects.filter(
        user=spa_triage, action=AccessAction.VIEW, record_id=str(wanted.id)
    ).exists()
    assert not AccessLog.objects.filter(record_id=str(medway.id)).exists()
    page.screenshot(path=f"{screenshots}/search-opened.png", full_page=True)

    assert unexpected_console_errors(console_errors) == []
    assert outside_requests.urls == []
