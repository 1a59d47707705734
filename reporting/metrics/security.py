"""Security works: spend against budget, jobs, and time from referral to installation.

*Spend* is the actual cost of measures installed in the period (by the job's installation date),
by contract and district; a contract's *budget* for a period is its value pro-rated by days
(``Contract.budget_between``).
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from dataclasses import dataclass, replace
from decimal import Decimal

from django.core.exceptions import EmptyResultSet
from django.db import connection, connections
from django.db.models import (
    Case,
    Count,
    DecimalField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate

from referrals.models import Referral, ReferralStatus
from reporting.metrics.common import DaysBetween, Scope, aggregate_plan, read_alias
from reporting.periods import Period
from safer.organisations.models import Contract, ContractExtension, ServiceElement
from safer.workdays import LOCAL_TZ
from security_works.models import InstalledMeasure, SecurityJob

MONEY: DecimalField[Decimal, Decimal] = DecimalField(max_digits=14, decimal_places=2)
ZERO = Decimal("0.00")


def _jobs(scope: Scope) -> QuerySet[SecurityJob]:
    return SecurityJob.objects.filter(scope.q_jobs())


@dataclass(frozen=True)
class SpendCell:
    contract_id: uuid.UUID | None
    district_id: uuid.UUID
    spend: Decimal
    jobs: int


def _contract_live_on_installation() -> Coalesce:
    """The job's contract; for a job allocated when none was live (so stored without one), the
    contractor's security contract with the authority that was live on the installation day,
    extensions exercised included (the same rule as ``Contract.is_active_on``), in SQL."""
    current_end = Coalesce(
        Subquery(
            ContractExtension.objects.filter(contract_id=OuterRef("pk"))
            .order_by("-new_end_date")
            .values("new_end_date")[:1]
        ),
        "end_date",
    )
    installed_on = OuterRef("installed_on")  # annotated by ``_installed``
    live = (
        Contract.objects.filter(
            provider_id=OuterRef("job__contractor_id"),
            authority_id=OuterRef("job__authority_id"),
            service_element=ServiceElement.SECURITY,
            start_date__lte=installed_on,
        )
        .annotate(current_end=current_end)
        .filter(current_end__gte=installed_on)
        .order_by("start_date")
        .values("pk")[:1]
    )
    return Coalesce("job__contract_id", Subquery(live))


def _installed(scope: Scope, period: Period) -> QuerySet[InstalledMeasure]:
    """Measures installed in the period, each with the contract it is spend of; a contract's
    scope keeps the measures of that contract by this rule (not only by the stored link)."""
    measures = InstalledMeasure.objects.filter(
        replace(scope, contract_id=None).q_jobs("job__"), period.q_moment("job__installed_at")
    ).annotate(
        installed_on=TruncDate("job__installed_at", tzinfo=LOCAL_TZ),
        live_contract=_contract_live_on_installation(),
    )
    if scope.contract_id:
        measures = measures.filter(live_contract=scope.contract_id)
    return measures


def spend_by_contract_district(*, scope: Scope, period: Period) -> list[SpendCell]:
    """Spend by the contract live on each job's installation day (``_installed``) and district,
    with the number of households (jobs' case files) behind each figure.

    Grouped in two steps (issue 17): first by contract, district and case file (a hash
    aggregate of the measures), then by contract and district, counting the case files. A
    ``COUNT(DISTINCT …)`` in one GROUP BY sorted every measure of the period (850,000 for a
    year at a million, on disk); the figures are the same. Planned by ``aggregate_plan``."""
    per_household = (
        _installed(scope, period)  # type: ignore[misc]  # an annotation the stubs cannot see
        .order_by()
        .values("live_contract", "job__district_id", "job__case_file_id")
        .annotate(spend=Sum("actual_cost"))
    )
    try:
        inner, params = per_household.query.sql_with_params()
    except EmptyResultSet:
        return []
    sql = (
        "SELECT live_contract, district_id, SUM(spend), COUNT(case_file_id) "  # noqa: S608 (ours)
        f"FROM ({inner}) AS per_household (live_contract, district_id, case_file_id, spend) "
        "GROUP BY 1, 2 ORDER BY 1, 2"
    )
    using = read_alias(InstalledMeasure)  # the replica when there is one (ADR 0013)
    with aggregate_plan(using), connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [SpendCell(contract, district, spend, jobs) for contract, district, spend, jobs in rows]


def spend_by_live_contract(*, scope: Scope, period: Period) -> dict[uuid.UUID | None, Decimal]:
    """Spend in the period per contract live on the job's installation day (None: none was)."""
    rows = (
        _installed(scope, period)  # type: ignore[misc]  # an annotation the stubs cannot see
        .order_by()
        .values("live_contract")
        .annotate(spend=Sum("actual_cost"))
        .values_list("live_contract", "spend")
    )
    return {contract: Decimal(spend) for contract, spend in rows}


def spend_by_live_contract_periods(
    *, scope: Scope, periods: list[Period]
) -> list[dict[uuid.UUID | None, Decimal]]:
    """``spend_by_live_contract`` for each of ``periods`` in one query (a FILTERed sum per
    period over the measures installed in any of them)."""
    if not periods:
        return []
    span = Period(min(p.start for p in periods), max(p.end for p in periods), "span")
    sums = {
        f"spend_{index}": Sum("actual_cost", filter=period.q_moment("job__installed_at"))
        for index, period in enumerate(periods)
    }
    rows = (
        _installed(scope, span)  # type: ignore[misc]  # an annotation the stubs cannot see
        .order_by()
        .values("live_contract")
        .annotate(**sums)
    )
    result: list[dict[uuid.UUID | None, Decimal]] = [{} for _ in periods]
    for row in rows:
        for index in range(len(periods)):
            spend = row[f"spend_{index}"]
            if spend is not None:
                result[index][row["live_contract"]] = Decimal(spend)
    return result


def spend_households(*, scope: Scope, period: Period) -> int:
    """Households (case files) whose measures make up the period's spend."""
    return _installed(scope, period).aggregate(n=Count("job__case_file_id", distinct=True))["n"]


def spend_households_by_district(*, scope: Scope, period: Period) -> dict[str, int]:
    rows = (
        _installed(scope, period)
        .order_by()
        .values("job__district_id")
        .annotate(n=Count("job__case_file_id", distinct=True))
        .values_list("job__district_id", "n")
    )
    return {str(district): n for district, n in rows}


def spend_total(*, scope: Scope, period: Period) -> Decimal:
    total = _installed(scope, period).aggregate(
        total=Coalesce(Sum("actual_cost"), Value(ZERO), output_field=MONEY)
    )["total"]
    return Decimal(total)


_SPEND_BY_QUARTER_SQL = """
SELECT quarter_index, SUM(spend), COUNT(case_file_id)
FROM ({per_household}) AS per_household (quarter_index, case_file_id, spend)
WHERE quarter_index IS NOT NULL
GROUP BY quarter_index
"""


def spend_by_quarter(*, scope: Scope, quarters: list[Period]) -> list[tuple[Decimal, int]]:
    """For each of ``quarters``: the spend (as ``spend_total``) and the households it is spend
    on (as ``spend_households``), in one query over the measures installed in the span.

    The measures are summed per quarter and household first (one grouping), then each quarter's
    spend is the sum of its households' and its households their number: where a
    ``COUNT(DISTINCT …)`` per quarter sorted every measure of the span once per quarter (six
    sorts of 1.3 million rows at a million referrals, 3.7 s; issue 17)."""
    if not quarters:
        return []
    distinct = sorted(set(quarters), key=lambda q: q.start)
    for earlier, later in itertools.pairwise(distinct):
        if later.start <= earlier.end:
            raise ValueError("spend_by_quarter needs quarters that do not overlap.")
    # The whole span as one period (only its bounds are read).
    span = replace(distinct[0], start=distinct[0].start, end=distinct[-1].end)
    quarter_of = Case(
        *(
            When(quarter.q_moment("job__installed_at"), then=Value(index))
            for index, quarter in enumerate(distinct)
        ),
        default=Value(None),
        output_field=IntegerField(),
    )
    per_household_sql, params = (
        _installed(scope, span)
        .annotate(quarter_index=quarter_of)
        .order_by()
        .values("quarter_index", "job__case_file_id")
        .annotate(spend=Sum("actual_cost"))
        .values_list("quarter_index", "job__case_file_id", "spend")
        .query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute(
            _SPEND_BY_QUARTER_SQL.format(per_household=per_household_sql),
            params,
        )
        found = {index: (spend, households) for index, spend, households in cursor.fetchall()}
    by_quarter = {quarter: found.get(index, (None, 0)) for index, quarter in enumerate(distinct)}
    return [(Decimal(by_quarter[q][0] or ZERO), int(by_quarter[q][1] or 0)) for q in quarters]


def spend_by_district(*, scope: Scope, period: Period) -> dict[str, Decimal]:
    rows = (
        _installed(scope, period)
        .order_by()
        .values("job__district_id")
        .annotate(spend=Sum("actual_cost"))
        .values_list("job__district_id", "spend")
    )
    return {str(district): Decimal(spend) for district, spend in rows}


def contracts_in(
    *, scope: Scope, period: Period, service_element: str | None = None
) -> list[Contract]:
    """The scope's contracts in force at some point of the period (few rows: one per contract)."""
    contracts = (
        Contract.objects.filter(authority_id__in=scope.authority_ids, start_date__lte=period.end)
        .select_related("provider")
        .prefetch_related("extensions")  # the current end and budget derive from them
    )
    if scope.contract_id:
        contracts = contracts.filter(pk=scope.contract_id)
    if scope.provider_id:
        contracts = contracts.filter(provider_id=scope.provider_id)
    if service_element:
        contracts = contracts.filter(service_element=service_element)
    return [c for c in contracts if c.current_end_date >= period.start]


def budget_for(contract: Contract, period: Period) -> Decimal:
    return contract.budget_between(period.start, period.end)


def jobs_installed(*, scope: Scope, period: Period) -> int:
    return _jobs(scope).filter(period.q_moment("installed_at")).count()


def jobs_open_at(*, scope: Scope, moment_before: dt.datetime) -> int:
    """Jobs allocated before ``moment_before`` and not completed or cancelled by then."""
    closed_at = Coalesce("completed_at", "cancelled_at")
    return (
        _jobs(scope)
        .annotate(closed_at=closed_at)
        .filter(Q(allocated_at__lt=moment_before))
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=moment_before))
        .count()
    )


