"""A security job from allocation to completion in a real browser: the contractor surveys, records
the fire-safety check, asks for a variation, which the SPA manager approves in the approvals
queue, installs with a photo, and once the SPA completes the job no longer sees the address.

The new pages (fire-safety check, variation, approvals queue, decision, job page) are checked with
axe and at a 320px-wide viewport; screenshots go to test-results/e2e/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from safer.casefile.models import Household
from security_works import services
from security_works.models import JobPriority, JobStatus, SecurityJob
from tests.e2e.conftest import (
    ConsoleErrors,
    OutsideRequests,
    check_page,
    choose,
    fill_date,
    sign_in_browser,
    submit,
    unexpected_console_errors,
)
from tests.test_security_works_helpers import World, build_world, case_file, jpeg_with_gps

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ADDRESS = "14 Example Lane"


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path: Path) -> Path:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private")},
        },
    }
    return tmp_path


def _job(world: World) -> SecurityJob:
    case = case_file(world.kent, world.thanet)
    Household.objects.filter(pk=case.household_id).update(address_line_1=ADDRESS)
    job = services.security_job_allocate(
        case_file=case, priority=JobPriority.STANDARD, allocated_by=world.spa_worker
    )
    return services.security_job_access_notes_update(
        job=job, actor=world.spa_worker, access_notes="Side gate; a dog in the garden"
    )


def _shot(page: Page, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"security-works-{name}.png"), full_page=True)


def _said(page: Page, text: str) -> None:
    """The page's message banner says ``text``."""
    banner = page.locator(".govuk-notification-banner__heading").filter(has_text=text)
    expect(banner).to_be_visible()


def _book(page: Page, link: str, day: dt.date) -> None:
    page.get_by_role("link", name=link).click()
    fill_date(page, "Date", day)
    page.get_by_label("Time", exact=True).fill("10:00")
    # By text message: the only way the survivor's safe-contact rules allow.
    choose(page, "How did you arrange the visit with the survivor?", "Text message")
    submit(page, "Save")


