"""Report runs: requested through the outbox, produced once per run id, failures visible,
transient errors retried, files downloadable only through the checked, logged view; the
XLSX and PDF hold the metrics; the beat schedule."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import OperationalError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from reporting import generate
from reporting.exceptions import ReportRequestError
from reporting.models import OutputFormat, ReportKind, ReportOutput, ReportRun, RunStatus
from reporting.periods import Period
from reporting.schedules import quarter_reports_due_on, scheduled_reports_request
from reporting.services import (
    STALE_CLAIM,
    report_ready_notify,
    report_run_claim,
    report_run_request,
)
from reporting.tasks import report_run_generate_task
from safer.accounts.roles import Role
from safer.audit.models import AccessAction, AccessLog
from safer.outbox.models import OutboxMessage
from tests.helpers import sign_in
from tests.test_reporting_data import Dataset, build_dataset
from tests.test_reporting_views import commissioner_of, provider_manager_of

Q1 = Period.parse("2025-26-Q1")
YEAR = Period.parse("2025-26")


@pytest.fixture
def dataset(db: None) -> Dataset:
    """The hand-built dataset of tests/test_reporting_data.py."""
    return build_dataset()


@pytest.fixture
def eager_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let an eagerly applied task retry inline instead of raising its ``Retry``."""
    from safer.celery import app

    monkeypatch.setitem(app.conf, "task_eager_propagates", False)


@pytest.fixture(autouse=True)
def private_storage(tmp_path: Path, settings: Any) -> Path:
    """Report files go to a temporary private folder, not the developer's var/private."""
    root = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


def request_quarterly(data: Dataset, **extra: Any) -> ReportRun:
    return report_run_request(
        kind=ReportKind.QUARTERLY_GRANT,
        period=Q1,
        authorities=[data.kent],
        requested_by=commissioner_of(data.kent),
        **extra,
    )


# --- Requesting ---------------------------------------------------------------------------------


def test_request_writes_the_run_and_its_outbox_message_together(dataset: Dataset) -> None:
    run = request_quarterly(dataset)
    assert run.status == RunStatus.QUEUED
    assert run.suppressed is True  # a grant return leaves the council
    assert run.parameters == {
        "period": "2025-26-Q1",
        "authority_ids": [str(dataset.kent.pk)],
        "contract_id": None,
    }
    message = OutboxMessage.objects.get(kwargs__run_id=str(run.pk))
    assert message.task_name == "reporting.tasks.report_run_generate_task"


def test_request_refuses_a_quarter_for_the_annual_return(dataset: Dataset) -> None:
    with pytest.raises(ReportRequestError, match="financial year"):
        report_run_request(
            kind=ReportKind.ANNUAL_RETURN, period=Q1, authorities=[dataset.kent], requested_by=None
        )
    assert not ReportRun.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_request_refuses_a_year_with_no_template(dataset: Dataset) -> None:
    with pytest.raises(ReportRequestError, match="no active annual return template for 2030-31"):
        report_run_request(
            kind=ReportKind.ANNUAL_RETURN,
            period=Period.parse("2030-31"),
            authorities=[dataset.kent],
            requested_by=None,
        )


def test_contract_report_is_exact_and_lists_references_only_in_the_provider_copy(
    dataset: Dataset,
) -> None:
    run = report_run_request(
        kind=ReportKind.CONTRACT_KPI,
        period=Q1,
        authorities=[dataset.kent],
        contract=dataset.contracts["security"],
        requested_by=provider_manager_of(dataset, "contractor"),
        includes_case_references=True,
    )
    assert (run.suppressed, run.includes_case_references) == (False, True)


# --- Producing ----------------------------------------------------------------------------------


def test_task_produces_one_set_of_files_and_a_second_run_does_nothing(dataset: Dataset) -> None:
    run = request_quarterly(dataset)
    assert report_run_generate_task(str(run.pk)) == "succeeded"
    run.refresh_from_db()
    assert (run.status, run.progress, run.attempts) == (RunStatus.SUCCEEDED, 100, 1)
    assert run.started_at is not None
    assert run.finished_at is not None
    first = {o.format: (o.pk, o.sha256) for o in run.outputs.all()}
    assert set(first) == {OutputFormat.XLSX, OutputFormat.CSV, OutputFormat.PDF}

    assert report_run_generate_task(str(run.pk)) == "skipped"
    assert {o.format: (o.pk, o.sha256) for o in run.outputs.all()} == first
    assert ReportOutput.objects.filter(run=run).count() == 3