def jobs_open_at_each(*, scope: Scope, moments_before: list[dt.datetime]) -> list[int]:
    """``jobs_open_at`` for each moment, in one query: jobs allocated before the last moment and
    not closed before the first."""
    if not moments_before:
        return []
    closed_at = Coalesce("completed_at", "cancelled_at")
    counts = {
        f"open_{index}": Count(
            "pk",
            filter=Q(allocated_at__lt=moment)
            & (Q(closed_at__isnull=True) | Q(closed_at__gte=moment)),
        )
        for index, moment in enumerate(moments_before)
    }
    row = (
        _jobs(scope)
        .annotate(closed_at=closed_at)
        .filter(allocated_at__lt=max(moments_before))
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=min(moments_before)))
        .aggregate(**counts)
    )
    return [int(row[f"open_{i}"] or 0) for i in range(len(moments_before))]


def referral_to_installation(scope: Scope, period: Period) -> QuerySet[SecurityJob]:
    """Jobs installed in the period with ``days`` from the referral behind the job (the latest
    accepted referral of the case received by the job's allocation) to installation, in UK calendar
    days."""
    referral_received = Subquery(
        Referral.objects.filter(
            case_file=OuterRef("case_file"),
            status=ReferralStatus.ACCEPTED,
            received_at__lte=OuterRef("allocated_at"),
        )
        .order_by("-received_at")
        .values("received_at")[:1]
    )
    return (
        _jobs(scope)
        .filter(period.q_moment("installed_at"))
        .annotate(referral_received_at=referral_received)
        .filter(referral_received_at__isnull=False)
        .annotate(
            days=DaysBetween(
                TruncDate("installed_at", tzinfo=LOCAL_TZ),
                TruncDate("referral_received_at", tzinfo=LOCAL_TZ),
            )
        )
    )


