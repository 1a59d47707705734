"""Subject access and legal hold in a real browser: an SPA manager records a request from the
case page, makes the export and cannot approve it herself; a second SPA manager approves and
downloads the PDF (checked with pdftotext, third parties marked for redaction); the first places a
legal hold from the case page. The system administrator runs a dry run from the retention page.
Each page is checked with axe and at 320px, and screenshotted under test-results/e2e/."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from safer.accounts.roles import Role
from safer.audit.models import AccessAction, AccessLog
from safer.casefile.models import HouseholdRole
from safer.dataprotection.models import LegalHold, RetentionRun, SarStatus, SubjectAccessRequest
from tests.e2e.conftest import (
    ConsoleErrors,
    check_page,
    sign_in_browser,
    submit,
    unexpected_console_errors,
)
from tests.factories import PersonaWorld, PersonFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_subject_access_request_recorded_exported_approved_by_a_second_manager_and_downloaded(
    page: Page,
    world: PersonaWorld,
    axe_source: str,
    console_errors: ConsoleErrors,
    screenshots: Path,
) -> None:
    case_file = world.own_case
    PersonFactory.create(
        household=case_file.household,
        household_role=HouseholdRole.OTHER_ADULT,
        given_name="Thirdpartymarker",
        family_name="Example",
    )
    second = UserFactory.create(
        full_name="Second Manager",
        organisation=world.spa_manager.organisation,
        roles=[Role.SPA_MANAGER],
        authorities=[world.kent],
    )

    sign_in_browser(page, world.spa_manager)
    page.goto("/cases/")
    page.get_by_role("link", name=case_file.reference).click()
    expect(page.get_by_role("heading", name="Data protection")).to_be_visible()
    page.get_by_role("link", name="Record a subject access request").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record a subject access request")
    check_page(page, axe_source)
    survivor = case_file.survivor
    page.get_by_label(
        f"{survivor.given_name} {survivor.family_name}".strip(), exact=False
    ).first.check()
    page.get_by_label("Who made the request, and how?").fill("The survivor, by phone")
    today = timezone.localdate()
    page.get_by_label("Day").fill(str(today.day))
    page.get_by_label("Month").fill(str(today.month))
    page.get_by_label("Year").fill(str(today.year))
    submit(page, "Record the request")

    expect(page.get_by_role("heading", level=1)).to_have_text("Subject access request")
    expect(page.locator(".govuk-summary-list")).to_contain_text("working day")
    submit(page, "Make the export")
    expect(page.get_by_text("another SPA manager must approve it")).to_be_visible()
    expect(page.get_by_role("button", name="Approve for release")).to_have_count(0)
    check_page(page, axe_source)
    page.screenshot(path=str(screenshots / "subject-access-awaiting-approval.png"), full_page=True)
    sar = SubjectAccessRequest.objects.get(case_file=case_file)
    assert sar.status == SarStatus.GENERATED

    # The first manager places a legal hold from the case page.
    page.goto(f"/cases/{case_file.pk}/")
    page.get_by_role("link", name="Place a legal hold").click()
    page.get_by_label("Why must the case be kept?").fill("Civil claim notified by solicitors")
    submit(page, "Place the hold")
    expect(page.locator("#data-protection ~ .govuk-summary-list")).to_contain_text("On hold since")
    assert LegalHold.objects.active().filter(case_file=case_file, placed_by=world.spa_manager)

    # The second manager approves and downloads.
    page.context.clear_cookies()
    sign_in_browser(page, second)
    page.goto("/cases/")
    page.get_by_role("link", name="Subject access requests").click()
    check_page(page, axe_source)
    page.get_by_role("link", name=case_file.reference).click()
    submit(page, "Approve for release")
    expect(page.get_by_role("link", name="Download the export (PDF)")).to_be_visible()
    check_page(page, axe_source)
    page.screenshot(path=str(screenshots / "subject-access-approved.png"), full_page=True)
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the export (PDF)").click()
    pdf = Path(info.value.path()).read_bytes()
    text = subprocess.run(
        ["/usr/bin/pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert survivor.given_name in text
    assert "Thirdpartymarker" in text
    assert "Marked for redaction: Third party: another member of the household" in text
    assert AccessLog.objects.filter(
        action=AccessAction.DOWNLOAD, record_id=str(sar.pk), user=second
    ).exists()
    assert unexpected_console_errors(console_errors) == []


def test_the_system_administrator_runs_a_dry_run(
    page: Page, world: PersonaWorld, axe_source: str, screenshots: Path
) -> None:
    sign_in_browser(page, world.system_admin)
    page.goto("/admin/dataprotection/retentionrule/")
    page.get_by_role("link", name="Retention runs and dry run").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Retention")
    expect(page.locator("table").first).to_contain_text("Until the child is 25")
    check_page(page, axe_source)
    submit(page, "Run a dry run")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dry run of")
    expect(page.get_by_text("Nothing would be erased.")).to_be_visible()
    check_page(page, axe_source)
    page.screenshot(path=str(screenshots / "retention-dry-run.png"), full_page=True)
    run = RetentionRun.objects.get()
    assert (run.dry_run, run.requested_by) == (True, world.system_admin)
