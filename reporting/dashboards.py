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
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import timezone

from reporting.kpi_report import kpi_results
from reporting.metrics import Scope, policy_for
from reporting.metrics import dashboard as dashboard_metrics
from reporting.metrics import people as people_metrics
from reporting.metrics import referrals as referral_metrics
from reporting.metrics import security as security_metrics
from reporting.metrics import support as support_metrics
from reporting.models import DashboardSnapshot
from reporting.periods import Period
from reporting.profile import referral_profile_tables
from reporting.records import record_marks
from reporting.suppression import suppress_table
from reporting.tables import COUNT, INTEGER, MONEY, NUMBER, PERCENT, TEXT, Cell, Row, Table
from safer.db_routing import replica_reads
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
    """The snapshot for the request, if it is still true; otherwise computed now.

    A snapshot is true while no record it counts has been entered or changed since it was
    computed (the history high-water marks it was computed at equal today's: eight indexed
    look-ups), and at most ``max_age`` old. So a dashboard never differs from a return run
    later the same day for staleness alone: once a record moves, the next view recomputes."""
    snapshot = DashboardSnapshot.objects.filter(key=request.key[:300]).first()
    if (
        snapshot is not None
        and timezone.now() - snapshot.computed_at <= max_age
        and snapshot.payload.get("marks") == record_marks()
    ):
        return snapshot
    return dashboard_compute(request)


def dashboard_compute(request: DashboardRequest) -> DashboardSnapshot:
    # The figures from the read replica when there is one (safer.db_routing), the marks with
    # them: read first, so a record entered meanwhile (or not yet on the replica) leaves marks
    # that differ from the primary's, and the next view recomputes.
    with replica_reads():
        marks = record_marks()
        payload = {**build_dashboard(request), "marks": marks}
    snapshot, _ = DashboardSnapshot.objects.update_or_create(
        key=request.key[:300], defaults={"payload": payload, "computed_at": timezone.now()}
    )
    return snapshot


def dashboard_refresh_defaults(authority_ids: list[str] | None = None) -> int:
    """Each authority's default commissioner dashboard (this quarter, no filters); only those
    given, when a return run asks for its authorities' to be refreshed."""
    period = Period.quarter_containing(timezone.localdate())
    count = 0
    authorities = CommissioningAuthority.objects.all()
    if authority_ids is not None:
        authorities = authorities.filter(pk__in=authority_ids)
    for authority_id in authorities.values_list("pk", flat=True):
        dashboard_compute(DashboardRequest(authority_ids=(authority_id,), period=period))
        count += 1
    return count


# --- Building ---------------------------------------------------------------------------------


def build_dashboard(request: DashboardRequest) -> dict[str, Any]:
    scope = request.scope()
    now = timezone.now()
    threshold = policy_for(request.authority_ids).suppression_threshold
    narrowed = district_tables(request, scope, now)
    tables = list(narrowed)
    equity = None
    if request.shows("spa") or request.shows("security"):
        equity = equity_table(request, replace(scope, district_ids=()))
        tables.append(equity)
    if request.suppressed:
        if request.district_id:
            # One district's figures beside the authority's: hide what the other districts'
            # pages and the authority's total would otherwise give away by subtraction.
            protect_across_districts(request, narrowed, threshold=threshold, now=now)
        for table in tables:
            suppress_table(table, threshold=threshold)
        if equity is not None:
            households = security_metrics.spend_households_by_district(
                scope=replace(scope, district_ids=()), period=request.period
            )
            protect_spend(
                [
                    (row, households.get(row.code, 0))
                    for row in equity.rows
                    if row.code not in ("county", "average")
                ],
                [row for row in equity.rows if row.code == "county"],
                column=5,
                threshold=threshold,
            )
    if equity is not None:
        equity_finish(equity, district_id=request.district_id)
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