_MEDIAN_DAYS_SQL = """
WITH jobs AS MATERIALIZED (
    SELECT j.district_id,
           (j.installed_at AT TIME ZONE %s)::date - (r.received_at AT TIME ZONE %s)::date AS days
    FROM ({jobs}) AS j (district_id, case_file_id, allocated_at, installed_at)
    CROSS JOIN LATERAL (
        SELECT r.received_at FROM referrals_referral r
        WHERE r.case_file_id = j.case_file_id AND r.status = %s
          AND r.received_at <= j.allocated_at
        ORDER BY r.received_at DESC LIMIT 1
    ) AS r
)
SELECT GROUPING(district_id) = 1 AS overall, district_id,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY days), COUNT(*)
FROM jobs GROUP BY GROUPING SETS ((district_id), ())
"""


def median_days_to_installation(*, scope: Scope, period: Period) -> dict[str, object]:
    """Per district id: ``{"median": days or None, "jobs": n}``; and ``"all"`` for the scope.

    The jobs of ``referral_to_installation``, in one statement: each job's referral found once
    (a ``LATERAL`` look-up, where the ORM's correlated sub-query ran once for the filter and
    again for the days, in each of two queries), then the district medians and the scope's from
    one ``GROUPING SETS`` over them (issue 17)."""
    jobs_sql, jobs_params = (
        _jobs(scope)
        .filter(period.q_moment("installed_at"))
        .order_by()
        .values_list("district_id", "case_file_id", "allocated_at", "installed_at")
        .query.sql_with_params()
    )
    tz = str(LOCAL_TZ)
    with connection.cursor() as cursor:
        cursor.execute(
            _MEDIAN_DAYS_SQL.format(jobs=jobs_sql),
            [tz, tz, *jobs_params, ReferralStatus.ACCEPTED.value],
        )
        rows = cursor.fetchall()
    result: dict[str, object] = {}
    overall: dict[str, object] = {"median": None, "jobs": 0}
    for is_overall, district, median, n in rows:
        if is_overall:
            overall = {"median": median, "jobs": n}
        else:
            result[str(district)] = {"median": median, "jobs": n}
    result["all"] = overall
    return result
