"""The SPA's new pages in a real browser, as SPA triage staff: advice-only contacts, recording a
contact attempt with the survivor, and recording a MARAC hearing. Each journey is walked with the
form as a keyboard user meets it (fields found by their labels, errors reached from the error
summary), and every page is checked with axe and at a 320px-wide viewport."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from referrals.models import AdviceContact, MaracReferral, Referral, ReferralContactAttempt
from referrals.services import marac_referral_record, risk_assessment_record
from safer.accounts.models import User
from safer.organisations.models import District
from tests.e2e.conftest import (
    ConsoleErrors,
    OutsideRequests,
    check_page,
    follow_error_link,
    sign_in_browser,
    submit,
    unexpected_console_errors,
)
from tests.referrals_support import make_referral

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


# --- Advice-only contacts -----------------------------------------------------------------------


def _fill_advice_form(page: Page, *, note: str) -> None:
    today = timezone.localdate()
    page.get_by_label("District (optional)").select_option(label="Ashford")
    page.get_by_label("Day").fill(str(today.day))
    page.get_by_label("Month").fill(str(today.month))
    page.get_by_label("Year").fill(str(today.year))
    page.get_by_label("Professional", exact=True).check()
    page.get_by_label("If a professional: the kind of agency").select_option(index=1)
    page.get_by_label("Phone", exact=True).check()
    page.get_by_label("Home security", exact=True).check()
    page.get_by_label("Police", exact=True).check()
    page.get_by_label("Length of the contact in minutes (optional)").fill("20")
    page.get_by_label("Note: do not enter names or contact details").fill(note)


def test_spa_records_an_advice_contact_refusing_contact_details_in_the_note(
    page: Page,
    spa_triage: User,
    axe_source: str,
    console_errors: ConsoleErrors,
    outside_requests: OutsideRequests,
) -> None:
    sign_in_browser(page, spa_triage)
    page.goto("/referrals/advice/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Information and advice contacts")
    expect(page.get_by_text("0 contacts.")).to_be_visible()
    check_page(page, axe_source)

    page.get_by_role("link", name="Record an advice contact").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record an advice contact")
    check_page(page, axe_source)

    # Nothing chosen: each missing answer is in the summary and leads to its field.
    submit(page, "Save")
    expect(page).to_have_title(re.compile("^Error: "))
    follow_error_link(page, "Select who contacted the SPA")
    follow_error_link(page, "Select at least one topic")
    check_page(page, axe_source)

    note = "Asked about a lock change; call back on 07700 900123"
    _fill_advice_form(page, note=note)
    submit(page, "Save")

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text(
        "Remove the contact details from the note: this record keeps none."
    )
    assert not AdviceContact.objects.exists()
    # Nothing typed is lost.
    expect(page.get_by_label("District (optional)")).to_have_value(
        str(District.objects.get(name="Ashford").pk)
    )
    expect(page.get_by_label("Day")).to_have_value(str(timezone.localdate().day))
    expect(page.get_by_label("Professional", exact=True)).to_be_checked()
    expect(page.get_by_label("Phone", exact=True)).to_be_checked()
    expect(page.get_by_label("Home security", exact=True)).to_be_checked()
    expect(page.get_by_label("Police", exact=True)).to_be_checked()
    expect(page.get_by_label("Length of the contact in minutes (optional)")).to_have_value("20")
    expect(page.get_by_label("Note: do not enter names or contact details")).to_have_value(note)
    check_page(page, axe_source)

    page.get_by_label("Note: do not enter names or contact details").fill(
        "Asked about a lock change; told how to refer."
    )
    submit(page, "Save")

    expect(page).to_have_url(re.compile(r"/referrals/advice/$"))
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Advice contact recorded."
    )
    expect(page.get_by_text("1 contact.")).to_be_visible()
    row = page.locator("tbody tr").first
    expect(row).to_contain_text("Ashford")
    expect(row).to_contain_text("Home security")
    expect(row).to_contain_text("Police")
    contact = AdviceContact.objects.get()
    assert contact.note == "Asked about a lock change; told how to refer."
    assert contact.recorded_by == spa_triage
    check_page(page, axe_source)
    assert unexpected_console_errors(console_errors) == []
    assert outside_requests.urls == []


def test_contact_details_in_the_advice_note_are_linked_to_the_note(
    page: Page, spa_triage: User
) -> None:
    sign_in_browser(page, spa_triage)
    page.goto("/referrals/advice/new/")
    _fill_advice_form(page, note="Ring 07700 900123")
    submit(page, "Save")
    follow_error_link(page, "Remove the contact details from the note: this record keeps none.")


def test_an_advice_contact_can_be_about_several_topics(page: Page, spa_triage: User) -> None:
    sign_in_browser(page, spa_triage)
    page.goto("/referrals/advice/new/")
    _fill_advice_form(page, note="")
    page.get_by_label("Safety planning", exact=True).check()
    page.get_by_label("Legal advice", exact=True).check()

    expect(page.get_by_label("Home security", exact=True)).to_be_checked()
    expect(page.get_by_label("Police", exact=True)).to_be_checked()


def test_advice_list_filters_by_month_and_district(
    page: Page, spa_triage: User, axe_source: str
) -> None:
    sign_in_browser(page, spa_triage)
    page.goto("/referrals/advice/")
    this_month = timezone.localdate().strftime("%B %Y")
    page.get_by_label("Month").select_option(label=this_month)
    page.get_by_label("District").select_option(label="Canterbury")
    submit(page, "Apply filters")

    expect(page).to_have_url(re.compile(r"month=\d{4}-\d{2}"))
    expect(page.get_by_label("Month")).to_have_value(timezone.localdate().strftime("%Y-%m"))
    expect(page.get_by_text("No advice contacts match these filters.")).to_be_visible()
    check_page(page, axe_source)


# --- Contact attempts with the survivor -----------------------------------------------------------


@pytest.fixture
def referral(spa_triage: User) -> Referral:
    """A Kent referral (Maidstone) whose safe-contact rules allow phone calls only."""
    return make_referral()


def test_spa_records_a_contact_attempt_from_the_referral_page(
    page: Page,
    spa_triage: User,
    referral: Referral,
    axe_source: str,
    console_errors: ConsoleErrors,
    outside_requests: OutsideRequests,
) -> None:
    sign_in_browser(page, spa_triage)
    page.goto(f"/referrals/{referral.id}/")
    expect(page.get_by_text("No attempt to contact the survivor is recorded yet.")).to_be_visible()
    check_page(page, axe_source)

    # The form is open on the page (no attempt yet), after the safe-contact rules.
    form = page.locator("form[action$='/contact/']")
    expect(form).to_be_visible()
    form.get_by_label("Phone call").check()
    form.get_by_label("No answer").check()
    form.get_by_label("Note").fill("Rang at the safe time; no answer, no voicemail left.")
    submit(page, "Record the attempt")

    expect(page).to_have_url(re.compile(rf"/referrals/{referral.id}/$"))
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Contact attempt recorded."
    )
    attempts = page.locator("#contact-attempts + .safer-table-scroll table")
    expect(attempts).to_contain_text("Phone call")
    expect(attempts).to_contain_text("No answer")
    attempt = ReferralContactAttempt.objects.get()
    assert attempt.recorded_by == spa_triage
    check_page(page, axe_source)
    assert unexpected_console_errors(console_errors) == []
    assert outside_requests.urls == []


def test_contact_attempt_page_asks_for_a_reason_to_go_against_the_safe_contact_rules(
    page: Page,
    spa_triage: User,
    referral: Referral,
    axe_source: str,
    console_errors: ConsoleErrors,
) -> None:
    sign_in_browser(page, spa_triage)
    page.goto(f"/referrals/{referral.id}/contact/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Record a contact attempt")
    # The rules come before the form.
    rules = page.locator(".safer-safe-contact, .govuk-notification-banner").first
    expect(rules).to_be_visible()
    assert rules.bounding_box()["y"] < page.locator("form").last.bounding_box()["y"]  # type: ignore[index]
    check_page(page, axe_source)

    time = page.get_by_label("Time of the attempt")
    now = time.input_value()  # filled in with the time the page was shown
    assert re.fullmatch(r"\d\d:\d\d", now)
    time.fill("25:99")
    page.get_by_label("Email", exact=True).check()
    submit(page, "Record the attempt")

    expect(page).to_have_title(re.compile("^Error: "))
    follow_error_link(page, "Enter a real time, like 09:15 or 14:30")
    follow_error_link(page, "Select what happened")
    expect(page.get_by_label("Email", exact=True)).to_be_checked()
    check_page(page, axe_source)

    time.fill(now)
    page.get_by_label("Spoke to the survivor").check()
    submit(page, "Record the attempt")

    # Email is not a safe channel for this person: a reason is asked for, on that field.
    follow_error_link(page, page.locator(".govuk-error-summary a").first.inner_text())
    expect(page.get_by_label("Why you went ahead against the safe-contact rules")).to_be_focused()
    assert not ReferralContactAttempt.objects.exists()
    check_page(page, axe_source)

    page.get_by_label("Why you went ahead against the safe-contact rules").fill(
        "The survivor asked us to email today."
    )
    submit(page, "Record the attempt")

    expect(page).to_have_url(re.compile(rf"/referrals/{referral.id}/$"))
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Contact attempt recorded."
    )
    expect(page.locator("#contact-attempts + .safer-table-scroll table")).to_contain_text(
        "Against the safe-contact rules"
    )
    attempt = ReferralContactAttempt.objects.get()
    assert attempt.unsafe_channel_reason == "The survivor asked us to email today."
    assert f"{timezone.localtime(attempt.attempted_at):%H:%M}" == now
    assert unexpected_console_errors(console_errors) == []


# --- The MARAC hearing --------------------------------------------------------------------------


@pytest.fixture
def marac(spa_triage: User) -> MaracReferral:
    referral = make_referral(dash_score=16)
    today = timezone.localdate()
    assessment = risk_assessment_record(
        referral=referral,
        user=spa_triage,
        answers={n: "yes" if n <= 15 else "no" for n in range(1, 25)},
        completed_on=today,
    )
    return marac_referral_record(
        referral=referral,
        user=spa_triage,
        assessment=assessment,
        area="Maidstone MARAC",
        referred_on=today - dt.timedelta(days=7),
    )


def test_spa_records_the_marac_hearing(
    page: Page,
    spa_triage: User,
    marac: MaracReferral,
    axe_source: str,
    console_errors: ConsoleErrors,
) -> None:
    sign_in_browser(page, spa_triage)
    page.goto(f"/referrals/{marac.referral_id}/")
    page.get_by_role("link", name=re.compile("^record the hearing")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record the MARAC hearing")
    expect(page.get_by_text("Referred to Maidstone MARAC")).to_be_visible()
    check_page(page, axe_source)

    submit(page, "Record the hearing")
    expect(page).to_have_title(re.compile("^Error: "))
    follow_error_link(page, "Enter the date the MARAC heard the case")
    follow_error_link(page, "Enter the outcome and a summary of the action plan")
    check_page(page, axe_source)

    today = timezone.localdate()
    page.get_by_label("Outcome and action plan summary").fill("Police marker; IDVA weekly.")
    page.get_by_label("Day").fill(str(today.day))
    page.get_by_label("Month").fill(str(today.month))
    page.get_by_label("Year").fill(str(today.year))
    submit(page, "Record the hearing")

    expect(page).to_have_url(re.compile(rf"/referrals/{marac.referral_id}/$"))
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "MARAC hearing recorded."
    )
    expect(page.get_by_text("Police marker; IDVA weekly.")).to_be_visible()
    marac.refresh_from_db()
    assert marac.heard_on == today
    assert unexpected_console_errors(console_errors) == []