def district_tables(request: DashboardRequest, scope: Scope, now: dt.datetime) -> list[Table]:
    """The tables a district filter narrows: KPIs, the quarterly series, the waiting lists and
    the referral profile."""
    tables = [
        kpi_dashboard_table(request, scope, now),
        series_table(request, scope),
        waiting_table(request, scope, today=timezone.localdate(now)),
    ]
    if request.shows("spa"):
        totals = referral_metrics.referral_totals(
            scope=scope, period=request.period, policy=policy_for(scope.authority_ids)
        )
        tables += referral_profile_tables(totals, column=request.period.short_label)
    return tables


def protect_across_districts(
    request: DashboardRequest, tables: list[Table], *, threshold: int, now: dt.datetime
) -> None:
    """Secondary suppression across the authority's districts, for a one-district page.

    Anyone may open the page of every district and the authority's own page: each count here
    is one part of a sum (the districts) whose total the authority's page shows. So each count
    is hidden if the pattern over all the districts and that total would hide it, exactly as a
    table listing every district side by side would. One build per district: this runs only for
    a filtered, suppressed page, whose snapshot is then kept.
    """
    assert request.district_id is not None
    # The equity table's order: with equal counts, both hide the same district.
    district_ids = list(
        District.objects.filter(authority_id__in=request.authority_ids)
        .order_by("authority__name", "name")
        .values_list("pk", flat=True)
    )
    if len(district_ids) < 2:
        return  # the district is the authority: its total is the same figure
    builds: dict[uuid.UUID | None, list[Table]] = {request.district_id: tables}
    for district_id in [None, *district_ids]:
        if district_id != request.district_id:
            other = replace(request, district_id=district_id)
            builds[district_id] = district_tables(other, other.scope(), now)
    for table_index, table in enumerate(tables):
        for row_index, row in enumerate(table.rows):
            for column, cell in enumerate(row.cells):
                if not cell.is_count:
                    continue
                parts = [
                    Row(str(d), "", [_same_cell(builds[d][table_index], row, row_index, column)])
                    for d in district_ids
                ]
                total = _same_cell(builds[None][table_index], row, row_index, column)
                pattern = Table(
                    code="across",
                    title="",
                    columns=[""],
                    rows=[*parts, Row("total", "", [total], is_total=True)],
                    additive_rows=True,
                )
                suppress_table(pattern, threshold=threshold)
                mine = pattern.cell(str(request.district_id))
                if mine.suppressed and not cell.suppressed:
                    cell.suppressed, cell.secondary = True, mine.secondary


def _same_cell(table: Table, row: Row, row_index: int, column: int) -> Cell:
    """The cell of another district's build at the same place (a fresh, unsuppressed copy)."""
    other = table.rows[row_index] if row_index < len(table.rows) else None
    if other is None or other.code != row.code:
        other = next((r for r in table.rows if r.code == row.code), None)
    if other is None:
        return Cell(0)
    source = other.cells[column]
    return Cell(source.value, source.kind)


