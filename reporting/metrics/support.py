"""Support ended, sanctuary households and caseloads (domain.md §8).

*Completed works* on a household: a security job whose measures were installed (``installed_at``)
and that was not cancelled. A household "has completed works" at a moment when such a job was
installed on or before it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Count, Q, QuerySet

from reporting.metrics.common import TOTAL, Scope, aggregate_plan, flag, mapped, read_alias
from reporting.metrics.people import supported_cases_sql, table_built_once
from reporting.periods import Period
from security_works.models import JobStatus, SecurityJob
from support.models import AdultSupportCase, CypCase

SANCTUARY, OTHER_ACCOMMODATION = "sanctuary", "other"


def completed_works() -> QuerySet[SecurityJob]:
    return SecurityJob.objects.filter(installed_at__isnull=False).exclude(
        status=JobStatus.CANCELLED
    )


def _works_by_household(scope: Scope, period: Period) -> tuple[str, list[Any]]:
    """Each household with completed works: when its first were installed, and whether works of
    the scope were installed on it in the period. One grouped pass over the completed works, for
    both ``support_ended`` and ``households_in_sanctuary``."""
    works_sql, params = (
        completed_works()
        .annotate(in_period=flag(Q(scope.q_jobs(), period.q_moment("installed_at"))))
        .order_by()
        .values_list("household_id", "installed_at", "in_period")
        .query.sql_with_params()
    )
    sql = (
        "SELECT w.household_id, MIN(w.installed_at) AS first_installed_at,"  # noqa: S608 (ours)
        " BOOL_OR(w.in_period) AS installed_in_period"
        f" FROM ({works_sql}) AS w (household_id, installed_at, in_period)"
        " GROUP BY w.household_id"
    )
    return sql, list(params)


def _works_cte(scope: Scope, period: Period) -> tuple[str, list[Any], str | None]:
    """The CTE ``works_by_household`` and its parameters: from the document's temporary table,
    built once for the figures that read it (``people.supported_sets_built_once``), or inline;
    then the table's name (None inline)."""
    table = table_built_once(scope, period, "works", lambda: _works_by_household(scope, period))
    if table is not None:
        return f"works_by_household AS NOT MATERIALIZED (SELECT * FROM {table})", [], table  # noqa: S608
    sql, params = _works_by_household(scope, period)
    return f"works_by_household AS MATERIALIZED ({sql})", params, None


def support_ended(
    *, scope: Scope, period: Period, mapping: Mapping[str, str] | None = None
) -> dict[str, dict[str, int]]:
    """Cases (adult and CYP) closed in the period, by (mapped) closure reason, split
    ``sanctuary`` (the household had completed works when the case closed) and ``other``.

    Returns ``{"sanctuary": {reason: n, "": total}, "other": {…}, "all": {…}}``.

    One statement: the closed cases of both kinds, each household's first completed works from
    one grouped pass over the completed works (``_works_by_household``: a household had
    completed works when a case closed if its first were installed by then), hash-joined once
    and counted by split and reason. Not an ``EXISTS`` per closed case (29 s at a million
    referrals; issue 17), nor the works narrowed to the closed cases' households first: the
    planner cannot size the CTE and probed the case files' index once per household (3.9 of
    10.8 s)."""
    branches: list[str] = []
    params: list[Any] = []
    for model in (AdultSupportCase, CypCase):
        closed_sql, closed_params = (
            model.objects.filter(scope.q_support(), period.q_moment("closed_at"))
            .annotate(category=mapped("closure_reason__code", mapping))
            .order_by()
            .values_list("household_id", "closed_at", "category")
            .query.sql_with_params()
        )
        branches.append(closed_sql)
        params += closed_params
    works, works_params, works_table = _works_cte(scope, period)
    sql = (
        "WITH closed (household_id, closed_at, category) AS MATERIALIZED ("  # noqa: S608 (ours)
        f"  {' UNION ALL '.join(branches)}"
        f"), {works}"
        " SELECT COALESCE(f.first_installed_at <= c.closed_at, FALSE), c.category, COUNT(*)"
        " FROM closed c LEFT JOIN works_by_household f ON f.household_id = c.household_id"
        " GROUP BY 1, 2"
    )
    # The replica when there is one (ADR 0013); the primary when the works are the document's
    # temporary table, which only the primary connection holds.
    using = read_alias(AdultSupportCase) if works_table is None else DEFAULT_DB_ALIAS
    with aggregate_plan(using), connections[using].cursor() as cursor:
        cursor.execute(sql, [*params, *works_params])
        rows = cursor.fetchall()
    result: dict[str, dict[str, int]] = {SANCTUARY: {}, OTHER_ACCOMMODATION: {}, "all": {}}
    for in_sanctuary, category, n in rows:
        split = SANCTUARY if in_sanctuary else OTHER_ACCOMMODATION
        for key in (split, "all"):
            result[key][category] = result[key].get(category, 0) + n
    for counts in result.values():
        counts[TOTAL] = sum(counts.values())
    return result


