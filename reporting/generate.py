"""From a run's parameters to its files: build the document, suppress if it leaves the council,
write XLSX, CSV and PDF. Pure: it reads, and writes nothing to the database."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from reporting.charts import Bar, bar_chart
from reporting.disclosure import (
    MEASURE_PARTITIONS,
    Problem,
    items_from_cells,
    items_from_document,
    protect,
)
from reporting.kpi_report import build_contract_kpi_report
from reporting.metrics import Scope, policy_for
from reporting.models import OutputFormat, ReportKind, ReportRun
from reporting.outputs import write_csv, write_pdf, write_xlsx
from reporting.periods import Period
from reporting.profile import referral_profile_partitions
from reporting.returns import build_return, template_for
from reporting.suppression import suppress_document
from reporting.tables import Chart, ReportDocument
from safer.db_routing import replica_reads
from safer.organisations.models import CommissioningAuthority

logger = logging.getLogger(__name__)

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
    document, threshold = build_table_suppressed_document(run, as_of=as_of)
    if threshold is not None and run.kind != ReportKind.CONTRACT_KPI:
        protect_across_returns(run, document, threshold=threshold)
    # Drawn after suppression, from what the tables show: a hidden count has no bar.
    document.charts += table_charts(document)
    return document


def build_table_suppressed_document(
    run: ReportRun, *, as_of: dt.datetime
) -> tuple[ReportDocument, int | None]:
    """The run's document with each table protected on its own (``suppress_document``), and the
    threshold used (None when the run is not suppressed); no charts yet."""
    period = run_period(run)
    parameters = run_parameters(run, period)
    # The run and what it names are read from the primary (the worker has just claimed it); the
    # figures from the read replica when there is one (safer.db_routing).
    if run.kind == ReportKind.CONTRACT_KPI:
        assert run.contract is not None
        contract = run.contract
        with replica_reads():
            document = build_contract_kpi_report(
                contract=contract,
                period=period,
                as_of=as_of,
                include_case_references=run.includes_case_references,
                parameters=parameters,
            )
    else:
        template = run.template or template_for(run.kind, period)
        scope = run_scope(run)
        with replica_reads():
            document = build_return(
                template=template, scope=scope, period=period, as_of=as_of, parameters=parameters
            )
    if not run.suppressed:
        return document, None
    threshold = policy_for(run.authorities.values_list("pk", flat=True)).suppression_threshold
    suppress_document(document, threshold=threshold)
    return document, threshold


def published_cells_for(run: ReportRun) -> list[tuple[str, list[dict[str, Any]]]]:
    """The cells of every return already submitted for the run's authorities and financial
    year (the latest submitted version of each), newest first: what a reader already holds."""
    from reporting.models import ReturnSubmission

    if not run.return_key:
        return []
    _kind, period_code, authority_ids = run.return_key.split("|")
    year = Period.parse(period_code).financial_year_label
    latest: dict[str, ReturnSubmission] = {}
    for submission in (
        ReturnSubmission.objects.filter(return_key__endswith=f"|{authority_ids}")
        .exclude(run=run)
        .select_related("run")
        .order_by("-version")
    ):
        if Period.parse(submission.run.period_code).financial_year_label != year:
            continue
        latest.setdefault(submission.return_key, submission)
    ordered = sorted(latest.values(), key=lambda s: s.submitted_at, reverse=True)
    return [(f"submitted-{s.pk}", s.run.cells) for s in ordered]


def protect_across_returns(run: ReportRun, document: ReportDocument, *, threshold: int) -> None:
    """Hide further cells so that nothing hidden (here or in a return already published for the
    same authorities and year) can be pinned down from all of them (``reporting.disclosure``)."""
    items, sums = items_from_document(document)
    for source, cells in published_cells_for(run):
        published, published_sums = items_from_cells(cells, source=source)
        items += published
        sums += published_sums
    partitions = tuple(dict.fromkeys((*MEASURE_PARTITIONS, *referral_profile_partitions())))
    problem = Problem(items, sums, threshold, partitions=partitions)
    protect(problem)
    if problem.unprotectable:
        logger.warning(
            "run %s: figures already published pin down %s", run.pk, problem.unprotectable
        )
    for table in document.tables:  # a rate or percentage of a newly hidden count goes with it
        for row in table.rows:
            for index, sources in row.derived.items():
                if any(row.cells[source].suppressed for source in sources):
                    row.cells[index].suppressed = True


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
