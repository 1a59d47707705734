"""The financial year rolls over by itself: templates for the current and the next year are
derived from the latest earlier one with every heading moved on, flagged until an administrator
checks them; a year with no template gets a message saying who can fix it."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from reporting.exceptions import ReportRequestError
from reporting.models import OutputFormat, ReportKind, ReturnSection, ReturnTemplate
from reporting.periods import Period
from reporting.rollover import (
    return_template_mark_checked,
    return_templates_roll_forward,
    year_mentions_shifted,
)
from reporting.selectors import return_templates_needing_check
from reporting.services import report_run_request
from reporting.tasks import report_run_generate_task
from safer.accounts.roles import Role
from tests.factories import PersonaWorld, UserFactory
from tests.helpers import sign_in
from tests.test_reporting_data import Dataset, build_dataset
from tests.test_reporting_views import commissioner_of

SHIPPED_YEAR = "2025-26"  # the templates the migrations ship
TODAY = dt.date(2026, 12, 4)


@pytest.fixture
def private_storage(tmp_path: Path, settings: Any) -> Path:
    root = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


def _line_shapes(section: ReturnSection) -> list[tuple[str, str, str, bool]]:
    return [(line.code, line.metric, line.category, line.is_total) for line in section.lines.all()]


def years_of(kind: str) -> list[str]:
    return sorted(ReturnTemplate.objects.filter(kind=kind).values_list("financial_year", flat=True))


def test_year_mentions_move_on_and_other_years_stay() -> None:
    shifted = year_mentions_shifted(
        "Return 2025-26 (2025/26, 2025 to 2026, 1 April 2025 to 31 March 2026); since 2021-22; "
        "ref 12025-26",
        from_year=2025,
        to_year=2026,
    )
    assert shifted == (
        "Return 2026-27 (2026/27, 2026 to 2027, 1 April 2026 to 31 March 2027); since 2021-22; "
        "ref 12025-26"
    )


@pytest.mark.django_db
def test_roll_forward_makes_this_year_and_next_for_every_kind_once() -> None:
    kinds = set(ReturnTemplate.objects.values_list("kind", flat=True))
    assert kinds  # the migrations ship templates

    made = return_templates_roll_forward(today=TODAY)

    assert {(t.kind, t.financial_year) for t in made} == {
        (kind, year) for kind in kinds for year in ("2026-27", "2027-28")
    }
    for kind in kinds:
        assert years_of(kind) == [SHIPPED_YEAR, "2026-27", "2027-28"]
    # Idempotent: beat, seed_demo and a request may all ask.
    assert return_templates_roll_forward(today=TODAY) == []


@pytest.mark.django_db
def test_derived_template_has_the_new_year_in_every_heading_and_the_same_lines() -> None:
    return_templates_roll_forward(today=TODAY)
    source = ReturnTemplate.objects.get(kind=ReportKind.ANNUAL_RETURN, financial_year=SHIPPED_YEAR)
    derived = ReturnTemplate.objects.get(kind=ReportKind.ANNUAL_RETURN, financial_year="2026-27")

    assert derived.is_active
    assert derived.needs_check
    assert derived.derived_from == source
    assert derived.derived_from_year == SHIPPED_YEAR
    source_sections = list(source.sections.order_by("display_order"))
    derived_sections = list(derived.sections.order_by("display_order"))
    assert [s.code for s in derived_sections] == [s.code for s in source_sections]
    for old, new in zip(source_sections, derived_sections, strict=True):
        assert [
            (line.code, line.metric, line.category, line.is_total) for line in new.lines.all()
        ] == [(line.code, line.metric, line.category, line.is_total) for line in old.lines.all()]
        for column in new.columns:
            assert SHIPPED_YEAR not in column["label"]
    annual_columns = {c["label"] for s in derived_sections for c in s.columns}
    assert "2026-27" in annual_columns
    assert source.mappings.count() == derived.mappings.count() > 0
    # 2027-28 is derived from 2026-27, not from the shipped year again.
    next_year = ReturnTemplate.objects.get(kind=ReportKind.ANNUAL_RETURN, financial_year="2027-28")
    assert next_year.derived_from == derived
    assert "2027-28" in {c["label"] for s in next_year.sections.all() for c in s.columns}


@pytest.mark.django_db
def test_first_of_april_rolls_over_by_itself() -> None:
    return_templates_roll_forward(today=dt.date(2027, 3, 31))
    assert "2028-29" not in years_of(ReportKind.ANNUAL_RETURN)
    with time_machine.travel(dt.datetime(2027, 4, 1, 0, 30, tzinfo=dt.UTC), tick=False):
        from reporting.tasks import return_templates_roll_forward_task

        assert return_templates_roll_forward_task() > 0
    assert years_of(ReportKind.ANNUAL_RETURN)[-1] == "2028-29"


@pytest.mark.django_db
def test_an_administrators_inactive_draft_is_left_alone() -> None:
    source = ReturnTemplate.objects.get(kind=ReportKind.ANNUAL_RETURN, financial_year=SHIPPED_YEAR)
    draft = ReturnTemplate.objects.create(
        kind=source.kind, financial_year="2026-27", title="Draft", is_active=False
    )
    return_templates_roll_forward(today=TODAY)
    draft.refresh_from_db()
    assert draft.title == "Draft"
    assert not draft.is_active
    assert years_of(ReportKind.ANNUAL_RETURN) == [SHIPPED_YEAR, "2026-27", "2027-28"]


@pytest.mark.django_db
def test_checking_clears_the_notice() -> None:
    return_templates_roll_forward(today=TODAY)
    waiting = return_templates_needing_check()
    assert {t.financial_year for t in waiting} == {"2026-27", "2027-28"}
    admin = UserFactory.create(roles=[Role.SYSTEM_ADMIN])
    for template in waiting:
        return_template_mark_checked(template=template, checked_by=admin)
    assert return_templates_needing_check() == []
    checked = ReturnTemplate.objects.get(kind=ReportKind.ANNUAL_RETURN, financial_year="2026-27")
    assert checked.checked_by == admin
    assert not checked.needs_check


def test_request_for_the_current_year_derives_its_template_on_a_fresh_install(
    db: None, private_storage: Path
) -> None:
    dataset = build_dataset()
    assert "2026-27" not in years_of(ReportKind.QUARTERLY_GRANT)
    with time_machine.travel(dt.datetime(2026, 12, 4, 9, tzinfo=dt.UTC), tick=False):
        run = report_run_request(
            kind=ReportKind.QUARTERLY_GRANT,
            period=Period.parse("2026-27-Q2"),
            authorities=[dataset.kent],
            requested_by=commissioner_of(dataset.kent),
        )
    assert run.template is not None
    assert run.template.financial_year == "2026-27"


def test_a_year_without_a_template_says_who_can_fix_it(db: None) -> None:
    dataset = build_dataset()
    with pytest.raises(ReportRequestError) as raised:
        report_run_request(
            kind=ReportKind.ANNUAL_RETURN,
            period=Period.parse("2031-32"),
            authorities=[dataset.kent],
            requested_by=None,
        )
    assert "no active annual return template for 2031-32" in raised.value.message
    assert "system administrator" in raised.value.message


def _outputs_text(dataset: Dataset, period: str, kind: str, tmp_path: Path) -> dict[str, str]:
    with time_machine.travel(dt.datetime(2026, 12, 4, 9, tzinfo=dt.UTC), tick=False):
        run = report_run_request(
            kind=kind,
            period=Period.parse(period),
            authorities=[dataset.kent],
            requested_by=commissioner_of(dataset.kent),
        )
        report_run_generate_task(str(run.pk))
    csv = run.outputs.get(format=OutputFormat.CSV).file.read().decode("utf-8-sig")
    workbook = load_workbook(io.BytesIO(run.outputs.get(format=OutputFormat.XLSX).file.read()))
    xlsx = "\n".join(
        " ".join(str(value) for value in row if value is not None)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
    )
    texts = {"csv": csv, "xlsx": xlsx}
    if shutil.which("pdftotext"):
        pdf = tmp_path / f"{kind}.pdf"
        pdf.write_bytes(run.outputs.get(format=OutputFormat.PDF).file.read())
        texts["pdf"] = subprocess.run(  # noqa: S603
            ["pdftotext", "-layout", str(pdf), "-"],  # noqa: S607
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    return texts


@pytest.mark.parametrize(
    ("kind", "period"),
    [(ReportKind.ANNUAL_RETURN, "2026-27"), (ReportKind.QUARTERLY_GRANT, "2026-27-Q2")],
)
def test_current_years_returns_carry_the_current_year_in_every_heading(
    db: None, private_storage: Path, tmp_path: Path, kind: str, period: str
) -> None:
    dataset = build_dataset()
    return_templates_roll_forward(today=TODAY)
    texts = _outputs_text(dataset, period, kind, tmp_path)
    for name, text in texts.items():
        assert SHIPPED_YEAR not in text, f"{name} still names {SHIPPED_YEAR}"
    # The workbook's and the PDF's headings name the year (a quarterly CSV names no year).
    assert "2026-27" in texts["xlsx"]
    assert "2026-27" in texts.get("pdf", "2026-27")
    if kind == ReportKind.ANNUAL_RETURN:
        assert "2026-27" in texts["csv"]


def test_admin_and_reports_page_say_a_template_was_derived(db: None) -> None:
    dataset = build_dataset()
    return_templates_roll_forward(today=TODAY)
    commissioner = commissioner_of(dataset.kent)
    client = Client()
    sign_in(client, commissioner)
    page = client.get(reverse("reporting:run-list")).content.decode()
    assert (
        "The 2026-27 Annual Part 4 return template was derived automatically from 2025-26" in page
    )


def test_admin_lists_derived_templates_as_not_yet_checked(
    client: Client, world: PersonaWorld
) -> None:
    return_templates_roll_forward(today=TODAY)
    sign_in(client, world.system_admin)
    listing = client.get("/admin/reporting/returntemplate/", follow=True).content.decode()
    assert "was derived automatically from 2025-26" in listing
    assert "not yet checked" in listing


def test_roll_forward_is_on_the_beat_schedule() -> None:
    from safer.celery import app

    entry = app.conf.beat_schedule["reporting-return-templates-roll-forward"]
    assert entry["task"] == "reporting.tasks.return_templates_roll_forward_task"
