"""From a run's parameters to its files: build the document, suppress if it leaves the council,
write XLSX, CSV and PDF. Pure: it reads, and writes nothing to the database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone

from reporting.charts import Bar, bar_chart
from reporting.kpi_report import build_contract_kpi_report
from reporting.metrics import Scope, policy_for
from reporting.models import OutputFormat, ReportKind, ReportRun
from reporting.outputs import write_csv, write_pdf, write_xlsx
from reporting.periods import Period
from reporting.returns import build_return, template_for
from reporting.suppression import suppress_document
from reporting.tables import Chart, ReportDocument
from safer.organisations.models import CommissioningAuthority

ProgressCallback = Callable[[int], None]
# Tables of a return drawn as a chart too (each chart sits above its table in the PDF).
CHARTED_TABLES = frozenset({"districts", "individuals"})


@dataclass(frozen=True)
class RenderedFile:
    format: str
    filename: str
    content: bytes


def run_period(run: ReportRun) -> Period:
    return Period.parse(run.period_code)


def run_scope(run: ReportRun) -> Scope:
    ids = tuple(sorted(run.authorities.values_list("pk", flat=True)))
    return Scope(authority_ids=ids)


def run_parameters(run: ReportRun, period: Period) -> list[tuple[str, str]]:
    names = ", ".join(
        CommissioningAuthority.objects.filter(pk__in=run.authorities.values("pk")).values_list(
            "name", flat=True
        )
    )
    params = [
        ("Report", run.get_kind_display()),
        ("Run", str(run.pk)),
        ("Period", period.label),
        ("Authorities", names),
    ]
    if run.contract_id:
        params.append(("Contract", str(run.contract)))
    if run.template_id:
        params.append(("Template", f"{run.template} (version of {run.template.financial_year})"))  # type: ignore[union-attr]
    params.append(("Requested by", run.requested_by.full_name if run.requested_by else "Schedule"))
    params.append(("Requested at", f"{timezone.localtime(run.requested_at):%Y-%m-%d %H:%M %Z}"))
    return params


def build_document(run: ReportRun, *, as_of: dt.datetime) -> ReportDocument:
    period = run_period(run)
    parameters = run_parameters(run, period)
    if run.kind == ReportKind.CONTRACT_KPI:
        assert run.contract is not None
        document = build_contract_kpi_report(
            contract=run.contract,
            period=period,
            as_of=as_of,
            include_case_references=run.includes_case_references,
            parameters=parameters,
        )
    else:
        template = run.template or template_for(run.kind, period)
        document = build_return(
            template=template,
            scope=run_scope(run),
            period=period,
            as_of=as_of,
            parameters=parameters,
        )
    if run.suppressed:
        threshold = policy_for(run.authorities.values_list("pk", flat=True)).suppression_threshold
        suppress_document(document, threshold=threshold)
    # Drawn after suppression, from what the tables show: a hidden count has no bar.
    document.charts += table_charts(document)
    return document


def table_charts(document: ReportDocument) -> list[Chart]:
    """Bar charts of a return's by-district and by-group tables (first column)."""
    charts = []
    for table in document.tables:
        if table.code not in CHARTED_TABLES or not table.rows:
            continue
        parts = [row for row in table.rows if not row.is_total]
        bars = [
            Bar(
                row.label.strip(),
                None if row.cells[0].suppressed else float(row.cells[0].value or 0),
                row.cells[0].display(document.threshold),
            )
            for row in parts
        ]
        charts.append(
            Chart(
                title=table.title,
                svg=bar_chart(title=table.title, bars=bars, describedby=table.code),
                table_code=table.code,
            )
        )
    return charts


def render_run(
    run: ReportRun, *, as_of: dt.datetime, progress: ProgressCallback | None = None
) -> list[RenderedFile]:
    return render_run_document(run, as_of=as_of, progress=progress)[1]


def render_run_document(
    run: ReportRun, *, as_of: dt.datetime, progress: ProgressCallback | None = None
) -> tuple[ReportDocument, list[RenderedFile]]:
    """The run's document (its cells are kept with the run) and its files."""
    report = progress or (lambda _: None)
    document = build_document(run, as_of=as_of)
    report(60)
    stem = _stem(run)
    files = [RenderedFile(OutputFormat.XLSX, f"{stem}.xlsx", write_xlsx(document))]
    report(70)
    files.append(RenderedFile(OutputFormat.CSV, f"{stem}.csv", write_csv(document)))
    report(75)
    files.append(RenderedFile(OutputFormat.PDF, f"{stem}.pdf", write_pdf(document)))
    report(95)
    return document, files


def _stem(run: ReportRun) -> str:
    kind = run.kind.replace("_", "-")
    codes = "-".join(sorted(run.authorities.values_list("code", flat=True)))
    contract = f"-{run.contract.reference.replace('/', '-')}" if run.contract else ""
    return f"safer-{kind}-{codes}{contract}-{run.period_code}".lower()
