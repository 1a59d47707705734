"""From the demo data alone (`seed_demo`, as `make run` loads it), the demo commissioner requests
this financial year's quarterly update and annual return in a browser, and every heading of the
page and of the files names the current year: the templates rolled over by themselves."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from reporting.periods import Period
from reporting.tasks import report_run_generate_task
from safer.accounts.models import User
from safer.demo import seed
from tests.e2e.conftest import ConsoleErrors, check_page, sign_in_browser, submit

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHIPPED_YEAR = "2025-26"


@pytest.fixture
def demo_commissioner(tmp_path: Path, settings: Any) -> User:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private")},
        },
    }
    for _line in seed(logins_path=tmp_path / "logins.txt"):
        pass
    return User.objects.get(email="commissioner@example.org")


def _request(page: Page, *, report: str, period: Period) -> None:
    page.goto("/reports/request/")
    page.get_by_label(report).check()
    page.get_by_label("Period", exact=True).select_option(value=period.code)
    page.get_by_label("Kent County Council").check()
    submit(page, "Request the report")
    expect(page.get_by_role("heading", level=1)).to_contain_text(period.code)
    # The request went to the broker through the outbox; no worker listens in this test, so it
    # runs here, as a worker would, and the page shows the files.
    run_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    report_run_generate_task(run_id)
    page.reload()
    expect(page.locator("#run-status")).to_contain_text("Ready")


def _file_texts(page: Page, tmp_path: Path) -> dict[str, str]:
    texts: dict[str, str] = {}
    for link in page.locator("#run-status a[download]").all():
        href = link.get_attribute("href") or ""
        body = page.context.request.get(href).body()
        if href.rstrip("/").endswith("csv"):
            texts["csv"] = body.decode("utf-8-sig")
        elif href.rstrip("/").endswith("xlsx"):
            workbook = load_workbook(io.BytesIO(body))
            texts["xlsx"] = "\n".join(
                " ".join(str(value) for value in row if value is not None)
                for sheet in workbook.worksheets
                for row in sheet.iter_rows(values_only=True)
            )
        elif href.rstrip("/").endswith("pdf") and shutil.which("pdftotext"):
            pdf = tmp_path / "return.pdf"
            pdf.write_bytes(body)
            texts["pdf"] = subprocess.run(  # noqa: S603
                ["pdftotext", "-layout", str(pdf), "-"],  # noqa: S607
                check=True,
                capture_output=True,
                text=True,
            ).stdout
    return texts


def test_commissioner_runs_this_years_returns_headed_with_this_year(
    page: Page,
    demo_commissioner: User,
    axe_source: str,
    console_errors: ConsoleErrors,
    screenshots: Path,
    tmp_path: Path,
) -> None:
    today = timezone.localdate()
    year = Period.year_containing(today)
    quarter = Period.quarter_containing(today)
    assert year.financial_year_label != SHIPPED_YEAR  # the demo date is past the shipped year

    sign_in_browser(page, demo_commissioner)
    page.goto("/reports/")
    # The derived templates are flagged for the administrator's check.
    expect(page.locator("main")).to_contain_text(
        f"The {year.financial_year_label} Annual Part 4 return template was derived automatically"
    )
    check_page(page, axe_source)

    for report, period in (("Quarterly grant update", quarter), ("Annual Part 4 return", year)):
        _request(page, report=report, period=period)
        page.screenshot(path=screenshots / f"return-year-{period.code}.png", full_page=True)
        check_page(page, axe_source)
        texts = _file_texts(page, tmp_path)
        assert {"csv", "xlsx"} <= set(texts)
        for name, text in texts.items():
            assert SHIPPED_YEAR not in text, f"{report} {name} names {SHIPPED_YEAR}"
        assert year.financial_year_label in texts["xlsx"]
        if "pdf" in texts:
            assert year.financial_year_label in texts["pdf"]
    assert console_errors.messages == []