def test_a_failure_is_recorded_on_the_run(
    dataset: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise ValueError("the template has a line with an unknown metric")

    monkeypatch.setattr("reporting.tasks.render_run_document", broken)
    run = request_quarterly(dataset)
    assert report_run_generate_task(str(run.pk)) == "failed"
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.error == "ValueError: the template has a line with an unknown metric"
    assert run.finished_at is not None
    assert not run.outputs.exists()


def test_a_transient_error_is_retried_then_the_run_succeeds(
    dataset: Dataset, monkeypatch: pytest.MonkeyPatch, eager_retries: None
) -> None:
    real = generate.render_run_document
    calls = {"n": 0}

    def flaky(run: ReportRun, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] < 3:
            raise OperationalError("server closed the connection unexpectedly")
        return real(run, **kwargs)

    monkeypatch.setattr("reporting.tasks.render_run_document", flaky)
    run = request_quarterly(dataset)
    report_run_generate_task.apply(kwargs={"run_id": str(run.pk)})  # eager: retries run inline
    run.refresh_from_db()
    assert (run.status, run.attempts, calls["n"]) == (RunStatus.SUCCEEDED, 3, 3)


def test_transient_errors_past_the_retries_fail_the_run(
    dataset: Dataset, monkeypatch: pytest.MonkeyPatch, eager_retries: None
) -> None:
    def down(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("could not connect to server")

    monkeypatch.setattr("reporting.tasks.render_run_document", down)
    run = request_quarterly(dataset)
    report_run_generate_task.apply(kwargs={"run_id": str(run.pk)})
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.attempts == 4  # the first try and three retries
    assert run.error.startswith("OperationalError")


def test_a_claim_is_taken_once_and_a_dead_workers_claim_can_be_taken_over(dataset: Dataset) -> None:
    run = request_quarterly(dataset)
    assert report_run_claim(run_id=run.pk) is not None
    assert report_run_claim(run_id=run.pk) is None  # another worker holds it
    with time_machine.travel(timezone.now() + STALE_CLAIM + dt.timedelta(minutes=1)):
        taken = report_run_claim(run_id=run.pk)
    assert taken is not None
    assert taken.attempts == 2
    assert report_run_claim(run_id="not-a-uuid") is None


# --- The files ----------------------------------------------------------------------------------


def test_xlsx_has_a_sheet_per_section_and_a_notes_sheet_matching_the_metrics(
    dataset: Dataset,
) -> None:
    run = report_run_request(
        kind=ReportKind.ANNUAL_RETURN, period=YEAR, authorities=[dataset.kent], requested_by=None
    )
    report_run_generate_task(str(run.pk))
    output = run.outputs.get(format=OutputFormat.XLSX)
    workbook = load_workbook(io.BytesIO(output.file.read()))
    assert workbook.sheetnames == [
        "Notes",
        "Individuals supported",
        "Individuals supported by safe a",  # at most 31 characters
        "Commissioned units by safe acco",
        "Individuals with specialist cha",
        "Households that could not be su",
        "Households whose support ended",
        "Households supported in a sanct",
        "Types of support given",
        "Equality ethnicity (ONS 2021 gr",  # no colon in a sheet name
        "Equality age on the first day o",
        "Referrals",
        "Referrals by district",
        "Spend against the grant",
    ]
    sheet = workbook["Individuals supported"]
    values = {row[0]: row[1] for row in sheet.iter_rows(min_row=5, values_only=True)}
    # Suppressed (a published return): the hand-worked 3, 1, 1, 8, 1 of 14.
    assert values == {
        "Women": "<5",
        "Men": "<5",
        "Trans adults": "<5",
        "Children (under 18 on the first day of support)": 8,
        "Adults whose sex is not recorded": "<5",
        "Total individuals supported": 14,
    }
    districts = {
        r[0]: r[1] for r in workbook["Referrals by district"].iter_rows(min_row=5, values_only=True)
    }
    assert districts == {"Ashford": "[c]", "Canterbury": 8, "Dover": "<5", "Total": 19}
    spend = list(workbook["Spend against the grant"].iter_rows(min_row=5, values_only=True))
    # Security £3,450 installed + recorded support payments £120,000 + £355,000.
    assert spend[-1][:2] == ("Total", 478450)
    units = {
        r[0]: r[1]
        for r in workbook["Commissioned units by safe acco"].iter_rows(min_row=5, values_only=True)
    }
    # Units count places, not people: exact even in a published return.
    assert units["Refuge"] == 14
    assert units["Dispersed accommodation"] == 6
    assert units["Total units commissioned"] == 320
    notes = [row for row in workbook["Notes"].iter_rows(values_only=True) if row and row[0]]
    labels = [row[0] for row in notes]
    assert {"Period", "Small numbers", "Definitions"} <= set(labels)
    period_row = next(row for row in notes if row[0] == "Period")
    assert period_row[1] == "2025-26 (1 April 2025 to 31 March 2026)"


def test_csv_lists_every_cell_with_hidden_counts_shown_as_less_than_five(dataset: Dataset) -> None:
    run = request_quarterly(dataset)
    report_run_generate_task(str(run.pk))
    text = run.outputs.get(format=OutputFormat.CSV).file.read().decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0] == "section,line_code,line,column,value"
    assert "Referrals by district,ds-dover,Dover,This quarter,<5" in lines
    assert "Referrals by district,total,Total,This quarter,17" in lines


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils (pdftotext)")
def test_pdf_renders_with_its_headings_and_charts_as_text(dataset: Dataset, tmp_path: Path) -> None:
    run = report_run_request(
        kind=ReportKind.CONTRACT_KPI,
        period=Q1,
        authorities=[dataset.kent],
        contract=dataset.contracts["security"],
        requested_by=provider_manager_of(dataset, "contractor"),
        includes_case_references=True,
    )
    report_run_generate_task(str(run.pk))
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(run.outputs.get(format=OutputFormat.PDF).file.read())
    text = subprocess.run(  # noqa: S603
        ["pdftotext", "-layout", str(pdf), "-"],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for heading in (
        "Contract KPI report 23/00074 2025-26 Q1",
        "Key performance indicators",
        "Spend against contract value",
        "Breaches by case reference",
        "Notes and definitions",
    ):
        assert heading in text
    assert "JOB-J5" in text  # the provider's copy lists breaches by reference
    assert "Target 90%" in text  # the chart's target line label is real text, not an image


def test_annual_pdf_has_commissioned_units_and_spend_by_service_element(
    dataset: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reporting import outputs

    rendered: list[str] = []
    render = outputs.render_to_string

    def keep(*args: Any, **kwargs: Any) -> str:
        rendered.append(render(*args, **kwargs))
        return rendered[-1]

    # The page WeasyPrint lays out (pdftotext is not on every machine to read the PDF back).
    monkeypatch.setattr(outputs, "render_to_string", keep)
    run = report_run_request(
        kind=ReportKind.ANNUAL_RETURN, period=YEAR, authorities=[dataset.kent], requested_by=None
    )
    report_run_generate_task(str(run.pk))
    assert run.outputs.get(format=OutputFormat.PDF).file.read().startswith(b"%PDF")
    (html,) = rendered
    for text in (
        "Commissioned units by safe accommodation type",
        "Total units commissioned",
        "Complex or multiple needs",
        "Spend against the grant",
        "ADULT-1 Adult support (Dataset Adult Support)",
        "£120,000.00",  # ADULT-1's recorded payments in the year
        "£478,450.00",  # the spend total
    ):
        assert text in html, text


# --- Downloads ----------------------------------------------------------------------------------


def test_download_is_checked_logged_and_not_cached(client: Client, dataset: Dataset) -> None:
    commissioner = commissioner_of(dataset.kent)
    run = report_run_request(
        kind=ReportKind.QUARTERLY_GRANT,
        period=Q1,
        authorities=[dataset.kent],
        requested_by=commissioner,
    )
    report_run_generate_task(str(run.pk))
    output = run.outputs.get(format=OutputFormat.XLSX)
    sign_in(client, commissioner)
    url = reverse("reporting:run-download", args=[run.pk, "xlsx"])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{output.filename}"'
    assert "no-store" in response["Cache-Control"]
    assert response.content[:2] == b"PK"  # a zip: the XLSX
    log = AccessLog.objects.get(action=AccessAction.DOWNLOAD)
    assert (log.user, log.record_type, log.record_id) == (
        commissioner,
        "reporting.reportoutput",
        str(output.pk),
    )
    assert client.get(reverse("reporting:run-download", args=[run.pk, "docx"])).status_code == 404

    sign_in(client, provider_manager_of(dataset, "adult"))  # not their contract's report
    assert client.get(url).status_code == 404
    assert AccessLog.objects.filter(action=AccessAction.DOWNLOAD).count() == 1


def test_run_page_shows_progress_and_htmx_gets_the_panel_alone(
    client: Client, dataset: Dataset
) -> None:
    commissioner = commissioner_of(dataset.kent)
    run = request_quarterly(dataset)
    run.requested_by = commissioner
    run.save(update_fields=["requested_by"])
    sign_in(client, commissioner)
    url = reverse("reporting:run-detail", args=[run.pk])
    page = client.get(url).content.decode()
    assert 'hx-trigger="every 2s"' in page
    assert '<meta http-equiv="refresh" content="5">' in page  # inside <noscript>
    assert "django_htmx/htmx-2.min.js" in page
    panel = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert '<div id="run-status"' in panel
    assert "<html" not in panel

    report_run_generate_task(str(run.pk))
    done = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in done  # finished: polling stops
    assert reverse("reporting:run-download", args=[run.pk, "pdf"]) in done


def test_request_page_queues_a_run(client: Client, dataset: Dataset) -> None:
    sign_in(client, commissioner_of(dataset.kent))
    response = client.post(
        reverse("reporting:run-request"),
        {"kind": "quarterly_grant", "period": Q1.code, "authorities": [str(dataset.kent.pk)]},
    )
    run = ReportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("reporting:run-detail", args=[run.pk])
    bad = client.post(
        reverse("reporting:run-request"),
        {"kind": "annual_return", "period": Q1.code, "authorities": [str(dataset.kent.pk)]},
    )
    assert bad.status_code == 200
    assert "The annual return is for a financial year." in bad.content.decode()


# --- Schedule -----------------------------------------------------------------------------------


def test_quarterly_reports_fall_due_on_the_fifth_working_day(db: None) -> None:
    # Q1 ends Mon 30 June 2025: 1, 2, 3, 4, 7 July.
    assert quarter_reports_due_on(Period.parse("2025-26-Q1")) == dt.date(2025, 7, 7)
    # Q3 ends Wed 31 December 2025: 1 January is a bank holiday: 2, 5, 6, 7, 8 January.
    assert quarter_reports_due_on(Period.parse("2025-26-Q3")) == dt.date(2026, 1, 8)
    # Q4 ends Tue 31 March 2026: Good Friday 3 and Easter Monday 6 April: 1, 2, 7, 8, 9 April.
    assert quarter_reports_due_on(Period.parse("2025-26-Q4")) == dt.date(2026, 4, 9)


def test_schedule_requests_each_report_once_when_due(dataset: Dataset) -> None:
    assert scheduled_reports_request(today=dt.date(2026, 4, 8)) == []  # not yet due
    runs = scheduled_reports_request(today=dt.date(2026, 4, 9))
    kinds = sorted(
        (r.kind, r.period_code, r.contract.reference if r.contract else "") for r in runs
    )
    assert kinds == [
        ("annual_return", "2025-26", ""),  # after year end
        ("contract_kpi", "2025-26-Q4", "23/00074"),
        ("contract_kpi", "2025-26-Q4", "ADULT-1"),
        ("contract_kpi", "2025-26-Q4", "CYP-1"),
        ("quarterly_grant", "2025-26-Q4", ""),
    ]
    assert all(r.requested_by is None and r.schedule_key for r in runs)
    assert scheduled_reports_request(today=dt.date(2026, 4, 10)) == []  # asked once only


def test_commissioners_are_told_once_when_a_scheduled_run_is_ready(
    dataset: Dataset, mailoutbox: list[Any]
) -> None:
    commissioner = commissioner_of(dataset.kent)
    (run,) = [
        r
        for r in scheduled_reports_request(today=dt.date(2025, 7, 7))
        if r.kind == ReportKind.QUARTERLY_GRANT
    ]
    report_run_generate_task(str(run.pk))
    assert OutboxMessage.objects.filter(
        task_name="reporting.tasks.report_ready_notify_task", kwargs__run_id=str(run.pk)
    ).exists()
    assert report_ready_notify(run_id=run.pk) == 1
    assert report_ready_notify(run_id=run.pk) == 0
    (mail,) = mailoutbox
    assert mail.to == []
    assert mail.bcc == [commissioner.email]
    assert f"/reports/runs/{run.pk}/" in mail.body
    assert "Dover" not in mail.body  # a link, never figures


def test_beat_schedule_has_the_reporting_entries() -> None:
    from safer.celery import app

    schedule = app.conf.beat_schedule
    assert (
        schedule["reporting-scheduled-reports"]["task"] == "reporting.tasks.scheduled_reports_task"
    )
    assert (
        schedule["reporting-dashboard-refresh"]["task"] == "reporting.tasks.dashboard_refresh_task"
    )


def test_role_without_runs_cannot_request(client: Client, dataset: Dataset) -> None:
    from tests.factories import UserFactory

    sign_in(client, UserFactory.create(roles=[Role.SPA_TRIAGE], authorities=[dataset.kent]))
    assert client.post(reverse("reporting:run-request"), {}).status_code == 403
    assert not ReportRun.objects.exists()


def test_provider_manager_requests_their_contract_report_with_case_references(
    client: Client, dataset: Dataset
) -> None:
    sign_in(client, provider_manager_of(dataset, "contractor"))
    response = client.post(
        reverse("reporting:run-request"),
        {
            "kind": "contract_kpi",
            "period": Q1.code,
            "contract": str(dataset.contracts["security"].pk),
        },
    )
    assert response.status_code == 302
    run = ReportRun.objects.get()
    assert list(run.authorities.all()) == [dataset.kent]
    assert (run.suppressed, run.includes_case_references) == (False, True)
    # Another provider's contract is not among the choices.
    refused = client.post(
        reverse("reporting:run-request"),
        {"kind": "contract_kpi", "period": Q1.code, "contract": str(dataset.contracts["adult"].pk)},
    )
    assert refused.status_code == 200
    assert ReportRun.objects.count() == 1


def test_dashboard_refresh_task_precomputes_each_authority(dataset: Dataset) -> None:
    from reporting.models import DashboardSnapshot
    from reporting.tasks import dashboard_refresh_task
    from safer.outbox.models import OutboxMessage

    # The beat's call asks for one task per authority, through the outbox; each computes one.
    assert dashboard_refresh_task() == 1  # Kent
    assert not DashboardSnapshot.objects.exists()
    (message,) = OutboxMessage.objects.filter(task_name="reporting.tasks.dashboard_refresh_task")
    assert message.kwargs == {"authority_id": str(dataset.kent.pk)}
    assert dashboard_refresh_task(**message.kwargs) == 1
    assert dashboard_refresh_task(**message.kwargs) == 1  # safe to run twice: one snapshot
    snapshot = DashboardSnapshot.objects.get()
    assert snapshot.payload["suppressed"] is True
    assert set(snapshot.payload["tables"]) == {
        "kpis",
        "series",
        "waiting",
        "equity",
        *(f"profile_{code}" for code in ("sex", "age", "ethnicity", "disability", "referrer")),
    }


def test_charts_of_a_published_return_show_no_hidden_figure(dataset: Dataset) -> None:
    run = request_quarterly(dataset)
    document = generate.build_document(run, as_of=timezone.now())
    (chart,) = [c for c in document.charts if c.table_code == "districts"]
    labels = re.findall(r">([^<>]+)</text>", chart.svg)
    # Bars: Ashford [c], Canterbury 7, Dover <5 (the axis runs 0 to 7).
    assert labels == [
        "7",
        "0",
        "[c]",
        "Ashford",
        "7",
        "Canterbury",
        "&lt;5",
        "Dover",
    ]
    assert chart.svg.count("<rect") == 1  # only Canterbury's bar is drawn


def test_the_same_task_delivered_again_takes_over_its_dead_claim(dataset: Dataset) -> None:
    """A worker killed mid-run leaves the run "running"; the same message delivered again (acks
    late) means that attempt is dead, so it takes over at once. Another task id still cannot."""
    run = request_quarterly(dataset)
    assert report_run_claim(run_id=run.pk, task_id="task-1") is not None
    assert report_run_claim(run_id=run.pk, task_id="task-2") is None  # someone else's live claim
    taken = report_run_claim(run_id=run.pk, task_id="task-1")  # redelivered
    assert taken is not None
    assert (taken.attempts, taken.claimed_by_task) == (2, "task-1")
