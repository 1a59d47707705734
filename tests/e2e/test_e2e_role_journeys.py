"""More journeys from the demo data alone (``seed_demo``), one role each, in a real browser:

- the demo referrer completes the public referral form with the keyboard only, then follows the
  referral's status in words as the SPA takes it into triage and accepts it, and never sees the
  survivor's details there;
- the adult provider manager finds a worker's adult case on the team page and transfers it to the
  other worker of the team;
- the auditor finds who opened a case file;
- a member of staff left idle past a (short, for the test) limit is signed out and lands on the
  sign-in page, which says why.

Every page the journeys stop on is checked with axe (WCAG 2.2 A/AA, any impact) and at 320px;
screenshots go to test-results/e2e/. (The triage journey by keyboard is
test_e2e_triage_accept.py; GBO scoring is test_e2e_casework.py; the commissioner's return is
test_e2e_return_year.py.)"""

from __future__ import annotations

import io
import re
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import BrowserContext, Page, expect

from referrals import ratelimit
from referrals.models import Referral, ReferralStatus
from referrals.services import referral_accept, referral_eligibility_record, referral_triage_start
from safer.accounts.models import User
from safer.audit.models import AccessLog
from safer.demo import LOGINS, DemoLogin
from support.models import AdultSupportCase
from tests.e2e.conftest import (
    ConsoleErrors,
    OutsideRequests,
    check_page,
    submit,
    unexpected_console_errors,
)
from tests.e2e.keyboard import KeyboardUser
from tests.e2e.test_e2e_demo_journeys import sign_in_demo

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BY_KEY = {login.key: login for login in LOGINS}
SURVIVOR = ("Quinn", "Keyboard-Example")
ADDRESS = "7 Fictional Lane"


@pytest.fixture
def demo(tmp_path: Path) -> dict[str, DemoLogin]:
    call_command("seed_demo", logins_file=tmp_path / "logins.txt", stdout=io.StringIO())
    for limit in (ratelimit.FORM_POSTS, ratelimit.SUBMISSIONS):
        ratelimit.reset(limit, "127.0.0.1")
    return BY_KEY


def _shot(page: Page, screenshots: Path, name: str) -> None:
    page.screenshot(path=str(screenshots / f"role-{name}.png"), full_page=True)


def _continue(keys: KeyboardUser, next_path: str) -> None:
    keys.press_button("Continue")
    expect(keys.page).to_have_url(re.compile(re.escape(next_path)))


def _refer_by_keyboard(page: Page, axe_source: str, screenshots: Path) -> KeyboardUser:
    """The whole public referral form, Tab, arrows, Space, typing and Enter only."""
    keys = KeyboardUser(page)
    page.goto("/refer/")
    check_page(page, axe_source)
    keys.press_button("Start now")
    expect(page).to_have_url(re.compile("/refer/who/$"))

    keys.choose(
        "Who is making this referral?", "I am a professional, or I am referring someone else"
    )
    _continue(keys, "/refer/referrer/")
    # The signed-in referrer's name, organisation and email are filled in already.
    expect(page.get_by_label("Your full name", exact=True)).to_have_value("Rita Referrer")
    keys.choose("Type of organisation", "Police")
    keys.fill("Your job title or role", "Domestic abuse officer")
    keys.fill("Your work phone number", "01632 960000")
    check_page(page, axe_source)
    _continue(keys, "/refer/consent/")

    keys.choose("Does the person know about this referral and agree to it?", "Yes")
    today = timezone.localdate()
    keys.date("Date consent was given", today.day, today.month, today.year)
    keys.choose("How was consent given?", "By phone")
    _continue(keys, "/refer/survivor/")

    keys.fill("First name", SURVIVOR[0])
    keys.fill("Last name", SURVIVOR[1])
    keys.date("Date of birth", 14, 6, 1988)
    keys.choose("Sex", "Female")
    keys.select("Ethnic group", "Not known")
    keys.choose("Is an interpreter needed?", "No")
    keys.choose("Does the person have no recourse to public funds?", "No")
    check_page(page, axe_source)
    _continue(keys, "/refer/address/")

    keys.fill("Address line 1", ADDRESS)
    keys.fill("Town or city", "Maidstone")
    keys.fill("Postcode", "ME15 6AA")
    _continue(keys, "/refer/district/")
    # Chosen from the postcode already: Continue is all it takes.
    expect(page.get_by_role("radio", name="Maidstone", exact=True)).to_be_checked()
    _continue(keys, "/refer/housing/")

    keys.choose("Who owns or rents the home?", "Council tenant")
    keys.choose("Whose name is the tenancy or the deeds in?", "The survivor")
    keys.fill("Landlord or managing agent", "Maidstone Borough Council")
    _continue(keys, "/refer/safe-contact/")

    keys.tick(page.get_by_role("checkbox", name="Phone call", exact=True))
    keys.fill("Safe phone number", "07700 900456")
    keys.choose("Is it safe to leave a voicemail?", "No")
    keys.choose("Is it safe to send text messages?", "No")
    keys.fill("When is it safe to call?", "Weekdays 10am to 12pm")
    keys.choose("Can we say which organisation we are from when we call or write?", "No")
    check_page(page, axe_source)
    _continue(keys, "/refer/children/")

    keys.choose("Are there any children in the household, or children affected by the abuse?", "No")
    _continue(keys, "/refer/adults/")
    keys.choose("Do any other adults live at the address?", "No")
    _continue(keys, "/refer/perpetrator/")
    keys.choose("Can you give details of the person causing harm?", "No")
    _continue(keys, "/refer/risk/")

    keys.choose("Has a DASH risk checklist been completed?", "Yes")
    keys.fill("DASH score (number of 'yes' answers)", "15")
    keys.date("Date the checklist was completed", today.day, today.month, today.year)
    keys.choose("Has the person been referred to a MARAC?", "No")
    _continue(keys, "/refer/request/")

    keys.tick(page.get_by_role("checkbox", name="Support for the adult referred", exact=True))
    _continue(keys, "/refer/urgency/")
    keys.choose("Is this referral urgent?", "No")
    _continue(keys, "/refer/check/")

    check_page(page, axe_source)
    _shot(page, screenshots, "referrer-check-answers")
    keys.press_button("Send referral")
    expect(page).to_have_url(re.compile("/refer/confirmation/$"))
    expect(page.locator(".govuk-panel__title")).to_have_text("Referral sent")
    check_page(page, axe_source)
    return keys


