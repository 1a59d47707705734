"""Dashboards: the commissioner's (aggregates only, suppressed), the joint board's (authorities
side by side) and a provider's (its own organisation's work, exact).

Figures come from ``reporting.metrics`` like every return. A dashboard is computed into a
``DashboardSnapshot`` (by ``dashboard_refresh_task`` ahead of time, or on first view) and the
page says when it was computed. A snapshot holds only display strings and chart numbers of
aggregates: never a person, never a reference.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import timezone

from reporting.kpi_report import kpi_results
from reporting.metrics import Scope, policy_for
from reporting.metrics import people as people_metrics
from reporting.metrics import referrals as referral_metrics
from reporting.metrics import security as security_metrics
from reporting.metrics import support as support_metrics
from reporting.models import DashboardSnapshot
from reporting.periods import Period
from reporting.suppression import suppress_table
from reporting.tables import COUNT, INTEGER, MONEY, NUMBER, PERCENT, TEXT, Cell, Row, Table
from safer.organisations.models import CommissioningAuthority, District, ServiceElement

ELEMENTS = [e.value for e in ServiceElement]
SNAPSHOT_MAX_AGE = dt.timedelta(hours=1)
TREND_QUARTERS = 6


@dataclass(frozen=True)
class DashboardRequest:
    """What to show. ``provider_id`` makes it a provider's dashboard (exact figures)."""

    authority_ids: tuple[uuid.UUID, ...]
    period: Period
    district_id: uuid.UUID | None = None
    service_element: str = ""
    provider_id: uuid.UUID | None = None
    elements: tuple[str, ...] = field(default=tuple(ELEMENTS))

    @property
    def suppressed(self) -> bool:
        return self.provider_id is None

    @property
    def key(self) -> str:
        return ":".join(
            [
                "provider" if self.provider_id else "commissioner",
                ",".join(sorted(str(a) for a in self.authority_ids)),
                str(self.provider_id or ""),
                self.period.code,
                str(self.district_id or "all"),
                self.service_element or "all",
                ",".join(self.elements),
            ]
        )

    def scope(self) -> Scope:
        return Scope(
            authority_ids=self.authority_ids,
            provider_id=self.provider_id,
            district_ids=(self.district_id,) if self.district_id else (),
        )

    def shows(self, element: str) -> bool:
        return element in self.elements and self.service_element in ("", element)


# --- Snapshots --------------------------------------------------------------------------------


def dashboard_get(
    request: DashboardRequest, *, max_age: dt.timedelta = SNAPSHOT_MAX_AGE
) -> DashboardSnapshot:
    """The snapshot for the request, computed now if missing or older than ``max_age``."""
    snapshot = DashboardSnapshot.objects.filter(key=request.key[:300]).first()
    if snapshot is not None and timezone.now() - snapshot.computed_at <= max_age:
        return snapshot
    return dashboard_compute(request)


def dashboard_compute(request: DashboardRequest) -> DashboardSnapshot:
    payload = build_dashboard(request)
    snapshot, _ = DashboardSnapshot.objects.update_or_create(
        key=request.key[:300], defaults={"payload": payload, "computed_at": timezone.now()}
    )
    return snapshot


def dashboard_refresh_defaults() -> int:
    """Each authority's default commissioner dashboard (this quarter, no filters)."""
    period = Period.quarter_containing(timezone.localdate())
    count = 0
    for authority_id in CommissioningAuthority.objects.values_list("pk", flat=True):
        dashboard_compute(DashboardRequest(authority_ids=(authority_id,), period=period))
        count += 1
    return count


# --- Building ---------------------------------------------------------------------------------


def build_dashboard(request: DashboardRequest) -> dict[str, Any]:
    scope = request.scope()
    now = timezone.now()
    threshold = policy_for(request.authority_ids).suppression_threshold
    tables = [
        kpi_dashboard_table(request, scope, now),
        series_table(request, scope),
        waiting_table(request, scope),
    ]
    if request.shows("spa") or request.shows("security"):
        tables.append(equity_table(request, scope))
    if request.suppressed:
        for table in tables:
            suppress_table(table, threshold=threshold)
    return {
        "period": request.period.code,
        "period_label": request.period.label,
        "suppressed": request.suppressed,
        "threshold": threshold,
        "tables": {table.code: serialise(table, threshold) for table in tables},
    }


def serialise(table: Table, threshold: int) -> dict[str, Any]:
    return {
        "code": table.code,
        "title": table.title,
        "description": table.description,
        "row_header": table.row_header,
        "columns": table.columns,
        "rows": [
            {
                "code": row.code,
                "label": row.label,
                "is_total": row.is_total,
                "cells": [cell.display(threshold) for cell in row.cells],
                # For charts: the number, or None where hidden or missing.
                "numbers": [
                    None
                    if cell.suppressed or cell.value is None or cell.kind == TEXT
                    else float(cell.value)
                    for cell in row.cells
                ],
            }
            for row in table.rows
        ],
    }


