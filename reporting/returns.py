"""The quarterly grant update and the annual Part 4 return, laid out by their template.

The template (per financial year, admin-editable) says which sections, lines and columns a
return has and how SAFER's categories map onto the return's; the figures come from
``reporting.metrics``. Nothing about next year's layout is code.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from reporting.metrics import (
    ADDITIVE_FAMILIES,
    MONEY_CATEGORIES,
    NOT_MEASURABLE,
    UNCOUNTED_FAMILIES,
    Metrics,
)
from reporting.metrics import commissioning as commissioning_metrics
from reporting.metrics import security as security_metrics
from reporting.metrics.common import Scope
from reporting.models import ReturnSection, ReturnTemplate, SectionKind
from reporting.periods import Period
from reporting.tables import COUNT, INTEGER, MONEY, TEXT, Cell, ReportDocument, Row, Table
from safer.organisations.models import CommissioningAuthority, Contract, District, ServiceElement

UNMAPPED_LABEL = "Not matched to a line of this template"

DATA_GAPS = (
    "Complex needs are counted from the referrer's answer on the referral form, so a person "
    "referred before the question was asked, or by a route without it, is not counted. "
    "Commissioned units and support-contract spend are what commissioners recorded in SAFER; "
    "support spend is not recorded by district."
)


class TemplateMissing(Exception):
    """No active template for the kind and financial year: an administrator must add one."""


def template_for(kind: str, period: Period) -> ReturnTemplate:
    template = ReturnTemplate.objects.filter(
        kind=kind, financial_year=period.financial_year_label, is_active=True
    ).first()
    if template is None:
        raise TemplateMissing(
            f"There is no active {kind.replace('_', ' ')} template for "
            f"{period.financial_year_label}. SAFER keeps templates for the current and the next "
            "financial year by itself; for another year a system administrator must add one "
            "(admin: Reporting, Return templates: copy an earlier year's, check it, make it "
            "active)."
        )
    return template


def template_mappings(template: ReturnTemplate) -> dict[str, dict[str, str]]:
    mappings: dict[str, dict[str, str]] = defaultdict(dict)
    for row in template.mappings.all():
        mappings[row.dimension][row.source_code] = row.target_code
    return dict(mappings)


def build_return(
    *,
    template: ReturnTemplate,
    scope: Scope,
    period: Period,
    as_of: dt.datetime,
    parameters: list[tuple[str, str]],
) -> ReportDocument:
    metrics = Metrics(scope, mappings=template_mappings(template), as_of=as_of)
    sections = list(template.sections.prefetch_related("lines").order_by("display_order"))

    def column_periods(kind: str) -> list[Period]:
        return [
            _column_period(column, period)
            for section in sections
            if section.kind == kind
            for column in (section.columns or [{}])
        ]

    metrics.prefetch(
        (
            (line.metric, _column_period(column, period), str(column.get("split", "")))
            for section in sections
            if section.kind not in (SectionKind.SPEND, SectionKind.DISTRICTS)
            for line in section.lines.all()
            for column in (section.columns or [{}])
            if not column.get("total")
        ),
        referral_periods=column_periods(SectionKind.DISTRICTS),
        spend_periods=column_periods(SectionKind.SPEND),
    )
    tables = []
    for section in sections:
        if section.kind == SectionKind.SPEND:
            tables.append(spend_table(section, metrics, period))
        elif section.kind == SectionKind.DISTRICTS:
            tables.append(district_table(section, metrics, period))
        else:
            tables.append(lines_table(section, metrics, period))
    notes = [("About this return", template.notes)] if template.notes else []
    notes += [(table.title, table.description) for table in tables if table.description]
    notes += [("Limits of what SAFER records", DATA_GAPS)]
    notes += [(code.replace("_", " ").capitalize(), why) for code, why in NOT_MEASURABLE.items()]
    authorities = ", ".join(
        CommissioningAuthority.objects.filter(pk__in=scope.authority_ids).values_list(
            "name", flat=True
        )
    )
    return ReportDocument(
        title=f"{template.title} {period.short_label}",
        subtitle=f"{authorities}: {period.label}",
        parameters=parameters,
        tables=tables,
        notes=notes,
        threshold=metrics.policy.suppression_threshold,
    )


def _column_period(column: dict[str, Any], period: Period) -> Period:
    return period.year_to_date() if column.get("period") == "year_to_date" else period


def lines_table(section: ReturnSection, metrics: Metrics, period: Period) -> Table:
    columns: list[dict[str, Any]] = list(section.columns) or [{"code": "period", "label": ""}]
    total_columns = {
        index: [i for i, c in enumerate(columns) if not c.get("total")]
        for index, column in enumerate(columns)
        if column.get("total")
    }
    lines = list(section.lines.all())
    additive = bool(lines) and all(line.metric in ADDITIVE_FAMILIES for line in lines)
    rows: list[Row] = []
    group: list[Row] = []
    for line in lines:
        cells = []
        for index, column in enumerate(columns):
            if index in total_columns:
                cells.append(Cell(None))  # filled below from the other columns
                continue
            cell_period = _column_period(column, period)
            split = column.get("split", "")
            value = metrics.value(line.metric, line.category, cell_period, split)
            kind = _line_kind(line.metric, line.category)
            cells.append(
                _measured(
                    value if kind == MONEY else int(value),
                    f"{line.metric}:{line.category}:{split}",
                    cell_period,
                    kind,
                )
            )
        row = Row(code=line.code, label=line.label, cells=cells, is_total=line.is_total)
        if additive and line.is_total:
            _reconcile(rows, group, row, line.metric, metrics, columns, period)
            group = []
        elif additive:
            group.append(row)
        rows.append(row)
    for row in rows:
        for index, parts in total_columns.items():
            first = row.cells[parts[0]]
            # Sanctuary + other = all: the same figure as the line's unsplit measure.
            measure = first.measure.rsplit(":", 1)[0] + ":" if first.measure else ""
            row.cells[index] = Cell(
                sum(int(row.cells[i].value) for i in parts),
                first.kind,
                measure=measure,
                start=first.start,
                end=first.end,
            )
    return Table(
        code=section.code,
        title=section.title,
        description=section.description,
        columns=[str(c.get("label", "")) for c in columns],
        rows=rows,
        additive_rows=additive,
        total_columns=total_columns,
    )


def _measured(value: Any, measure: str, period: Period, kind: str = COUNT) -> Cell:
    """A cell that says what it measures, for suppression across returns
    (``reporting.disclosure``)."""
    return Cell(
        value,
        kind,
        measure=measure,
        start=period.start.isoformat(),
        end=period.end.isoformat(),
    )


def _line_kind(metric: str, category: str) -> str:
    if (metric, category) in MONEY_CATEGORIES:
        return MONEY
    # Units of accommodation count places, not people: never hidden as small numbers.
    return INTEGER if metric in UNCOUNTED_FAMILIES else COUNT


def _reconcile(
    rows: list[Row],
    group: list[Row],
    total: Row,
    metric: str,
    metrics: Metrics,
    columns: list[dict[str, Any]],
    period: Period,
) -> None:
    """A total is computed on its own; if the lines above miss some of it (a SAFER category the
    template maps to no line), add a line for the difference so the return still adds up."""
    gaps = []
    for index, column in enumerate(columns):
        if column.get("total"):
            gaps.append(0)
            continue
        parts = sum(int(r.cells[index].value) for r in group)
        gaps.append(int(total.cells[index].value) - parts)
    if any(gaps):
        rows.append(Row(code="unmatched", label=UNMAPPED_LABEL, cells=[Cell(g) for g in gaps]))


def spend_table(section: ReturnSection, metrics: Metrics, period: Period) -> Table:
    """Spend against the grant by service element and contract, for each column's period.

    Security spend is the actual cost of the measures installed (by installation date), also
    shown per district under its contract; every other element's spend is the payments
    commissioners recorded against the contract, pro-rated by the days of their cover in the
    period (``reporting.metrics.commissioning``). Each contract's budget is its value pro-rated
    by days. Money is never suppressed (it counts no one)."""
    columns: list[dict[str, Any]] = list(section.columns) or [{"code": "period", "label": ""}]
    periods = [_column_period(c, period) for c in columns]
    headers: list[str] = []
    for column in columns:
        label = str(column.get("label", ""))
        headers += [f"{label} spend".strip(), f"{label} budget".strip()]
    scope = metrics.scope
    installed: dict[Period, dict[tuple[Any, Any], Decimal]] = {}
    recorded: dict[Period, dict[Any, Decimal]] = {}
    for p in set(periods):
        installed[p] = {
            (cell.contract_id, cell.district_id): cell.spend for cell in metrics.spend_cells(p)
        }
        recorded[p] = commissioning_metrics.recorded_spend_by_contract(scope=scope, period=p)
    contracts = security_metrics.contracts_in(
        scope=scope, period=max(periods, key=lambda p: p.days)
    )
    known = {c.pk for c in contracts}
    paid_outside_term = {c for p in recorded for c in recorded[p]} - known
    if paid_outside_term:  # a payment for a contract no longer in force: still spend
        contracts += list(
            Contract.objects.filter(pk__in=paid_outside_term).select_related("provider")
        )
    district_names = dict(
        District.objects.filter(authority_id__in=scope.authority_ids).values_list("pk", "name")
    )

    def spend_of(contract_id: Any, element: str, p: Period) -> Decimal:
        if element == ServiceElement.SECURITY:
            return sum((v for (c, _), v in installed[p].items() if c == contract_id), Decimal(0))
        return recorded[p].get(contract_id, Decimal(0))

    rows: list[Row] = []
    totals = [Decimal(0)] * len(headers)
    for element, element_label in ServiceElement.choices:
        members: list[Contract | None] = [c for c in contracts if c.service_element == element]
        if element == ServiceElement.SECURITY and any(
            key[0] is None for p in installed for key in installed[p]
        ):
            members.append(None)
        if not members:
            continue
        element_row = Row(code=f"element:{element}", label=str(element_label), cells=[])
        rows.append(element_row)
        element_totals = [Decimal(0)] * len(headers)
        for contract in members:
            contract_id = contract.pk if contract else None
            cells = []
            for index, p in enumerate(periods):
                amount = spend_of(contract_id, element, p)
                budget = security_metrics.budget_for(contract, p) if contract else None
                cells += [Cell(amount, MONEY), Cell(budget, MONEY)]
                element_totals[2 * index] += amount
                element_totals[2 * index + 1] += budget or 0
            label = (
                f"{contract.reference} {contract.get_service_element_display()} "
                f"({contract.provider})"
                if contract
                else "Security works with no contract recorded"
            )
            rows.append(Row(code=str(contract_id or "none"), label=f"  {label}", cells=cells))
            if element != ServiceElement.SECURITY:
                continue
            districts = sorted(
                {d for p in periods for (c, d) in installed[p] if c == contract_id},
                key=lambda d: district_names.get(d, ""),
            )
            for district_id in districts:
                cells = []
                for p in periods:
                    cells += [Cell(installed[p].get((contract_id, district_id), Decimal(0)), MONEY)]
                    cells += [Cell(None, TEXT)]
                rows.append(
                    Row(
                        code=f"{contract_id or 'none'}:{district_id}",
                        label=f"    {district_names.get(district_id, 'Unknown district')}",
                        cells=cells,
                    )
                )
        element_row.cells = [Cell(t, MONEY) for t in element_totals]
        totals = [t + e for t, e in zip(totals, element_totals, strict=True)]
    rows.append(
        Row(code="total", label="Total", cells=[Cell(t, MONEY) for t in totals], is_total=True)
    )
    return Table(
        code=section.code,
        title=section.title,
        description=section.description,
        columns=headers,
        rows=rows,
        row_header="Service element, contract and district",
    )


def district_table(section: ReturnSection, metrics: Metrics, period: Period) -> Table:
    """Referrals received per district of the scope, with the total: the table in which a small
    district's count is hidden, and a second one with it so the total cannot reveal it. From
    the period's one pass over its referrals (``Metrics.referral_pass``)."""
    columns: list[dict[str, Any]] = list(section.columns) or [{"code": "period", "label": ""}]
    scope = metrics.scope
    counts = [
        metrics.referral_pass(_column_period(column, period)).by_district for column in columns
    ]
    districts = District.objects.filter(authority_id__in=scope.authority_ids).order_by(
        "authority__name", "name"
    )
    periods = [_column_period(column, period) for column in columns]
    rows = [
        Row(
            code=district.code,
            label=district.name,
            cells=[
                _measured(c.get(str(district.pk), 0), f"referrals_by_district:{district.pk}:", p)
                for c, p in zip(counts, periods, strict=True)
            ],
        )
        for district in districts
    ]
    rows.append(
        Row(
            code="total",
            label="Total",
            cells=[
                _measured(sum(c.values()), "referrals_by_district:total:", p)
                for c, p in zip(counts, periods, strict=True)
            ],
            is_total=True,
        )
    )
    return Table(
        code=section.code,
        title=section.title,
        description=section.description,
        columns=[str(c.get("label", "")) for c in columns],
        rows=rows,
        additive_rows=True,
        row_header="District",
    )
