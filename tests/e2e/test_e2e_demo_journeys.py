"""The journeys a new user tries first, in a real browser, starting from ``seed_demo`` alone (no
factories): each person signs in with the printed demo password and their demo authenticator.

- The CYP provider manager allocates a child's case waiting in their team's list, then transfers
  it to the other worker of the team.
- A refuge's referrer refers a child directly; the case waits for the CYP provider manager.
- The East Kent contractor books and records a survey from the schedule of rates on a demo job,
  which belongs to the property-security contract live today (23/00074, in its extension).

Screenshots of each end state go to test-results/e2e/.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import BrowserContext, Page, expect

from safer.accounts.models import User
from safer.demo import LOGINS, DemoLogin
from security_works.models import SecurityJob, SurveyMeasure
from support.models import CypCase
from tests.e2e.conftest import (
    ConsoleErrors,
    OutsideRequests,
    check_page,
    choose,
    fill_date,
    submit,
    unexpected_console_errors,
)
from tests.helpers import totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BY_KEY = {login.key: login for login in LOGINS}


@pytest.fixture
def demo(tmp_path: Path) -> dict[str, DemoLogin]:
    call_command("seed_demo", logins_file=tmp_path / "logins.txt", stdout=io.StringIO())
    return BY_KEY


def sign_in_demo(page: Page, login: DemoLogin) -> User:
    """Sign in as the demo sign-in says: email, the printed password, the authenticator code."""
    user = User.objects.get(email=login.email)
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(login.email)
    page.get_by_label("Password", exact=True).fill(login.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Security code").fill(totp_code(device))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(lambda url: "/accounts/" not in url)
    return user


def sign_out(context: BrowserContext) -> None:
    context.clear_cookies()


def _no_contract_warning(page: Page) -> None:
    expect(page.locator(".govuk-warning-text", has_text="no contract")).to_have_count(0)


def test_cyp_provider_manager_allocates_a_childs_case_and_transfers_it(
    page: Page,
    demo: dict[str, DemoLogin],
    screenshots: Path,
    axe_source: str,
    console_errors: ConsoleErrors,
    outside_requests: OutsideRequests,
) -> None:
    waiting = CypCase.objects.get(case_file__reference="SAFER-DEMO-0003", child__given_name="Kit")
    assert waiting.allocated_worker_id is None
    first, second = (
        User.objects.get(email=demo["cyp_worker"].email),
        User.objects.get(email=demo["cyp_worker_2"].email),
    )
    assert first.team is not None
    assert first.team_id == second.team_id
    team = first.team.name

    sign_in_demo(page, demo["cyp_provider_manager"])
    page.goto("/support/team/")
    # The team page: counts by status, then each list paged, most pressing first (issue 17).
    expect(page.locator("main")).to_contain_text("Oldest first.")
    check_page(page, axe_source)
    page.screenshot(path=screenshots / "demo-team-overview.png", full_page=True)
    page.get_by_role("link", name=f"Allocate {waiting.reference}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Allocate the case")
    _no_contract_warning(page)  # the CYP contract is live today (in its extension)
    check_page(page, axe_source)
    page.get_by_label("Worker").select_option(label=f"{first.full_name} ({team})")
    submit(page, "Allocate")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Case allocated")
    expect(page.locator("main")).to_contain_text(first.full_name)

    page.get_by_role("link", name="Transfer to another worker").click()
    page.get_by_label("Worker").select_option(label=f"{second.full_name} ({team})")
    page.get_by_label("Handover note").fill("Kit prefers after-school visits; school is aware.")
    submit(page, "Transfer")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Case transferred")
    expect(page.locator("main")).to_contain_text(second.full_name)
    page.screenshot(path=screenshots / "demo-cyp-transferred.png", full_page=True)

    waiting.refresh_from_db()
    assert waiting.allocated_worker_id == second.pk
    assert unexpected_console_errors(console_errors) == []
    assert outside_requests.urls == []


def test_refuge_referrer_refers_a_child_directly(
    page: Page,
    context: BrowserContext,
    demo: dict[str, DemoLogin],
    screenshots: Path,
    axe_source: str,
    console_errors: ConsoleErrors,
) -> None:
    sign_in_demo(page, demo["refuge_referrer"])
    page.goto("/support/refer-child/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Refer a child to the children and young people's service"
    )
    check_page(page, axe_source)
    page.get_by_label("Child's first name").fill("Robin")
    page.get_by_label("Child's last name").fill("Refugee-Example")
    fill_date(page, "Child's date of birth", dt.date(2017, 3, 14))
    page.get_by_role("group", name="Child's sex").get_by_label("Female", exact=True).check()
    page.get_by_label("Parent or carer's first name").fill("Jamie")
    page.get_by_label("Parent or carer's last name").fill("Refugee-Example")
    page.get_by_label("Refuge", exact=True).check()
    page.get_by_label("District").select_option(label="Canterbury")
    page.get_by_label("Address line 1").fill("Example Refuge, 1 Example Close")
    page.get_by_label("Town").fill("Exampleton")
    page.get_by_label("Postcode").fill("CT2 9ZZ")
    page.get_by_label("Phone call", exact=True).check()
    page.get_by_label("Safe phone number").fill("07700 900999")
    page.get_by_label("Safe times to call").fill("Weekdays 10:00 to 12:00 (refuge office)")
    page.get_by_label("Why are you referring the child?").fill(
        "Robin arrived with her mother last week and is not sleeping; she asked to talk to someone."
    )
    page.get_by_label("The parent or carer knows about this referral and agrees to it").check()
    submit(page, "Send the referral")
    expect(page).to_have_url(re.compile(r"/support/refer-child/sent/$"))
    page.screenshot(path=screenshots / "demo-direct-referral-sent.png", full_page=True)

    case = CypCase.objects.get(child__given_name="Robin")
    assert case.source == "direct"
    assert case.referring_organisation is not None
    assert case.referring_organisation.name == demo["refuge_referrer"].organisation
    expect(page.locator("main")).to_contain_text(case.case_file.reference)

    # The CYP provider manager finds it waiting for allocation.
    sign_out(context)
    sign_in_demo(page, demo["cyp_provider_manager"])
    page.goto("/support/team/")
    expect(page.get_by_role("link", name=f"Allocate {case.reference}")).to_be_visible()
    assert unexpected_console_errors(console_errors) == []


def test_contractor_surveys_a_demo_job_from_the_schedule_of_rates(
    page: Page,
    demo: dict[str, DemoLogin],
    screenshots: Path,
    axe_source: str,
    console_errors: ConsoleErrors,
) -> None:
    job = SecurityJob.objects.select_related("contract").get(case_file__reference="SAFER-DEMO-0001")
    today = timezone.localdate()
    assert job.contract is not None
    assert job.contract.reference == "23/00074"
    assert job.contract.end_date < today <= job.contract.current_end_date  # in its extension

    sign_in_demo(page, demo["contractor"])
    page.goto("/jobs/")
    page.get_by_role("link", name=job.reference).first.click()
    expect(page.locator("main")).to_contain_text(re.compile(r"Contract\s*23/00074"))
    check_page(page, axe_source)

    page.get_by_role("link", name="Book the survey").click()
    fill_date(page, "Date", today)
    page.get_by_label("Time", exact=True).fill("10:30")
    choose(page, "How did you arrange the visit with the survivor?", "Phone call")
    submit(page, "Save")
    expect(page.locator(".govuk-notification-banner--success")).to_be_visible()

    page.get_by_role("link", name="Record the survey").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record the survey")
    measure = page.get_by_label("Measure 1", exact=True)
    options = measure.locator("option").all_text_contents()
    assert any("Anti-snap cylinder lock" in o for o in options), options
    assert any("Sanctuary room" in o for o in options), options
    measure.select_option(label=next(o for o in options if "Anti-snap cylinder lock" in o))
    page.get_by_label("Quantity 1", exact=True).fill("2")
    page.get_by_label("Where 1", exact=True).fill("front and back doors")
    page.get_by_label("Measure 2", exact=True).select_option(
        label=next(o for o in options if "Door viewer" in o)
    )
    page.get_by_label("Quantity 2", exact=True).fill("1")
    page.get_by_label("The survivor has agreed to the works recommended below").check()
    submit(page, "Record the survey")
    expect(page.locator(".govuk-notification-banner--success")).to_be_visible()
    page.screenshot(path=screenshots / "demo-job-surveyed.png", full_page=True)

    lines = SurveyMeasure.objects.filter(job=job).select_related("measure")
    assert {(line.measure.code, line.quantity, line.unit_cost) for line in lines} == {
        ("anti-snap-cylinder", 2, 65),
        ("door-viewer", 1, 20),
    }
    job.refresh_from_db()
    assert job.surveyed_at is not None
    assert job.contract is not None
    assert job.contract.is_active_on(today)
    assert unexpected_console_errors(console_errors) == []


def test_commissioner_sees_the_referral_profile_and_the_submitted_demo_return(
    page: Page,
    demo: dict[str, DemoLogin],
    screenshots: Path,
    axe_source: str,
    console_errors: ConsoleErrors,
    outside_requests: OutsideRequests,
) -> None:
    """The demo's commissioner: the dashboard's referral profile (sex, age band, ethnic group,
    disability, who referred, each adding up to the referrals received), then the demo's
    submitted return with its versions, then the same return run again (a restatement)."""
    from reporting.demo import DEMO_RECIPIENT
    from reporting.models import ReportRun, ReturnSubmission
    from reporting.periods import Period
    from reporting.tasks import report_run_generate_task

    sign_in_demo(page, demo["commissioner"])
    page.goto("/reports/dashboard/")
    main = page.locator("main")
    expect(main).to_contain_text("Who the referrals were for, and who made them")
    for code, heading in (
        ("sex", "by the survivor's sex"),
        ("age", "age on the day received"),
        ("ethnicity", "ethnic group (ONS 2021)"),
        ("disability", "by disability"),
        ("referrer", "by who referred"),
    ):
        table = page.locator(f"#table-profile_{code}")
        expect(table.locator("caption")).to_contain_text(heading)
        expect(table.locator("tr", has_text="Referrals received")).to_have_count(1)
    expect(page.locator("#table-profile_referrer")).to_contain_text("Self-referral")
    expect(page.locator("#table-profile_age")).to_contain_text("25 to 34")
    check_page(page, axe_source)
    page.screenshot(path=screenshots / "demo-dashboard-referral-profile.png", full_page=True)

    submission = ReturnSubmission.objects.get(submitted_to=DEMO_RECIPIENT)
    quarter = Period.quarter_containing(timezone.localdate()).previous()
    page.goto("/reports/submitted/")
    row = page.locator("tr", has_text=quarter.code)
    expect(row).to_contain_text("Quarterly grant update")
    row.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("version 1")
    expect(main).to_contain_text(DEMO_RECIPIENT)
    expect(main).to_contain_text("Unchanged")
    expect(main).to_contain_text("Version 2, produced")
    expect(main).to_contain_text("Compared with submitted version 1")
    check_page(page, axe_source)
    page.screenshot(path=screenshots / "demo-submitted-return.png", full_page=True)

    # Run the same return again: a new version, restating the submitted one.
    page.goto("/reports/request/")
    page.get_by_label("Quarterly grant update").check()
    page.get_by_label("Period", exact=True).select_option(value=quarter.code)
    page.get_by_label("Kent County Council").check()
    submit(page, "Request the report")
    run_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    report_run_generate_task(run_id)  # no worker listens in this test: run it as one would
    page.reload()
    expect(page.locator("#run-status")).to_contain_text("Ready")
    # A version is numbered from the submitted one: every run since version 1 was submitted is
    # version 2 until one of them is submitted in turn.
    expect(main).to_contain_text("Version 2: what it restates")
    expect(main).to_contain_text("Version 1 of this return was submitted")
    run = ReportRun.objects.get(pk=run_id)
    assert (run.version, run.restates) == (2, submission)
    check_page(page, axe_source)
    assert unexpected_console_errors(console_errors) == []
    assert outside_requests.urls == []