def kpi_dashboard_table(request: DashboardRequest, scope: Scope, now: dt.datetime) -> Table:
    elements = [e for e in request.elements if request.shows(e)]
    results = kpi_results(
        scope=scope, period=request.period, service_elements=elements, as_of=now, trend_quarters=0
    )
    rows = []
    for result in results:
        value = result.value
        kind = value.kind if value else TEXT
        rows.append(
            Row(
                code=result.kpi.code,
                label=result.kpi.label,
                cells=[
                    Cell(value.numerator if value else None, kind),
                    Cell(value.denominator if value else None, kind),
                    Cell(value.percent if value else None, PERCENT),
                    Cell(result.target, PERCENT),
                    Cell(result.rag_label, TEXT),
                    Cell(result.rag, TEXT),
                ],
                derived={2: (0, 1)},
            )
        )
    return Table(
        code="kpis",
        title="Headline KPIs",
        columns=["Met", "Counted", "%", "Target", "RAG", "rag"],
        rows=rows,
        row_header="KPI",
    )


def series_table(request: DashboardRequest, scope: Scope) -> Table:
    quarters = request.period.trailing_quarters(TREND_QUARTERS)
    policy = policy_for(scope.authority_ids)
    rows: list[Row] = []
    if request.shows("spa"):
        totals = [
            referral_metrics.referral_totals(scope=scope, period=q, policy=policy) for q in quarters
        ]
        rows.append(Row("referrals", "Referrals received", [Cell(t["received"]) for t in totals]))
        rows.append(Row("accepted", "Referrals accepted", [Cell(t["accepted"]) for t in totals]))
    if request.shows("security"):
        rows.append(
            Row(
                "open_jobs",
                "Open security jobs at the quarter's end",
                [
                    Cell(security_metrics.jobs_open_at(scope=scope, moment_before=q.ends_before))
                    for q in quarters
                ],
            )
        )
        rows.append(
            Row(
                "spend",
                "Spend on security measures",
                [
                    Cell(security_metrics.spend_total(scope=scope, period=q), MONEY)
                    for q in quarters
                ],
            )
        )
    if request.shows("adult_support") or request.shows("cyp"):
        open_cases = [
            support_metrics.open_cases_at(scope=scope, moment_before=q.ends_before)
            for q in quarters
        ]
        keys = [k for k, e in (("adult", "adult_support"), ("cyp", "cyp")) if request.shows(e)]
        rows.append(
            Row(
                "open_cases",
                "Open support cases at the quarter's end",
                [Cell(sum(c[k] for k in keys)) for c in open_cases],
            )
        )
        rows.append(
            Row(
                "individuals",
                "Individuals supported",
                [
                    Cell(people_metrics.individuals_by_group(scope=scope, period=q)[""])
                    for q in quarters
                ],
            )
        )
    return Table(
        code="series",
        title="By quarter",
        columns=[q.short_label for q in quarters],
        rows=rows,
        row_header="Measure",
        description="Each quarter from 1 April, 1 July, 1 October or 1 January, in UK time.",
    )


def waiting_table(request: DashboardRequest, scope: Scope) -> Table:
    rows = []
    if request.shows("spa"):
        rows.append(
            Row(
                "referrals_open",
                "Referrals waiting for a decision",
                [Cell(referral_metrics.referrals_open(scope=scope))],
            )
        )
    if request.shows("security"):
        rows.append(
            Row(
                "jobs_open",
                "Security jobs not yet completed",
                [Cell(security_metrics.jobs_waiting(scope=scope))],
            )
        )
    waiting = support_metrics.waiting_for_allocation(scope=scope)
    if request.shows("adult_support"):
        rows.append(
            Row("adult_waiting", "Adults waiting for a support worker", [Cell(waiting["adult"])])
        )
    if request.shows("cyp"):
        rows.append(Row("cyp_waiting", "Children waiting for a worker", [Cell(waiting["cyp"])]))
    return Table(
        code="waiting", title="Waiting lists now", columns=["Now"], rows=rows, row_header="List"
    )


