"""The commissioning pages in a real browser, as a Kent commissioner: commissioned units (list,
add, change) and support-contract spend (list, a contract's spend, a payment and its correction).
Each form is filled by its labels and submitted from the keyboard, errors are reached from the
error summary, and every page is checked with axe and at a 320px-wide viewport."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from reporting.models import CommissionedUnits, ContractSpend
from reporting.periods import Period
from safer.accounts.models import User
from safer.organisations.models import Contract
from tests.e2e.conftest import (
    ConsoleErrors,
    OutsideRequests,
    check_page,
    fill_date,
    follow_error_link,
    sign_in_browser,
    submit,
    unexpected_console_errors,
)
from tests.factories import ContractFactory, PersonaWorld

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_commissioner_records_and_changes_commissioned_units(
    page: Page,
    world: PersonaWorld,
    commissioner: User,
    axe_source: str,
    console_errors: ConsoleErrors,
    outside_requests: OutsideRequests,
) -> None:
    sign_in_browser(page, commissioner)
    page.goto("/reports/commissioning/units/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Commissioned units of safe accommodation"
    )
    year = page.get_by_label("Financial year").input_value()
    expect(page.locator("#units-rows")).to_contain_text(f"Nothing recorded for {year} yet.")
    check_page(page, axe_source)

    page.get_by_role("link", name="Record commissioned units").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record commissioned units")
    check_page(page, axe_source)

    submit(page, "Save")
    expect(page).to_have_title(re.compile("^Error: "))
    follow_error_link(page, "Select the type of safe accommodation")
    expect(page.get_by_label("Refuge", exact=True)).to_be_focused()
    check_page(page, axe_source)

    page.get_by_label("Refuge", exact=True).check()
    page.get_by_label("Units commissioned").fill("-3")
    page.get_by_label("Note (optional)").fill("Two refuges in east Kent.")
    submit(page, "Save")
    follow_error_link(page, "Ensure this value is greater than or equal to 0.")
    expect(page.get_by_label("Units commissioned")).to_be_focused()
    # What was typed is kept.
    expect(page.get_by_label("Refuge", exact=True)).to_be_checked()
    expect(page.get_by_label("Note (optional)")).to_have_value("Two refuges in east Kent.")
    assert not CommissionedUnits.objects.exists()

    page.get_by_label("Units commissioned").fill("12")
    submit(page, "Save")

    expect(page).to_have_url(re.compile(rf"/reports/commissioning/units/\?.*year={year}"))
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "The commissioned units have been recorded."
    )
    expect(page.locator("#units-by-type")).to_contain_text("12")
    record = CommissionedUnits.objects.get()
    assert (record.units, record.financial_year, record.authority) == (12, year, world.kent)
    check_page(page, axe_source)

    page.get_by_role("link", name=re.compile("^Change")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Change commissioned units")
    expect(page.get_by_label("Units commissioned")).to_have_value("12")
    check_page(page, axe_source)
    page.get_by_label("Units commissioned").fill("14")
    submit(page, "Save")

    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "The commissioned units have been changed."
    )
    record.refresh_from_db()
    assert record.units == 14
    assert unexpected_console_errors(console_errors) == []
    assert outside_requests.urls == []


@pytest.fixture
def contract(world: PersonaWorld) -> Contract:
    return ContractFactory.create(
        authority=world.kent, provider=world.organisations["adult"], reference="KENT-ADULT"
    )


def test_commissioner_records_a_payment_and_corrects_it(
    page: Page,
    commissioner: User,
    contract: Contract,
    axe_source: str,
    console_errors: ConsoleErrors,
    outside_requests: OutsideRequests,
) -> None:
    # The page's default: the last complete quarter.
    quarter = Period.quarter_containing(timezone.localdate()).previous()
    sign_in_browser(page, commissioner)
    page.goto("/reports/commissioning/spend/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Support-contract spend")
    expect(page.locator("#contract-spend")).to_contain_text("KENT-ADULT")
    check_page(page, axe_source)

    page.get_by_role("link", name="KENT-ADULT").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("KENT-ADULT")
    check_page(page, axe_source)

    page.get_by_role("link", name="Record a payment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record a payment")
    check_page(page, axe_source)

    fill_date(page, "First day covered", quarter.start)
    fill_date(page, "Last day covered", quarter.start - dt.timedelta(days=1))
    page.get_by_label("Amount paid (£)").fill("30000.00")
    submit(page, "Save")
    expect(page).to_have_title(re.compile("^Error: "))
    follow_error_link(page, "The last day must be on or after the first day.")
    follow_error_link(page, "Enter the invoice or payment reference")
    expect(page.get_by_label("Invoice or payment reference")).to_be_focused()
    expect(page.get_by_label("Amount paid (£)")).to_have_value("30000.00")
    first_day = page.get_by_role("group", name="First day covered", exact=True)
    expect(first_day.get_by_label("Year", exact=True)).to_have_value(str(quarter.start.year))
    check_page(page, axe_source)

    fill_date(page, "Last day covered", quarter.end)
    page.get_by_label("Invoice or payment reference").fill("INV-0042")
    submit(page, "Save")

    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "The payment has been recorded."
    )
    expect(page.get_by_role("cell", name="INV-0042", exact=True)).to_be_visible()
    check_page(page, axe_source)

    page.get_by_role("link", name="Correct INV-0042").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Correct a payment")
    expect(page.get_by_label("Invoice or payment reference")).to_have_value("INV-0042")
    check_page(page, axe_source)

    page.get_by_label("Amount paid (£)").fill("-500.00")
    submit(page, "Save")
    follow_error_link(page, "Enter why the entry is corrected")
    expect(page.get_by_label("Why the entry is corrected")).to_be_focused()
    check_page(page, axe_source)

    page.get_by_label("Why the entry is corrected").fill("Invoiced twice for one week.")
    submit(page, "Save")

    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "The correction has been recorded."
    )
    expect(page.get_by_text("Correction", exact=True)).to_be_visible()
    entries = ContractSpend.objects.order_by("recorded_at")
    assert [e.amount for e in entries] == [Decimal("30000.00"), Decimal("-500.00")]
    assert entries[1].corrects == entries[0]
    assert unexpected_console_errors(console_errors) == []
    assert outside_requests.urls == []


def test_spend_list_shows_the_chosen_quarter(
    page: Page, commissioner: User, contract: Contract, axe_source: str
) -> None:
    sign_in_browser(page, commissioner)
    page.goto("/reports/commissioning/spend/")
    quarter = page.get_by_label("Quarter")
    chosen = quarter.locator("option").nth(1)
    code, label = chosen.get_attribute("value"), chosen.inner_text()
    quarter.select_option(value=code)
    submit(page, "Show")

    expect(page).to_have_url(re.compile(rf"period={re.escape(code or '')}"))
    expect(page.get_by_label("Quarter")).to_have_value(code or "")
    expect(page.locator("#contract-spend caption")).to_be_visible()
    assert label
    check_page(page, axe_source)