def test_contractor_journey_with_fire_check_and_variation(
    page: Page,
    browser: Browser,
    live_server: LiveServer,
    axe_source: str,
    screenshots: Path,
    console_errors: ConsoleErrors,
    outside_requests: OutsideRequests,
    tmp_path: Path,
) -> None:
    world = build_world()
    job = _job(world)
    today = timezone.localdate()

    # --- The contractor books and records the survey ------------------------------------------
    sign_in_browser(page, world.acme_user)
    page.goto(f"/jobs/{job.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(job.reference)
    expect(page.get_by_text(ADDRESS)).to_be_visible()
    expect(page.get_by_text("Side gate; a dog in the garden")).to_be_visible()
    # Only the next legal steps: nothing about installation yet.
    expect(page.get_by_role("link", name="Record the installation")).to_have_count(0)
    check_page(page, axe_source)
    _book(page, "Book the survey", today)
    _said(page, "Survey booked")

    page.get_by_role("link", name="Record the survey").click()
    page.get_by_label("Measure 1").select_option(
        label="Sanctuary door (sanctuary-door) £1450.00 per each"
    )
    page.get_by_label("Quantity 1").fill("1")
    page.get_by_label("Where 1").fill("bedroom")
    page.get_by_label("Measure 2").select_option(
        label="Bs mortice lock (bs-mortice-lock) £85.00 per each"
    )
    page.get_by_label("Quantity 2").fill("1")
    page.get_by_label("The survivor has agreed to the works recommended below").check()
    submit(page, "Record the survey")
    _said(page, "Survey recorded")

    # --- The fire-safety check is the next step, and installation waits for it ----------------
    expect(
        page.get_by_text("The installation cannot be booked until a fire-safety check")
    ).to_be_visible()
    page.get_by_role("link", name="Record a fire-safety check").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record a fire-safety check")
    check_page(page, axe_source)
    page.get_by_label("Fire and rescue home fire safety visit").check()
    page.get_by_label("Who carried it out").fill("J Patel, Kent Fire and Rescue Service")
    fill_date(page, "Date of the check", today)
    page.get_by_label("Passed with advice (recorded in the notes)").check()
    submit(page, "Save the check")
    # Advice needs notes: the error names the field and the fix.
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the advice given")
    _shot(page, screenshots, "1-fire-check-error")
    check_page(page, axe_source)
    page.get_by_role("textbox", name="Notes").fill(
        "Keep a thumb-turn on the inside of the sanctuary door"
    )
    submit(page, "Save the check")
    _said(page, "Fire-safety check recorded")
    expect(page.get_by_text("Passed with advice (recorded in the notes)")).to_be_visible()

    _book(page, "Book the installation", today)
    _said(page, "Installation booked")

    # --- Fitting more than approved: the error leads to the variation request -----------------
    page.get_by_role("link", name="Record the installation").click()
    page.locator("input[name='lines-1-quantity']").fill("2")
    page.locator("input[name='lines-1-actual_cost']").fill("170")
    submit(page, "Record the installation")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Ask for a variation")
    page.get_by_role("link", name="ask for a variation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ask for a variation")
    check_page(page, axe_source)
    page.get_by_label("Measure").select_option(
        label="Bs mortice lock (bs-mortice-lock) £85.00 per each"
    )
    page.get_by_label("Extra quantity").fill("1")
    page.get_by_label("Where (optional)").fill("back door")
    page.get_by_label("Why the works need to change").fill("The back door has no lock at all")
    submit(page, "Send the request")
    _said(page, "Variation requested")
    expect(page.get_by_text("Variation awaiting approval: £85.00")).to_be_visible()
    _shot(page, screenshots, "2-variation-waiting")

    # --- The SPA manager approves it from the approvals queue ---------------------------------
    manager_context = browser.new_context(base_url=live_server.url, locale="en-GB")
    manager = manager_context.new_page()
    sign_in_browser(manager, world.spa_manager)
    manager.goto("/jobs/approvals/")
    expect(manager.get_by_role("heading", level=1)).to_have_text("Cost approvals and variations")
    expect(manager.get_by_text("1 request waiting")).to_be_visible()
    check_page(manager, axe_source)
    _shot(manager, screenshots, "3-approvals-queue")
    manager.get_by_role(
        "link", name=f"Decide on variation to the surveyed works for {job.reference}"
    ).click()
    expect(manager.get_by_text("The back door has no lock at all")).to_be_visible()
    check_page(manager, axe_source)
    manager.get_by_label("Approve").check()
    submit(manager, "Save the decision")
    expect(manager.get_by_text("Nothing is waiting for a decision.")).to_be_visible()

    # --- The contractor sees the outcome and installs, with a photo ---------------------------
    page.reload()
    expect(page.get_by_text("Approved works: £1,620.00")).to_be_visible()
    page.get_by_role("link", name="Record the installation").click()
    # The approved variation is its own row now, filled in from the approved works.
    expect(page.locator("input[name='lines-2-quantity']")).to_have_value("1.00")
    submit(page, "Record the installation")
    _said(page, "Installation recorded")

    photo = tmp_path / "door.jpg"
    photo.write_bytes(jpeg_with_gps())
    page.get_by_role("link", name="Upload a photo or document").click()
    choose(page, "What is it?", "Installation photo")
    page.get_by_label("File").set_input_files(str(photo))
    submit(page, "Upload")
    _said(page, "File uploaded")

    page.get_by_role("link", name="Record the post-installation check").click()
    fill_date(page, "Date of the check", today)
    choose(page, "Is everything fitted working?", "Yes")
    choose(page, "Do you feel safer in your home?", "Yes, much safer")
    submit(page, "Save")
    _said(page, "Post-installation check recorded")
    # Completing is the SPA's: the contractor is offered no step now but uploads.
    expect(page.get_by_role("link", name="Complete the job")).to_have_count(0)
    _shot(page, screenshots, "4-checked")
    check_page(page, axe_source)

    # --- The SPA completes it; the contractor no longer sees the address ----------------------
    manager.goto(f"/jobs/{job.pk}/")
    manager.get_by_role("link", name="Complete the job").click()
    submit(manager, "Complete")
    _said(manager, "Job completed")
    manager_context.close()
    assert SecurityJob.objects.get(pk=job.pk).status == JobStatus.COMPLETED

    page.goto(f"/jobs/{job.pk}/")
    expect(page.get_by_text("This job is closed.")).to_be_visible()
    expect(page.get_by_text(ADDRESS)).to_have_count(0)
    assert ADDRESS not in page.content()
    # A step page of the completed job goes back to the job with the reason, not a form.
    page.goto(f"/jobs/{job.pk}/installation/")
    _said(page, "This job is completed: nothing more can be done on it.")
    expect(page.locator("main form")).to_have_count(0)
    _shot(page, screenshots, "5-closed")
    check_page(page, axe_source)

    assert outside_requests.urls == []
    assert unexpected_console_errors(console_errors) == []