def households_in_sanctuary(*, scope: Scope, period: Period) -> dict[str, int]:
    """Distinct households with works installed in the period, or supported in the period
    while living with completed works (installed by the period's end and, for a case that
    closed, by its close: the moment ``support_ended`` splits on).

    One statement over the period's supported cases (``people.supported_cases_sql``: the
    document's temporary table inside ``supported_sets_built_once``) and each household's works
    (``_works_by_household``, one grouped pass: a household lived with works during a case if
    its first were installed before the period ended and, if the case closed, by then). Each
    set of household ids is built once, as a ``DISTINCT`` (hashed or sorted once), and counted
    alone and in the ``UNION``. Not one pass over every household with ``id IN (…)`` per set:
    past ``work_mem`` such a set is not hashed but scanned for each household (7.7 minutes at a
    million referrals; issue 17). Every id is a household's (a non-null foreign key)."""
    cases, cases_params = supported_cases_sql(scope, period)
    works, works_params, _ = _works_cte(scope, period)
    # Works fitted only after a case closed were never lived with while it was open.
    sql = (
        f"{cases}, {works}, installed AS MATERIALIZED ("  # noqa: S608 (our own SQL, values are params)
        "  SELECT household_id FROM works_by_household WHERE installed_in_period"
        "), supported_with_works AS MATERIALIZED ("
        "  SELECT DISTINCT c.household_id FROM supported_cases c"
        "  JOIN works_by_household w ON w.household_id = c.household_id"
        "  WHERE w.first_installed_at < %s"
        "    AND (c.closed_at IS NULL OR w.first_installed_at <= c.closed_at))"
        " SELECT (SELECT COUNT(*) FROM (SELECT household_id FROM installed"
        "         UNION SELECT household_id FROM supported_with_works) AS u),"
        " (SELECT COUNT(*) FROM installed), (SELECT COUNT(*) FROM supported_with_works)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*cases_params, *works_params, period.ends_before])
        total, installed_n, supported_n = cursor.fetchone()
    return {TOTAL: total, "installed": installed_n, "supported_with_works": supported_n}


def open_cases_at(*, scope: Scope, moment_before: object) -> dict[str, int]:
    """Support cases open just before ``moment_before`` (an aware datetime): adult and CYP."""
    open_q = Q(opened_at__lt=moment_before) & (
        Q(closed_at__isnull=True) | Q(closed_at__gte=moment_before)
    )
    return {
        "adult": AdultSupportCase.objects.filter(scope.q_support(), open_q).count(),
        "cyp": CypCase.objects.filter(scope.q_support(), open_q).count(),
    }


def open_cases_at_each(*, scope: Scope, moments_before: list[dt.datetime]) -> list[dict[str, int]]:
    """``open_cases_at`` for each moment, one query per case type: cases opened before the last
    moment and not closed before the first."""
    if not moments_before:
        return []
    result: list[dict[str, int]] = [{} for _ in moments_before]
    for key, model in (("adult", AdultSupportCase), ("cyp", CypCase)):
        counts = {
            f"open_{index}": Count(
                "pk",
                filter=Q(opened_at__lt=moment)
                & (Q(closed_at__isnull=True) | Q(closed_at__gte=moment)),
            )
            for index, moment in enumerate(moments_before)
        }
        row = model.objects.filter(
            scope.q_support(),
            Q(opened_at__lt=max(moments_before)),
            Q(closed_at__isnull=True) | Q(closed_at__gte=min(moments_before)),
        ).aggregate(**counts)
        for index, counts_at in enumerate(result):
            counts_at[key] = int(row[f"open_{index}"] or 0)
    return result
