"""The commissioner dashboard's filters in a real browser, as a Kent commissioner: the filters are
labelled selects that keep what was chosen, an out-of-date link is an error the summary leads to,
and the page passes axe and reflows at 320px. Behaviour, not markup: the layout is still moving."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect

from safer.accounts.models import User
from tests.e2e.conftest import (
    ConsoleErrors,
    OutsideRequests,
    check_page,
    follow_error_link,
    sign_in_browser,
    unexpected_console_errors,
)
from tests.factories import PersonaWorld

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _filters(page: Page) -> Locator:
    return page.locator("main form").filter(has=page.get_by_label("Period", exact=True))


def _apply(page: Page) -> None:
    """Submit the filters from the keyboard: Enter on the form's submit button."""
    button = _filters(page).locator("button[type=submit], input[type=submit]").first
    button.focus()
    button.press("Enter")
    page.wait_for_load_state()


def test_commissioner_filters_the_dashboard_by_period_and_district(
    page: Page,
    world: PersonaWorld,
    commissioner: User,
    axe_source: str,
    console_errors: ConsoleErrors,
    outside_requests: OutsideRequests,
) -> None:
    sign_in_browser(page, commissioner)
    page.goto("/reports/dashboard/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Kent County Council")
    check_page(page, axe_source)

    period = page.get_by_label("Period", exact=True)
    option = period.locator("option").nth(1)
    code = option.get_attribute("value") or ""
    period.select_option(value=code)
    page.get_by_label("District", exact=True).select_option(label="Ashford")
    _apply(page)

    query = parse_qs(urlsplit(page.url).query)
    assert query["period"] == [code]
    assert query["district"] == [str(world.kent.districts.get(name="Ashford").pk)]
    # The figures are for what was asked, and the filters still say so.
    expect(page.get_by_label("Period", exact=True)).to_have_value(code)
    expect(page.get_by_label("District", exact=True)).to_have_value(query["district"][0])
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    check_page(page, axe_source)
    assert unexpected_console_errors(console_errors) == []
    assert outside_requests.urls == []


def test_an_out_of_date_dashboard_link_shows_an_error_that_leads_to_the_filter(
    page: Page, commissioner: User, axe_source: str
) -> None:
    sign_in_browser(page, commissioner)
    page.goto("/reports/dashboard/?period=1999-Q9")

    expect(page).to_have_title(re.compile("^Error: "))
    follow_error_link(page, "Choose a period from the list.")
    expect(page.get_by_label("Period", exact=True)).to_be_focused()
    check_page(page, axe_source)

    page.get_by_label("Period", exact=True).select_option(index=0)
    _apply(page)
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    expect(page).not_to_have_title(re.compile("^Error: "))
