"""A commissioner generates a quarterly return, marks it as submitted, and — after a referral of
that quarter is entered late — runs the period again and sees the restatement naming the changed
cell, on the run page and on the submitted return's page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from referrals.models import ReferralStatus
from reporting.models import ReturnSubmission
from reporting.tasks import report_run_generate_task
from safer.accounts.models import User
from tests.e2e.conftest import (
    ConsoleErrors,
    check_page,
    sign_in_browser,
    submit,
    unexpected_console_errors,
)
from tests.test_reporting_data import Builder, Dataset, at, build_dataset
from tests.test_reporting_views import commissioner_of

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def dataset(tmp_path: Path, settings: Any) -> Dataset:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private")},
        },
    }
    return build_dataset()


def _produce(page: Page, kent_name: str) -> None:
    page.goto("/reports/request/")
    page.get_by_label("Quarterly grant update").check()
    page.get_by_label("Period", exact=True).select_option(value="2025-26-Q1")
    page.get_by_label(kent_name).check()
    submit(page, "Request the report")
    run_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    report_run_generate_task(run_id)  # no worker listens in this test: run it as one would
    page.reload()
    expect(page.locator("#run-status")).to_contain_text("Ready")


def test_commissioner_submits_a_return_and_sees_the_restatement_after_a_late_entry(
    page: Page,
    dataset: Dataset,
    axe_source: str,
    console_errors: ConsoleErrors,
    screenshots: Path,
) -> None:
    commissioner: User = commissioner_of(dataset.kent)
    sign_in_browser(page, commissioner)
    _produce(page, dataset.kent.name)
    check_page(page, axe_source)

    # Mark it as submitted: an empty "Sent to" is an error, then the record.
    submit(page, "Mark as submitted")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter who the return was sent to")
    page.get_by_label("Sent to").fill("MHCLG Domestic Abuse Team")
    submit(page, "Mark as submitted")
    expect(page.get_by_role("heading", level=1)).to_contain_text("version 1")
    expect(page.locator("main")).to_contain_text("Unchanged")
    expect(page.locator("main")).to_contain_text("MHCLG Domestic Abuse Team")
    check_page(page, axe_source)
    submission = ReturnSubmission.objects.get()

    # A referral received on 20 May is entered only now (a late entry).
    builder = Builder.__new__(Builder)
    builder.data, builder.counter = dataset, 900
    late = builder.referral(
        "LATE", "H1", at(2025, 5, 20), decided=at(2025, 5, 21), status=ReferralStatus.ACCEPTED
    )

    _produce(page, dataset.kent.name)
    main = page.locator("main")
    expect(main).to_contain_text("Version 2: what it restates")
    changed = page.locator("table", has_text="Cells that changed")
    expect(changed.locator("tr", has_text="Referrals received").first).to_contain_text("17")
    expect(changed.locator("tr", has_text="Referrals received").first).to_contain_text("18")
    expect(main).to_contain_text("Entered late")
    expect(main).not_to_contain_text(late.reference)  # commissioners never see a reference
    page.screenshot(path=screenshots / "return-restatement-run.png", full_page=True)
    check_page(page, axe_source)

    # From the run page to the submitted version, where every version is listed.
    page.get_by_role("link", name="See the submitted version 1").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("version 1")
    expect(page.locator("main")).to_contain_text("Version 2, produced")
    expect(page.locator("main")).to_contain_text("Referrals received")
    page.screenshot(path=screenshots / "return-restatement-submission.png", full_page=True)
    check_page(page, axe_source)
    assert ReturnSubmission.objects.get() == submission  # the submitted version is untouched
    assert unexpected_console_errors(console_errors) == []  # the empty form's 400 is expected