def equity_table(request: DashboardRequest, scope: Scope) -> Table:
    """Each district side by side with the county: referrals per 10,000 residents, median days
    from referral to installation, spend. Rates and medians of a hidden count are hidden too."""
    period = request.period
    policy = policy_for(scope.authority_ids)
    districts = list(
        District.objects.filter(authority_id__in=scope.authority_ids).order_by(
            "authority__name", "name"
        )
    )
    if request.district_id:
        districts = [d for d in districts if d.pk == request.district_id]
    referrals = referral_metrics.referrals_by_district(scope=scope, period=period, policy=policy)
    medians = security_metrics.median_days_to_installation(scope=scope, period=period)
    spend = security_metrics.spend_by_district(scope=scope, period=period)
    rows = []
    total_referrals, total_population, total_spend = 0, 0, Decimal(0)
    for district in districts:
        key = str(district.pk)
        n = referrals.get(key, 0)
        median: dict[str, Any] = medians.get(key) or {"median": None, "jobs": 0}  # type: ignore[assignment]
        amount = spend.get(key, Decimal(0))
        total_referrals += n
        total_population += district.population or 0
        total_spend += amount
        rows.append(
            Row(
                key,
                district.name,
                [
                    Cell(district.population, INTEGER if district.population else TEXT),
                    Cell(n),
                    Cell(_rate(n, district.population), NUMBER),
                    Cell(median["jobs"]),
                    Cell(_days(median["median"]), NUMBER),
                    Cell(amount, MONEY),
                ],
                derived={2: (1,), 4: (3,)},
            )
        )
    overall: dict[str, Any] = medians["all"]  # type: ignore[assignment]
    rows.append(
        Row(
            "county",
            "All districts",
            [
                Cell(total_population or None, INTEGER),
                Cell(total_referrals),
                Cell(_rate(total_referrals, total_population), NUMBER),
                Cell(overall["jobs"]),
                Cell(_days(overall["median"]), NUMBER),
                Cell(total_spend, MONEY),
            ],
            is_total=True,
            derived={2: (1,), 4: (3,)},
        )
    )
    if districts:
        count = len(districts)
        rows.append(
            Row(
                "average",
                "District average",
                [
                    Cell(None, TEXT),
                    Cell((Decimal(total_referrals) / count).quantize(Decimal("0.1")), NUMBER),
                    Cell(_rate(total_referrals, total_population), NUMBER),
                    Cell(None, TEXT),
                    Cell(None, TEXT),
                    Cell((total_spend / count).quantize(Decimal("0.01")), MONEY),
                ],
            )
        )
    return Table(
        code="equity",
        title="District equity",
        columns=[
            "Residents (Census 2021)",
            "Referrals",
            "Referrals per 10,000 residents",
            "Installations",
            "Median days, referral to installation",
            "Spend",
        ],
        rows=rows,
        row_header="District",
        additive_rows=True,
        description=(
            "Referrals received in the period by the district chosen for the household; days "
            "from the referral to the installation of its works (calendar days, UK time), for "
            "jobs installed in the period; spend on measures installed in the period."
        ),
    )


def _rate(count: int, population: int | None) -> Decimal | None:
    if not population:
        return None
    return (Decimal(count) * 10_000 / Decimal(population)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def _days(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.1"))


def joint_board(*, authority_ids: tuple[uuid.UUID, ...], period: Period) -> dict[str, Any]:
    """Several authorities side by side, with their sum; suppressed (it leaves each council)."""
    authorities = list(CommissioningAuthority.objects.filter(pk__in=authority_ids).order_by("name"))
    columns: list[list[Cell]] = []
    labels = [
        ("received", "Referrals received"),
        ("accepted", "Referrals accepted"),
        ("not_supported", "Households that could not be supported"),
        ("individuals", "Individuals supported"),
        ("sanctuary", "Households supported in a sanctuary scheme"),
        ("installed", "Security jobs installed"),
    ]
    for authority in authorities:
        scope = Scope(authority_ids=(authority.pk,))
        policy = policy_for((authority.pk,))
        totals = referral_metrics.referral_totals(scope=scope, period=period, policy=policy)
        values = {
            "received": totals["received"],
            "accepted": totals["accepted"],
            "not_supported": totals["not_supported"],
            "individuals": people_metrics.individuals_by_group(scope=scope, period=period)[""],
            "sanctuary": support_metrics.households_in_sanctuary(scope=scope, period=period)[""],
            "installed": security_metrics.jobs_installed(scope=scope, period=period),
        }
        money = security_metrics.spend_total(scope=scope, period=period)
        columns.append([Cell(values[code]) for code, _ in labels] + [Cell(money, MONEY)])
    rows = []
    for index, (code, label) in enumerate([*labels, ("spend", "Spend on security measures")]):
        cells = [column[index] for column in columns]
        kind = cells[0].kind if cells else COUNT
        total_value: Any = sum((c.value for c in cells), Decimal(0) if kind == MONEY else 0)
        rows.append(Row(code, label, [*cells, Cell(total_value, kind)]))
    n = len(authorities)
    table = Table(
        code="joint",
        title="Authorities side by side",
        columns=[a.name for a in authorities] + ["Total"],
        rows=rows,
        row_header="Measure",
        total_columns={n: list(range(n))},
    )
    threshold = policy_for(authority_ids).suppression_threshold
    suppress_table(table, threshold=threshold)
    return {
        "period_label": period.label,
        "table": serialise(table, threshold),
        "threshold": threshold,
    }