def kpi_dashboard_table(request: DashboardRequest, scope: Scope, now: dt.datetime) -> Table:
    elements = [e for e in request.elements if request.shows(e)]
    results = kpi_results(
        scope=scope, period=request.period, service_elements=elements, as_of=now, trend_quarters=0
    )
    rows = []
    spend_hidden = False
    if request.suppressed and any(r.value and r.value.kind == MONEY for r in results):
        households = security_metrics.spend_households(scope=scope, period=request.period)
        threshold = policy_for(scope.authority_ids).suppression_threshold
        spend_hidden = 0 < households < threshold  # one household's job cost must not show
    for result in results:
        value = result.value
        kind = value.kind if value else TEXT
        rows.append(
            Row(
                code=result.kpi.code,
                label=result.kpi.label,
                cells=[
                    Cell(
                        value.numerator if value else None,
                        kind,
                        suppressed=spend_hidden and kind == MONEY,
                    ),
                    Cell(value.denominator if value else None, kind),
                    Cell(value.percent if value else None, PERCENT),
                    Cell(result.target, PERCENT),
                    Cell(result.rag_label, TEXT),
                    Cell(result.rag, TEXT),
                ],
                # A red/amber/green of hidden counts would tell where the hidden result lies.
                derived={2: (0, 1), 4: (0, 1), 5: (0, 1)},
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
        totals = referral_metrics.referral_flow_by_quarter(
            scope=scope, quarters=quarters, policy=policy
        )
        rows.append(Row("referrals", "Referrals received", [Cell(t["received"]) for t in totals]))
        rows.append(Row("accepted", "Referrals accepted", [Cell(t["accepted"]) for t in totals]))
    moments = [q.ends_before for q in quarters]
    if request.shows("security"):
        rows.append(
            Row(
                "open_jobs",
                "Open security jobs at the quarter's end",
                [
                    Cell(n)
                    for n in security_metrics.jobs_open_at_each(scope=scope, moments_before=moments)
                ],
            )
        )
        spend_by_quarter = security_metrics.spend_by_quarter(scope=scope, quarters=quarters)
        spend = [Cell(total, MONEY) for total, _ in spend_by_quarter]
        if request.suppressed:  # one household's job cost must not show
            threshold = policy.suppression_threshold
            for cell, (_, households) in zip(spend, spend_by_quarter, strict=True):
                cell.suppressed = 0 < households < threshold
        rows.append(Row("spend", "Spend on security measures", spend))
    if request.shows("adult_support") or request.shows("cyp"):
        open_cases = support_metrics.open_cases_at_each(scope=scope, moments_before=moments)
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
                    Cell(n)
                    for n in people_metrics.individuals_by_quarter(scope=scope, quarters=quarters)
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


WAITING_LISTS = [
    # (code, label, service element, source, key)
    ("referrals_triage", "Referrals waiting for triage to start", "spa", "referrals", "triage"),
    (
        "referrals_decision",
        "Referrals in triage or awaiting information, not yet decided",
        "spa",
        "referrals",
        "decision",
    ),
    ("jobs_survey", "Security jobs waiting for a survey", "security", "jobs", "survey"),
    (
        "jobs_installation",
        "Security jobs surveyed, waiting for installation",
        "security",
        "jobs",
        "installation",
    ),
    (
        "adult_allocation",
        "Adult support cases waiting for a worker",
        "adult_support",
        "support",
        "adult_allocation",
    ),
    (
        "adult_contact",
        "Adult support cases allocated, waiting for first contact",
        "adult_support",
        "support",
        "adult_contact",
    ),
    ("cyp_allocation", "Children's cases waiting for a worker", "cyp", "support", "cyp_allocation"),
    (
        "cyp_contact",
        "Children's cases allocated, waiting for first contact",
        "cyp",
        "support",
        "cyp_contact",
    ),
]


def waiting_table(request: DashboardRequest, scope: Scope, *, today: dt.date) -> Table:
    """What is waiting now: how many, and how long the longest has waited (no one named)."""
    sources = {
        "referrals": dashboard_metrics.referrals_waiting,
        "jobs": dashboard_metrics.jobs_waiting,
        "support": dashboard_metrics.support_waiting,
    }
    results: dict[str, dict[str, dashboard_metrics.Waiting]] = {}
    rows = []
    for code, label, element, source, key in WAITING_LISTS:
        if not request.shows(element):
            continue
        if source not in results:
            results[source] = sources[source](scope=scope, today=today)
        waiting = results[source][key]
        rows.append(
            Row(
                code,
                label,
                [Cell(waiting.count), Cell(waiting.longest_days, INTEGER)],
                # The longest wait of a hidden count is one person's: hidden with it.
                derived={1: (0,)},
            )
        )
    return Table(
        code="waiting",
        title="Waiting lists now",
        columns=["Waiting", "Longest wait (days)"],
        rows=rows,
        row_header="List",
        description="Counted now, whatever the period chosen; waits in calendar days.",
    )


def equity_table(request: DashboardRequest, scope: Scope) -> Table:
    """Each district side by side with the county: referrals per 10,000 residents, median days
    from referral to installation, spend. Rates and medians of a hidden count are hidden too.

    Always built for every district (``scope`` has no district filter), so that suppression sees
    the whole pattern; ``equity_finish`` then keeps the chosen district's row."""
    period = request.period
    policy = policy_for(scope.authority_ids)
    districts = list(
        District.objects.filter(authority_id__in=scope.authority_ids).order_by(
            "authority__name", "name"
        )
    )
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


def protect_spend(
    parts: list[tuple[Row, int]], totals: list[Row], *, column: int, threshold: int
) -> None:
    """Spend backed by fewer than ``threshold`` households is hidden ("[c]"): one household's
    job cost must not show. Where the parts add up to a shown total, a lone hidden part would
    come back by subtraction, so the smallest other non-zero part is hidden too, or, failing
    that, the total."""
    hidden = []
    for row, households in parts:
        cell = row.cells[column]
        if 0 < households < threshold and cell.value:
            cell.suppressed = True
            hidden.append(row)
    # A total backed by too few households is as telling as a part.
    if 0 < sum(households for _, households in parts) < threshold:
        for total in totals:
            if total.cells[column].value:
                total.cells[column].suppressed = True
    if not totals or not hidden or totals[0].cells[column].suppressed:
        return
    if len(hidden) == 1:
        others = [
            row
            for row, _ in parts
            if row not in hidden and row.cells[column].value and not row.cells[column].suppressed
        ]
        if others:
            chosen = min(others, key=lambda r: Decimal(r.cells[column].value))
            chosen.cells[column].suppressed = chosen.cells[column].secondary = True
        else:
            for total in totals:
                total.cells[column].suppressed = total.cells[column].secondary = True


def equity_finish(table: Table, *, district_id: uuid.UUID | None) -> None:
    """After suppression: the district average is the county total divided by the number of
    districts, so it is hidden wherever that total is (it would give the total back); then
    keep only the chosen district beside the county."""
    county = next((row for row in table.rows if row.code == "county"), None)
    average = next((row for row in table.rows if row.code == "average"), None)
    if county is not None and average is not None:
        for total_index, average_indices in ((1, (1, 2)), (3, (3, 4)), (5, (5,))):
            if county.cells[total_index].suppressed:
                for index in average_indices:
                    average.cells[index].suppressed = average.cells[index].secondary = True
    if district_id is not None:
        table.rows = [r for r in table.rows if r.code in (str(district_id), "county", "average")]


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
    households: list[int] = []  # behind each authority's spend
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
        households.append(security_metrics.spend_households(scope=scope, period=period))
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
    protect_joint_spend(table.rows[-1], households, threshold=threshold)
    return {
        "period_label": period.label,
        "table": serialise(table, threshold),
        "threshold": threshold,
    }


def protect_joint_spend(row: Row, households: list[int], *, threshold: int) -> None:
    """The joint board's spend row, as the dashboard's: an authority's spend backed by fewer
    than ``threshold`` households is hidden ("[c]"), and so is the total when its households
    are that few (a case file belongs to one authority, so the total's households are the
    sum). A lone hidden authority beside a shown total would come back by subtraction: the
    smallest other shown spend is hidden with it, or, failing that, the total
    (``protect_spend``)."""
    *parts, total = row.cells
    if 0 < sum(households) < threshold and total.value:
        total.suppressed = True
    protect_spend(
        [
            (Row(str(i), "", [cell]), n)
            for i, (cell, n) in enumerate(zip(parts, households, strict=True))
        ],
        [Row("total", "", [total])],
        column=0,
        threshold=threshold,
    )
