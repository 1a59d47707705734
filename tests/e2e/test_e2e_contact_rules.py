"""The safe-contact rules in a real browser: an adult worker's "phone call, left a message" is
refused until a reason is given (the rules say "do not leave voicemail"), then recorded with the
reason on the case's timeline; an SPA attempt outside the survivor's safe times is warned. Each
page is checked with axe and at 320px, and screenshotted under test-results/e2e/."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from referrals.models import Referral, ReferralContactAttempt
from safer.accounts.models import User
from safer.casefile.contact import safe_times_fields
from safer.casefile.models import SafeContactOverride, SafeContactRules
from support.models import AdultSupportCase, ContactAttempt
from support.services.adult import adult_support_case_open
from tests.e2e.conftest import (
    ConsoleErrors,
    check_page,
    follow_error_link,
    sign_in_browser,
    submit,
    unexpected_console_errors,
)
from tests.factories import PersonaWorld
from tests.referrals_support import make_referral

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

REASON_LABEL = "Why you went ahead against the safe-contact rules"


@pytest.fixture
def adult_case(world: PersonaWorld) -> AdultSupportCase:
    """The persona world's own case, with an adult case allocated to the adult worker; its rules
    allow phone calls only and no voicemail."""
    SafeContactRules.objects.filter(case_file=world.own_case).update(
        safe_channels=["phone"], voicemail_safe=False, text_safe=False
    )
    return adult_support_case_open(
        case_file=world.own_case,
        opened_by=None,
        provider=world.organisations["adult"],
        worker=world.adult_support_worker,
    )


def test_a_voicemail_is_refused_without_a_reason_and_the_reason_shows_on_the_timeline(
    page: Page,
    world: PersonaWorld,
    adult_case: AdultSupportCase,
    axe_source: str,
    console_errors: ConsoleErrors,
    screenshots: Path,
) -> None:
    sign_in_browser(page, world.adult_support_worker)
    page.goto(f"/support/adult/{adult_case.pk}/contact/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Record a contact attempt")
    rules = page.locator(".safer-safe-contact")
    expect(rules).to_contain_text("Do not leave voicemail.")
    # The rules come before the form.
    assert rules.bounding_box()["y"] < page.locator("form").last.bounding_box()["y"]  # type: ignore[index]
    check_page(page, axe_source)

    page.get_by_label("Phone call").check()
    page.get_by_label("Left a message").check()
    submit(page, "Save")

    warning = "Voicemail is not marked safe for this person: do not leave a message."
    follow_error_link(page, warning)
    expect(page.get_by_label(REASON_LABEL)).to_be_focused()
    expect(page.get_by_label("Left a message")).to_be_checked()
    assert not ContactAttempt.objects.exists()
    page.screenshot(path=str(screenshots / "contact-voicemail-refused.png"), full_page=True)
    check_page(page, axe_source)

    reason = "She rang from a new safe phone and asked us to leave a message"
    page.get_by_label(REASON_LABEL).fill(reason)
    submit(page, "Save")

    expect(page).to_have_url(re.compile(rf"/support/adult/{adult_case.pk}/$"))
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Contact attempt recorded"
    )
    history = page.get_by_role("heading", name="History").locator("xpath=following-sibling::ul[1]")
    expect(history).to_contain_text("Against the safe-contact rules")
    expect(history).to_contain_text(f"Reason given: {reason}")
    page.screenshot(path=str(screenshots / "contact-voicemail-timeline.png"), full_page=True)
    check_page(page, axe_source)
    attempt = ContactAttempt.objects.get()
    assert attempt.unsafe_channel_reason == reason
    assert SafeContactOverride.objects.get().rules == ["voicemail"]
    assert unexpected_console_errors(console_errors) == []


def test_the_manager_sees_the_contact_made_against_the_rules(
    page: Page,
    world: PersonaWorld,
    adult_case: AdultSupportCase,
    axe_source: str,
    screenshots: Path,
) -> None:
    from support.services.common import contact_attempt_record

    contact_attempt_record(
        case=adult_case,
        channel="phone",
        outcome="message_left",
        recorded_by=world.adult_support_worker,
        unsafe_channel_reason="Asked to leave a message on her new phone",
    )
    sign_in_browser(page, world.provider_manager)
    page.goto("/cases/contact-overrides/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Contacts against the safe-contact rules"
    )
    table = page.locator("table")
    expect(table).to_contain_text("Asked to leave a message on her new phone")
    expect(table).to_contain_text("Voicemail not safe")
    expect(table).to_contain_text(world.own_case.reference)
    page.screenshot(path=str(screenshots / "contact-overrides-manager.png"), full_page=True)
    check_page(page, axe_source)


@pytest.fixture
def late_referral(spa_triage: User) -> Any:
    """A referral received two days ago whose survivor said "10am to 12pm"."""
    referral = make_referral()
    two_days_ago = timezone.now() - dt.timedelta(days=2)
    Referral.objects.filter(pk=referral.pk).update(received_at=two_days_ago)
    SafeContactRules.objects.filter(case_file=referral.case_file).update(
        safe_times="10am to 12pm", **safe_times_fields("10am to 12pm")
    )
    referral.refresh_from_db()
    return referral


def test_an_spa_attempt_outside_the_safe_times_is_warned(
    page: Page,
    spa_triage: User,
    late_referral: Referral,
    axe_source: str,
    console_errors: ConsoleErrors,
    screenshots: Path,
) -> None:
    sign_in_browser(page, spa_triage)
    page.goto(f"/referrals/{late_referral.id}/contact/")
    rules = page.locator(".safer-safe-contact")
    expect(rules).to_contain_text("Contact only at the safe times: 10am to midday.")
    expect(rules).to_contain_text("10am to midday")

    yesterday = timezone.localdate() - dt.timedelta(days=1)
    page.get_by_label("Day").fill(str(yesterday.day))
    page.get_by_label("Month").fill(str(yesterday.month))
    page.get_by_label("Year").fill(str(yesterday.year))
    page.get_by_label("Time of the attempt").fill("23:50")
    page.get_by_label("Phone call").check()
    page.get_by_label("No answer").check()
    submit(page, "Record the attempt")

    day = f"{yesterday:%A}"
    warning = f"11:50pm on {day} is outside this person's safe times (10am to midday)."
    expect(page).to_have_title(re.compile("^Error: "))
    follow_error_link(page, warning)
    expect(page.get_by_label(REASON_LABEL)).to_be_focused()
    assert not ReferralContactAttempt.objects.exists()
    page.screenshot(path=str(screenshots / "contact-out-of-window-warned.png"), full_page=True)
    check_page(page, axe_source)

    page.get_by_label(REASON_LABEL).fill("Police asked us to call tonight: the risk is imminent")
    submit(page, "Record the attempt")
    expect(page).to_have_url(re.compile(rf"/referrals/{late_referral.id}/$"))
    expect(page.get_by_text("Reason given: Police asked us to call tonight")).to_be_visible()
    assert ReferralContactAttempt.objects.get().unsafe_channel_reason.startswith("Police asked")
    assert unexpected_console_errors(console_errors) == []


def test_a_worker_changes_the_safe_contact_arrangements_from_the_case_page(
    page: Page,
    world: PersonaWorld,
    adult_case: AdultSupportCase,
    axe_source: str,
    console_errors: ConsoleErrors,
    screenshots: Path,
) -> None:
    """The survivor tells their worker the old number is no longer safe and texts now are: the
    worker changes it from the panel on the case page and is brought back to the case."""
    sign_in_browser(page, world.adult_support_worker)
    case_page = f"/support/adult/{adult_case.pk}/"
    page.goto(case_page)
    panel = page.locator(".safer-safe-contact")
    expect(panel).to_contain_text("Do not send text messages.")
    panel.get_by_role("link", name=re.compile("Change safe-contact arrangements")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change safe-contact arrangements")
    check_page(page, axe_source)

    page.get_by_label("Safe phone number").fill("")
    submit(page, "Save arrangements")
    follow_error_link(page, "Enter the safe phone number")
    expect(page.get_by_label("Safe phone number")).to_be_focused()

    page.get_by_label("Safe phone number").fill("07700 900456")
    page.get_by_role("group", name="Is it safe to send text messages?").get_by_label("Yes").check()
    page.get_by_label("When is it safe to make contact?").fill("Weekdays 10am to 12pm")
    submit(page, "Save arrangements")

    expect(page).to_have_url(re.compile(re.escape(case_page) + "$"))
    panel = page.locator(".safer-safe-contact")
    expect(panel).to_contain_text("07700 900456")
    expect(panel).not_to_contain_text("Do not send text messages.")
    expect(panel).to_contain_text("Contact only at the safe times")
    rules = SafeContactRules.objects.get(case_file=world.own_case)
    assert rules.text_safe
    assert "text" in rules.safe_channels
    page.screenshot(path=str(screenshots / "safe-contact-changed.png"), full_page=True)
    assert not unexpected_console_errors(console_errors)
