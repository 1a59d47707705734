"""KPI results with targets and RAG, and the contract KPI report built from them.

A KPI's figures come from ``reporting.metrics`` (one definition for the report and the
dashboard); its target and amber margin from ``KpiDefinition`` (or the contract's own target).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import prefetch_related_objects

from reporting.charts import Bar, bar_chart
from reporting.metrics import NOT_MEASURABLE, Scope, kpi_breaches, kpi_measure, percent, policy_for
from reporting.metrics import commissioning as commissioning_metrics
from reporting.metrics import referrals as referral_metrics
from reporting.metrics import security as security_metrics
from reporting.metrics.kpis import kpi_measures
from reporting.models import KpiContractTarget, KpiDefinition
from reporting.periods import Period
from reporting.profile import referral_profile_tables
from reporting.tables import COUNT, MONEY, PERCENT, TEXT, Cell, Chart, ReportDocument, Row, Table
from safer.organisations.models import Contract, ServiceElement
from security_works.selectors import contract_budget_summary, contract_spend_by_district_quarter

SPEND_KPI = "security_spend_within_value"
GREEN, AMBER, RED, NO_DATA = "green", "amber", "red", ""
RAG_LABELS = {GREEN: "Green", AMBER: "Amber", RED: "Red", NO_DATA: "No cases"}


def rag_for(
    value: Decimal | None, *, target: Decimal, margin: Decimal, lower_is_better: bool = False
) -> str:
    if value is None:
        return NO_DATA
    if lower_is_better:
        if value <= target:
            return GREEN
        return AMBER if value <= target + margin else RED
    if value >= target:
        return GREEN
    return AMBER if value >= target - margin else RED


@dataclass(frozen=True)
class KpiValue:
    numerator: Any
    denominator: Any
    percent: Decimal | None
    kind: str = COUNT  # or MONEY for spend against value
    excluded: int = 0


@dataclass(frozen=True)
class KpiResult:
    kpi: KpiDefinition
    target: Decimal
    value: KpiValue | None  # None: SAFER cannot measure it
    rag: str
    trend: list[tuple[Period, KpiValue | None]]

    @property
    def rag_label(self) -> str:
        return RAG_LABELS[self.rag] if self.value is not None else "Not measurable"


def kpi_value(code: str, *, scope: Scope, period: Period, as_of: dt.datetime) -> KpiValue | None:
    if code == SPEND_KPI:
        contracts = security_metrics.contracts_in(
            scope=scope, period=period, service_element=ServiceElement.SECURITY
        )
        by_contract = security_metrics.spend_by_live_contract(scope=scope, period=period)
        return _spend_value(contracts, by_contract=by_contract, period=period)
    count = kpi_measure(code, scope=scope, period=period, as_of=as_of)
    if count is None:
        return None
    return KpiValue(
        count.numerator,
        count.denominator,
        percent(count.numerator, count.denominator),
        excluded=count.excluded,
    )


def _spend_value(
    contracts: list[Contract], *, by_contract: Mapping[Any, Decimal], period: Period
) -> KpiValue:
    """Spend against value over the security contracts in force in the period, from the
    period's spend by the contract live on each job's installation day."""
    budget = sum((security_metrics.budget_for(c, period) for c in contracts), Decimal(0))
    # Only the spend of those contracts: each job by the contract live on its installation
    # day (extensions included); work done under no contract is not spend "within" one.
    spend = sum((by_contract.get(c.pk, Decimal(0)) for c in contracts), Decimal(0))
    ratio = (
        (spend * 100 / budget).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if budget else None
    )
    return KpiValue(spend, budget, ratio, MONEY)


def kpi_values(
    code: str, *, scope: Scope, periods: list[Period], as_of: dt.datetime
) -> dict[Period, KpiValue | None]:
    """``kpi_value`` for each of ``periods`` (each computed once, however often it is listed):
    a time-based KPI in one query over them all; spend against value with the contracts read
    once for them all; any other KPI period by period."""
    distinct = list(dict.fromkeys(periods))
    if code == SPEND_KPI:
        span = Period(min(p.start for p in distinct), max(p.end for p in distinct), "span")
        contracts = security_metrics.contracts_in(
            scope=scope, period=span, service_element=ServiceElement.SECURITY
        )
        spends = security_metrics.spend_by_live_contract_periods(scope=scope, periods=distinct)
        return {
            p: _spend_value(
                [c for c in contracts if c.start_date <= p.end and c.current_end_date >= p.start],
                by_contract=by_contract,
                period=p,
            )
            for p, by_contract in zip(distinct, spends, strict=True)
        }
    counts = kpi_measures(code, scope=scope, periods=distinct, as_of=as_of)
    return {
        p: None
        if count is None
        else KpiValue(
            count.numerator,
            count.denominator,
            percent(count.numerator, count.denominator),
            excluded=count.excluded,
        )
        for p, count in zip(distinct, counts, strict=True)
    }


def kpi_results(
    *,
    scope: Scope,
    period: Period,
    service_elements: list[str],
    as_of: dt.datetime,
    contract: Contract | None = None,
    trend_quarters: int = 4,
) -> list[KpiResult]:
    kpis = KpiDefinition.objects.filter(service_element__in=service_elements, is_active=True)
    overrides = (
        dict(
            KpiContractTarget.objects.filter(contract=contract).values_list(
                "kpi_id", "target_percent"
            )
        )
        if contract
        else {}
    )
    trend_periods = period.trailing_quarters(trend_quarters) if trend_quarters else []
    results = []
    for kpi in kpis:
        target = overrides.get(kpi.code, kpi.target_percent)
        # The quarter is also the trend's last: each period once, a clock's in one query.
        values = kpi_values(kpi.code, scope=scope, periods=[period, *trend_periods], as_of=as_of)
        value = values[period]
        trend = [(p, values[p]) for p in trend_periods]
        rag = rag_for(
            value.percent if value else None,
            target=target,
            margin=kpi.amber_margin,
            lower_is_better=kpi.lower_is_better,
        )
        results.append(KpiResult(kpi, target, value, rag, trend))
    return results


def kpi_table(results: list[KpiResult], *, code: str = "kpis") -> Table:
    trend_headers = [f"{p.short_label} %" for p, _ in (results[0].trend if results else [])]
    rows = []
    for result in results:
        value = result.value
        kind = value.kind if value else TEXT
        cells = [
            Cell(value.numerator if value else None, kind),
            Cell(value.denominator if value else None, kind),
            Cell(value.percent if value else None, PERCENT),
            Cell(result.target, PERCENT),
            Cell(result.rag_label, TEXT),
        ]
        cells += [Cell(v.percent if v else None, PERCENT) for _, v in result.trend]
        rows.append(Row(code=result.kpi.code, label=result.kpi.label, cells=cells))
    return Table(
        code=code,
        title="Key performance indicators",
        columns=["Numerator", "Denominator", "%", "Target", "RAG", *trend_headers],
        rows=rows,
        row_header="KPI",
        description=(
            "Time-based KPIs count each case in the quarter its clock stopped, or, if still "
            "running past its deadline, the quarter it breached. RAG: green at or above target, "
            "amber within the KPI's margin below it, red further below."
        ),
    )


def kpi_chart(result: KpiResult, *, table_id: str = "") -> Chart:
    bars = [
        Bar(
            p.short_label,
            float(v.percent) if v and v.percent is not None else None,
            f"{v.percent:.1f}%" if v and v.percent is not None else "No cases",
        )
        for p, v in result.trend
    ]
    svg = bar_chart(
        title=f"{result.kpi.label}: the last four quarters",
        bars=bars,
        target=float(result.target),
        target_label=f"Target {float(result.target):g}%",
        maximum=100.0,
        describedby=table_id,
    )
    return Chart(title=result.kpi.label, svg=svg, table_code="kpis")


# --- The contract KPI report -------------------------------------------------------------------


def contract_scope(contract: Contract) -> Scope:
    return Scope(
        authority_ids=(contract.authority_id,),
        provider_id=contract.provider_id,
        contract_id=contract.pk if contract.service_element == ServiceElement.SECURITY else None,
    )


def build_contract_kpi_report(
    *,
    contract: Contract,
    period: Period,
    as_of: dt.datetime,
    include_case_references: bool,
    parameters: list[tuple[str, str]],
) -> ReportDocument:
    # Its value, budget and current end all read the extensions: once, not per figure.
    prefetch_related_objects([contract], "extensions")
    scope = contract_scope(contract)
    results = kpi_results(
        scope=scope,
        period=period,
        service_elements=[contract.service_element],
        as_of=as_of,
        contract=contract,
    )
    tables = [kpi_table(results)]
    charts = [kpi_chart(r) for r in results if r.value is not None]
    spend, spend_chart = _spend_tables(contract, period, scope)
    tables += spend
    if contract.service_element == ServiceElement.SPA:
        # The SPA receives the authority's referrals: who they were for and who made them.
        totals = referral_metrics.referral_totals(
            scope=scope, period=period, policy=policy_for(scope.authority_ids)
        )
        tables += referral_profile_tables(totals, column=period.short_label)
    charts.append(spend_chart)
    if include_case_references:
        tables.append(_breach_table(results, scope=scope, period=period, as_of=as_of))
    notes = [(r.kpi.label, r.kpi.definition) for r in results if r.kpi.definition]
    notes += [(code.replace("_", " ").capitalize(), why) for code, why in NOT_MEASURABLE.items()]
    notes.append(
        (
            "Forecast",
            "Spend to the end of the quarter carried on at the same pace as the contract's value "
            "accrues, to the contract's current end (the rule security works uses).",
        )
    )
    return ReportDocument(
        title=f"Contract KPI report {contract.reference} {period.short_label}",
        subtitle=f"{contract.provider}: {contract.get_service_element_display()}, {period.label}",
        parameters=parameters,
        tables=tables,
        notes=notes,
        charts=charts,
    )


def _spend_tables(contract: Contract, period: Period, scope: Scope) -> tuple[list[Table], Chart]:
    """Spend against the contract's value: a security contract's spend is the cost of the
    measures installed; any other contract's is the payments recorded against it."""
    to_date = Period(contract.start_date, period.end, "year_to_date")
    is_security = contract.service_element == ServiceElement.SECURITY

    def spend_in(p: Period) -> Decimal:
        if is_security:
            return security_metrics.spend_total(scope=scope, period=p)
        return commissioning_metrics.recorded_spend_of(contract.pk, scope=scope, period=p)

    spend_to_date = spend_in(to_date)
    budget_to_date = contract.budget_between(contract.start_date, period.end)
    total_value = contract.total_value
    forecast = (
        (spend_to_date * total_value / budget_to_date).quantize(Decimal("0.01"))
        if budget_to_date
        else spend_to_date
    )
    committed = (
        contract_budget_summary(contract, as_of=period.end).committed if is_security else None
    )
    lines = [
        ("total_value", "Contract value (current term)", total_value),
        ("budget_to_date", "Value to the end of the quarter (pro-rated)", budget_to_date),
        (
            "spend_quarter",
            "Spend this quarter",
            spend_in(period),
        ),
        (
            "budget_quarter",
            "Budget this quarter (pro-rated)",
            contract.budget_between(period.start, period.end),
        ),
        (
            "spend_to_date",
            "Spend to the end of the quarter",
            spend_to_date,
        ),
        (
            "committed",
            "Committed (planned works not yet installed, as at the run)",
            committed,
        ),
        (
            "forecast",
            f"Forecast at contract end ({contract.current_end_date:%-d %B %Y})",
            forecast,
        ),
        (
            "variance",
            "Forecast over (+) or under (-) the contract value",
            forecast - total_value,
        ),
    ]
    summary = Table(
        code="spend",
        title="Spend against contract value",
        columns=["Amount"],
        rows=[Row(code=c, label=label, cells=[Cell(v, MONEY)]) for c, label, v in lines],
        row_header="Measure",
        description=(
            "A security contract's spend is the actual cost of measures installed (by "
            "installation date); any other contract's is the payments recorded against it, "
            "pro-rated by the days of the months they cover. The forecast extends spend to date "
            "at the same rate against the pro-rated value."
        ),
    )
    by_quarter: dict[str, Decimal] = {}
    if is_security:
        for cell in contract_spend_by_district_quarter(contract):
            if cell.quarter_start <= period.start:
                key = f"{cell.financial_year} Q{cell.financial_quarter}"
                by_quarter[key] = by_quarter.get(key, Decimal(0)) + cell.spend
    else:
        # One aggregate per quarter from the contract's start (at most a few dozen).
        for quarter in to_date.quarters():
            by_quarter[quarter.short_label] = spend_in(quarter)
    quarters = Table(
        code="spend_quarters",
        title="Spend by quarter",
        columns=["Spend"],
        rows=[Row(code=k, label=k, cells=[Cell(v, MONEY)]) for k, v in sorted(by_quarter.items())],
        row_header="Quarter",
    )
    chart = Chart(
        title="Spend by quarter",
        svg=bar_chart(
            title="Spend by quarter",
            bars=[Bar(k, float(v), f"£{v:,.0f}") for k, v in sorted(by_quarter.items())],
            describedby="spend_quarters",
        ),
        table_code="spend_quarters",
    )
    return [summary, quarters], chart


def _breach_table(
    results: list[KpiResult], *, scope: Scope, period: Period, as_of: dt.datetime
) -> Table:
    rows = []
    for result in results:
        for breach in kpi_breaches(result.kpi.code, scope=scope, period=period, as_of=as_of):
            due, stopped = breach["due"], breach["stopped"]
            rows.append(
                Row(
                    code=f"{result.kpi.code}:{breach['reference']}",
                    label=str(breach["reference"]),
                    cells=[
                        Cell(result.kpi.label, TEXT),
                        Cell(_when(due), TEXT),
                        Cell(_when(stopped) if stopped else "Not yet", TEXT),
                    ],
                )
            )
    return Table(
        code="breaches",
        title="Breaches by case reference",
        columns=["KPI", "Due", "Done"],
        rows=rows,
        row_header="Reference",
        description="For the provider's own follow-up: references only, never names.",
    )


def _when(value: Any) -> str:
    if isinstance(value, dt.datetime):
        from safer.workdays import LOCAL_TZ

        return value.astimezone(LOCAL_TZ).strftime("%-d %b %Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%-d %b %Y")
    return str(value)