def _status_page(page: Page, reference: str) -> None:
    page.goto("/referrals/mine/")
    page.get_by_role("link", name=reference, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(reference)


def _no_survivor_details(page: Page) -> None:
    text = page.locator("main").inner_text()
    for private in (*SURVIVOR, ADDRESS, "ME15", "07700"):
        assert private not in text, private


def test_referrer_refers_by_keyboard_and_follows_the_status_in_words(
    page: Page,
    context: BrowserContext,
    demo: dict[str, DemoLogin],
    axe_source: str,
    screenshots: Path,
    console_errors: ConsoleErrors,
    outside_requests: OutsideRequests,
) -> None:
    referrer = sign_in_demo(page, demo["referrer"])
    keys = _refer_by_keyboard(page, axe_source, screenshots)
    referral = Referral.objects.get(case_file__survivor__family_name=SURVIVOR[1])
    assert referral.referrer_user_id == referrer.pk
    assert referral.status == ReferralStatus.RECEIVED
    expect(page.locator(".govuk-panel__body")).to_contain_text(referral.reference)

    # From the confirmation to the referral's status, still by keyboard.
    keys.follow_link("follow the status of this referral in your referrals")
    expect(page).to_have_url(re.compile("/referrals/mine/$"))
    row = page.get_by_role("row").filter(has_text=referral.reference)
    expect(row).to_contain_text("Received")
    check_page(page, axe_source)
    keys.follow_link(referral.reference)
    expect(page.get_by_role("heading", level=1)).to_have_text(referral.reference)
    expect(page.locator("#referral-status")).to_have_text("Received")
    expect(page.locator("#status-meaning")).to_contain_text("within 2 working days")
    _no_survivor_details(page)
    check_page(page, axe_source)
    _shot(page, screenshots, "referrer-status-received")
    print(f"keyboard presses for the referral: {keys.presses}")

    # The SPA takes it into triage (their browser journey is test_e2e_triage_accept.py) ...
    spa = User.objects.get(email=demo["spa_triage"].email)
    referral = referral_triage_start(referral=referral, user=spa)
    page.reload()
    expect(page.locator("#referral-status")).to_have_text("In triage")
    expect(page.locator("main")).to_contain_text("Triage started")
    _shot(page, screenshots, "referrer-status-in-triage")

    # ... and accepts it into adult support.
    referral = referral_eligibility_record(
        referral=referral,
        user=spa,
        answers={name: True for name in Referral.ELIGIBILITY_FIELDS},
    )
    referral_accept(
        referral=referral,
        user=spa,
        security_works=False,
        adult_support=True,
        no_contact_attempt_reason="The referrer asked us to wait for the survivor's call.",
    )
    _status_page(page, referral.reference)
    expect(page.locator("#referral-status")).to_have_text("Accepted")
    expect(page.locator("#status-meaning")).to_contain_text("nothing more about the case")
    expect(page.locator("main")).to_contain_text(f"Decided{timezone.localdate():%-d %B %Y}")
    _no_survivor_details(page)
    check_page(page, axe_source)
    _shot(page, screenshots, "referrer-status-accepted")
    # Each look at the status is in the access log, like any other read.
    assert AccessLog.objects.filter(user=referrer, record_id=str(referral.pk)).count() >= 3

    # Someone else's referral does not exist for the referrer.
    other = Referral.objects.exclude(referrer_user=referrer).first()
    assert other is not None
    response = page.goto(f"/referrals/mine/{other.pk}/")
    assert response is not None
    assert response.status == 404
    assert unexpected_console_errors(console_errors) == []
    assert outside_requests.urls == []


def test_provider_manager_transfers_an_adult_case_to_another_worker(
    page: Page,
    demo: dict[str, DemoLogin],
    axe_source: str,
    screenshots: Path,
    console_errors: ConsoleErrors,
) -> None:
    case = AdultSupportCase.objects.select_related("allocated_worker").get(
        case_file__reference="SAFER-DEMO-0001"
    )
    first = User.objects.get(email=demo["adult_support_worker"].email)
    second = User.objects.get(email=demo["adult_support_worker_2"].email)
    assert case.allocated_worker_id == first.pk
    assert second.team is not None
    assert first.team_id == second.team_id

    sign_in_demo(page, demo["provider_manager"])
    page.goto("/support/team/")
    expect(page.locator("main")).to_contain_text(first.full_name)
    check_page(page, axe_source)
    _shot(page, screenshots, "manager-team")
    # Caseload per worker: the worker's own page lists their cases.
    page.get_by_role("link", name=first.full_name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(first.full_name)
    check_page(page, axe_source)
    page.get_by_role("link", name=case.reference, exact=True).click()
    expect(page).to_have_url(re.compile(rf"/support/adult/{case.pk}/$"))
    page.get_by_role("link", name="Transfer to another worker").click()
    check_page(page, axe_source)
    page.get_by_label("Worker").select_option(label=f"{second.full_name} ({second.team.name})")
    page.get_by_label("Handover note").fill(
        "Prefers calls after 6pm; the safety plan review is due next week."
    )
    submit(page, "Transfer")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Case transferred")
    expect(page.locator("main")).to_contain_text(second.full_name)
    check_page(page, axe_source)
    _shot(page, screenshots, "manager-adult-transferred")

    case.refresh_from_db()
    assert case.allocated_worker_id == second.pk
    # The new worker's caseload, reached from the team page, now lists the case.
    page.goto("/support/team/")
    page.get_by_role("link", name=second.full_name, exact=True).click()
    expect(page.get_by_role("link", name=case.reference, exact=True)).to_have_count(1)
    assert unexpected_console_errors(console_errors) == []


def test_auditor_finds_who_opened_a_case_file(
    page: Page,
    context: BrowserContext,
    demo: dict[str, DemoLogin],
    axe_source: str,
    screenshots: Path,
    console_errors: ConsoleErrors,
) -> None:
    case = AdultSupportCase.objects.get(case_file__reference="SAFER-DEMO-0001")
    worker = sign_in_demo(page, demo["adult_support_worker"])
    page.goto(f"/support/adult/{case.pk}/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    context.clear_cookies()

    sign_in_demo(page, demo["auditor"])
    page.goto("/audit/")
    check_page(page, axe_source)
    page.get_by_label("Case reference").fill("SAFER-DEMO-0001")
    submit(page, "Find the record")
    expect(page.get_by_role("heading", level=1)).to_contain_text("SAFER-DEMO-0001")
    table = page.get_by_role("table", name="Who looked at it")
    row = table.get_by_role("row").filter(has_text=worker.full_name).first
    expect(row).to_contain_text("Viewed")
    expect(row).to_contain_text(f"{timezone.now():%-d %B %Y}")
    expect(row).to_contain_text("Adult support case")
    assert axe_violations_free(page, axe_source)
    _shot(page, screenshots, "auditor-who-opened")

    # Narrowed to the worker, the list still has them (the filter form by keyboard-free fill).
    page.get_by_label("User (email or name)").fill(worker.email)
    submit(page, "Apply filters")
    expect(table.get_by_role("row").filter(has_text=worker.full_name).first).to_be_visible()
    assert unexpected_console_errors(console_errors) == []


def axe_violations_free(page: Page, axe_source: str) -> bool:
    """axe on the page (the audit table may scroll sideways in its own region at 320px)."""
    from tests.e2e.conftest import axe_violations

    assert axe_violations(page, axe_source) == []
    return True


def test_idle_staff_are_signed_out_to_the_sign_in_page_with_a_message(
    page: Page,
    demo: dict[str, DemoLogin],
    settings: Any,
    axe_source: str,
    screenshots: Path,
) -> None:
    settings.SAFER_SESSION_IDLE_SECONDS = 2
    sign_in_demo(page, demo["spa_triage"])
    page.goto("/referrals/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    time.sleep(3)
    page.goto("/referrals/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/referrals/$"))
    expect(page.locator("main")).to_contain_text(
        "You have been signed out because you were inactive for 2 seconds. "
        "Sign in again to continue."
    )
    expect(page.get_by_label("Email address")).to_be_visible()
    check_page(page, axe_source)
    _shot(page, screenshots, "idle-signed-out")
