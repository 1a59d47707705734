"""Individuals supported (domain.md §8) and their breakdowns.

*Individuals supported*: distinct people with an adult or CYP support case open during the
period and with at least one recorded contact or session on or before its last day. The support
services stamp ``first_contact_at`` on a case at its first successful contact or session, so
"contacted by the period's end" is ``first_contact_at`` before the period ends. A case never
contacted is *allocated*, not supported.

Groups (each person in exactly one, so they add up to the total): *children* are under 18 on
the first day of support (their earliest first contact among the cases counted); *trans adults*
are adults whose gender identity differs from their sex registered at birth, counted only
there; then *women* and *men* by sex; anyone else is *not recorded*.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Q, QuerySet

from reporting.metrics.common import (
    NOT_KNOWN,
    OTHER,
    Policy,
    Scope,
    age_band_case,
    aggregate_plan,
    with_total,
)
from reporting.models import AgeBand
from reporting.periods import Period
from safer.casefile.models import HouseholdRole, Sex
from safer.workdays import LOCAL_TZ
from support.models import AdultSupportCase, CypCase, CypSession, SupportGoal

WOMEN, MEN, TRANS, CHILDREN, NOT_RECORDED = "women", "men", "trans", "children", "not_recorded"
GROUPS = (WOMEN, MEN, TRANS, CHILDREN, NOT_RECORDED)
SANCTUARY = "sanctuary"


def adult_cases_supported(scope: Scope, period: Period) -> QuerySet[AdultSupportCase]:
    return AdultSupportCase.objects.filter(
        scope.q_support(),
        period.q_open_during("opened_at", "closed_at"),
        first_contact_at__lt=period.ends_before,
    )


def cyp_cases_supported(scope: Scope, period: Period) -> QuerySet[CypCase]:
    return CypCase.objects.filter(
        scope.q_support(),
        period.q_open_during("opened_at", "closed_at"),
        first_contact_at__lt=period.ends_before,
    )


# --- The supported-people set ------------------------------------------------------------------
#
# Every breakdown reads two relations: ``supported_cases`` (the period's supported cases, adult and
# CYP, one row per case) and ``people`` (one row per person: the first contact, whether any case
# is an adult one, a CYP case's accommodation, their age on their first day of support and their
# group, computed once per person). The breakdowns are plain GROUP BYs and FILTERs over their
# columns. The ORM version inlined the correlated first-contact, accommodation and risk subqueries
# into every expression that used them, so PostgreSQL ran the same subqueries dozens of times per
# person (issue 17).
#
# Alone (a dashboard, a test) each breakdown defines the two as CTEs of its own statement. Inside
# ``supported_sets_built_once()`` (a return's document) the first breakdown of a (scope, period)
# builds them into temporary tables and every later one reads those: the set is built once per
# document, not once per breakdown (issue 17: 2.7-4.3 s each time at a million referrals).
#
# ``people`` joins the cases to their person first and groups after the join (by the person's
# key): grouped before the join, the planner took the GROUP BY of the ``UNION ALL`` for 200
# people (its default for an unknown number of groups) and looked up the person by index once
# per person (500,000 times for a year at a million); grouped after, it hashes the table once.
# (The document's temporary tables keep the grouped-first shape: ``_PEOPLE_FROM_TABLE``.) No
# figure counts people by their household's district, so the households are not joined (a hash
# of every household, a second on the serial path of a return at a million; issue 17).

_SUPPORTED_CASES = """
supported_cases AS (
    SELECT a.case_id, a.person_id, a.first_contact_at, TRUE AS adult,
           NULL::varchar AS accommodation_type, a.household_id, a.closed_at
    FROM ({adult}) AS a (case_id, person_id, first_contact_at, household_id, closed_at)
    UNION ALL
    SELECT c.case_id, c.person_id, c.first_contact_at, FALSE, c.accommodation_type,
           c.household_id, c.closed_at
    FROM ({cyp}) AS c (case_id, person_id, first_contact_at, accommodation_type, household_id,
                       closed_at)
)"""

_PEOPLE = """
aged AS (
    SELECT p.id, p.household_role, p.sex, p.is_trans, p.ethnicity, p.disability,
           p.sexual_orientation, p.no_recourse_to_public_funds,
           BOOL_OR(s.adult) AS has_adult, MIN(s.accommodation_type) AS cyp_accommodation,
           COALESCE(
               EXTRACT(YEAR FROM AGE((MIN(s.first_contact_at) AT TIME ZONE %s)::date,
                                     p.date_of_birth))::integer,
               p.stated_age
           ) AS age
    FROM supported_cases s
    JOIN casefile_person p ON p.id = s.person_id
    GROUP BY p.id
)"""

# Over the document's analysed cases table (``_built_cases``) the planner knows how many people
# there are, so the cases are grouped per person first and the person and household looked up
# after (1.3 s less than grouping after the join, for a year at a million).
_PEOPLE_FROM_TABLE = """
supported AS (
    SELECT person_id, MIN(first_contact_at) AS first_support_at, BOOL_OR(adult) AS has_adult,
           MIN(accommodation_type) AS cyp_accommodation
    FROM supported_cases GROUP BY person_id
), aged AS (
    SELECT p.id, p.household_role, p.sex, p.is_trans, p.ethnicity, p.disability,
           p.sexual_orientation, p.no_recourse_to_public_funds, s.has_adult,
           s.cyp_accommodation,
           COALESCE(
               EXTRACT(YEAR FROM AGE((s.first_support_at AT TIME ZONE %s)::date,
                                     p.date_of_birth))::integer,
               p.stated_age
           ) AS age
    FROM supported s
    JOIN casefile_person p ON p.id = s.person_id
)"""

# Each person's group and accommodation, from ``aged`` (built either way above): the one rule,
# after ``aged`` in every statement, its parameters after those of ``aged``. Materialised where
# a statement reads it (once, however many times the statement refers to it); not where it is
# written into the document's table, which would write every row twice (0.3 s for a year at a
# million referrals; issue 17).
_PEOPLE_GROUPED_TABLE = """
people AS NOT MATERIALIZED (
    SELECT aged.*,
           CASE WHEN age < 18 THEN %s
                WHEN age IS NULL AND household_role = %s THEN %s
                WHEN is_trans THEN %s
                WHEN sex = %s THEN %s
                WHEN sex = %s THEN %s
                ELSE %s END AS grp,
           CASE WHEN has_adult THEN %s ELSE cyp_accommodation END AS accommodation
    FROM aged
)"""
_PEOPLE_GROUPED = _PEOPLE_GROUPED_TABLE.replace("NOT MATERIALIZED", "MATERIALIZED", 1)

# A risk the referrer recorded on a referral of the person as survivor: once per person, by one
# grouped pass over the referrals of the set's people (a correlated EXISTS per person and risk
# was 7 s at a million referrals), of those that record one of them (a third of them in the
# bench data): a person with none has no row, which counts as no risk (issue 17).
RISKS = ("mental_health", "substance_use", "complex_needs")
_RISKS = """
risks AS (
    SELECT cf.survivor_id AS person_id, {flags}
    FROM referrals_referral r JOIN casefile_casefile cf ON cf.id = r.case_file_id
    WHERE cf.survivor_id IN (SELECT id FROM people) AND r.other_risks ?| %s::text[]
    GROUP BY cf.survivor_id
)"""


def _cases_sql(scope: Scope, period: Period) -> tuple[str, list[Any]]:
    """The ``supported_cases`` CTE. Each case carries its household (copied from its case file
    when it opened), so no case file is joined (issue 17)."""
    adult_sql, adult_params = (
        adult_cases_supported(scope, period)
        .order_by()
        .values_list("pk", "survivor_id", "first_contact_at", "household_id", "closed_at")
        .query.sql_with_params()
    )
    cyp_sql, cyp_params = (
        cyp_cases_supported(scope, period)
        .order_by()
        .values_list(
            "pk", "child_id", "first_contact_at", "accommodation_type", "household_id", "closed_at"
        )
        .query.sql_with_params()
    )
    return _SUPPORTED_CASES.format(adult=adult_sql, cyp=cyp_sql), [*adult_params, *cyp_params]


def _people_params() -> list[Any]:
    return [
        str(LOCAL_TZ),
        CHILDREN,
        HouseholdRole.CHILD.value,
        CHILDREN,
        TRANS,
        Sex.FEMALE.value,
        WOMEN,
        Sex.MALE.value,
        MEN,
        NOT_RECORDED,
        SANCTUARY,
    ]


def _risks_sql() -> tuple[str, list[Any]]:
    flags = ", ".join(f"BOOL_OR(r.other_risks @> %s::jsonb) AS {risk}" for risk in RISKS)
    return _RISKS.format(flags=flags), [*(json.dumps([risk]) for risk in RISKS), list(RISKS)]


@dataclass
class _BuiltSets:
    """The temporary tables of one document: (scope, period) → the tables' name stem."""

    stems: dict[tuple[Scope, Period], str] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)  # every table made, to drop at the end


_built: ContextVar[_BuiltSets | None] = ContextVar("reporting_supported_sets", default=None)
_stems = itertools.count(1)


@contextmanager
def supported_sets_built_once() -> Iterator[None]:
    """Within the block, build each (scope, period)'s supported cases and people once, on first
    use, into temporary tables that every breakdown then reads (and any other table of the
    period that several figures read: ``table_built_once``).

    On the primary (the ``default`` connection every statement of this module uses), in one
    transaction with ``ON COMMIT DROP``: behind PgBouncer's transaction pooling the tables live
    exactly as long as the server connection is ours, and a hot-standby replica could not hold
    them (a temporary table is a write). ``build_return`` opens it around its people figures only,
    so the rest of the document still reads the replica when there is one
    (docs/decisions/0013-read-replica-and-pooling.md)."""
    if _built.get() is not None:  # nested: the outer block's tables serve
        yield
        return
    with aggregate_plan():  # a transaction of its own, JIT off (issue 17)
        built = _BuiltSets()
        token = _built.set(built)
        try:
            yield
        finally:
            _built.reset(token)
        if built.created:
            with connection.cursor() as cursor:  # dropped now, not at the outermost commit
                cursor.execute(f"DROP TABLE IF EXISTS {', '.join(built.created)}")


def table_built_once(
    scope: Scope, period: Period, name: str, select: Callable[[], tuple[str, list[Any]]]
) -> str | None:
    """Inside ``supported_sets_built_once``: the name of the (scope, period)'s temporary table
    ``name``, made on first use from what ``select()`` gives (SQL and its parameters) and
    analysed; None outside (the caller reads its SQL inline)."""
    built = _built.get()
    if built is None:
        return None
    key = (scope, period)
    if key not in built.stems:
        built.stems[key] = f"reporting_supported_{next(_stems)}"
    table = f"{built.stems[key]}_{name}"
    if table not in built.created:
        sql, params = select()
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMPORARY TABLE {table} ON COMMIT DROP AS {sql}", params)
            # Analysed before anything reads it: the planner knows its size.
            cursor.execute(f"ANALYZE {table}")
        built.created.append(table)
    return table


def _built_cases(scope: Scope, period: Period) -> str | None:
    """The (scope, period)'s supported cases as a temporary table, built on first use. None
    outside ``supported_sets_built_once``."""
    return table_built_once(scope, period, "cases", lambda: _cases_select(scope, period))


def _cases_select(scope: Scope, period: Period) -> tuple[str, list[Any]]:
    cases, params = _cases_sql(scope, period)
    return f"WITH {cases} SELECT * FROM supported_cases", params  # noqa: S608 (ours)


def _built_people(scope: Scope, period: Period, cases: str) -> str:
    table = table_built_once(
        scope,
        period,
        "people",
        lambda: (
            f"WITH supported_cases AS (SELECT * FROM {cases}), "  # noqa: S608 (ours)
            f"{_PEOPLE_FROM_TABLE}, {_PEOPLE_GROUPED_TABLE} SELECT * FROM people",
            _people_params(),
        ),
    )
    assert table is not None
    return table


def _built_risks(scope: Scope, period: Period, people: str) -> str:
    """Each person's referral risks, into the document's temporary table, once."""

    def select() -> tuple[str, list[Any]]:
        risks_sql, risks_params = _risks_sql()
        sql = f"WITH people AS (SELECT * FROM {people}), {risks_sql} SELECT * FROM risks"  # noqa: S608 (ours)
        return sql, risks_params

    table = table_built_once(scope, period, "risks", select)
    assert table is not None
    return table


def _sets_sql(
    scope: Scope,
    period: Period,
    *,
    risks: bool = False,
    people: bool = True,
) -> tuple[str, list[Any]]:
    """``WITH`` and the CTEs that define ``supported_cases`` and ``people`` (and, with
    ``risks``, ``risks``: each person's referral risks) for one statement; read from the
    document's temporary tables when they are built (``supported_sets_built_once``). Without
    ``people`` the statement reads only ``supported_cases`` (from the temporary tables, only
    that one is defined)."""
    cases_table = _built_cases(scope, period)
    if cases_table is not None:
        tables = [("supported_cases", cases_table)]
        if people or risks:
            people_table = _built_people(scope, period, cases_table)
            tables.append(("people", people_table))
            if risks:
                tables.append(("risks", _built_risks(scope, period, people_table)))
        ctes = (f"{name} AS NOT MATERIALIZED (SELECT * FROM {t})" for name, t in tables)  # noqa: S608
        return f"WITH {', '.join(ctes)}", []
    cases, params = _cases_sql(scope, period)
    sql = f"WITH {cases}, {_PEOPLE}, {_PEOPLE_GROUPED}"
    params += _people_params()
    if risks:
        risks_sql, risks_params = _risks_sql()
        sql += f", {risks_sql}"
        params += risks_params
    return sql, params


def supported_cases_sql(scope: Scope, period: Period) -> tuple[str, list[Any]]:
    """``WITH`` a CTE ``supported_cases``: the period's supported cases, adult and CYP, with
    ``case_id``, ``person_id``, ``first_contact_at``, ``adult``, ``accommodation_type``,
    ``household_id`` and ``closed_at`` (and, outside ``supported_sets_built_once``, the
    ``people`` set, unused)."""
    return _sets_sql(scope, period, people=False)


def _people_select(
    scope: Scope, period: Period, select: str, params: Sequence[Any] = (), tail: str = ""
) -> list[tuple[Any, ...]]:
    cte, cte_params = _sets_sql(scope, period)
    with aggregate_plan(), connection.cursor() as cursor:
        sql = f"{cte} SELECT {select} FROM people {tail}"  # noqa: S608 (our own SQL)
        cursor.execute(sql, [*cte_params, *params])
        return list(cursor.fetchall())


def _people_counts(
    scope: Scope, period: Period, category: str, params: Sequence[Any] = ()
) -> dict[str, int]:
    """``{category: n}``: one GROUP BY over the set (``category`` is SQL over its columns)."""
    rows = _people_select(scope, period, f"{category}, COUNT(*)", params, "GROUP BY 1")
    return {str(key): int(n) for key, n in rows}


def _mapped_sql(
    column: str, mapping: Mapping[str, str] | None, *, default: str = OTHER
) -> tuple[str, list[Any]]:
    """``common.mapped`` over a column of the set: SAFER's code to the return's category."""
    if mapping is None:
        return f"COALESCE(NULLIF({column}, ''), %s)", [NOT_KNOWN]
    by_target: dict[str, list[str]] = {}
    for source, target in mapping.items():
        by_target.setdefault(target, []).append(source)
    if not by_target:
        return "%s", [default]
    whens, params = [], []
    for target, sources in sorted(by_target.items()):
        whens.append(f"WHEN {column} = ANY(%s) THEN %s")
        params += [sorted(sources), target]
    return f"CASE {' '.join(whens)} ELSE %s END", [*params, default]


def individuals_by_group(*, scope: Scope, period: Period) -> dict[str, int]:
    counts = _people_counts(scope, period, "grp")
    return with_total({group: counts.get(group, 0) for group in GROUPS})


def individuals_by_quarter(*, scope: Scope, quarters: Sequence[Period]) -> list[int]:
    """The individuals supported in each of ``quarters`` (``individuals_by_group``'s total: every
    person falls in exactly one group), in one query over the cases supported at any time of the
    span: for the dashboard's trend, which would otherwise build the people set per quarter."""
    if not quarters:
        return []
    span = replace(
        quarters[0], start=min(q.start for q in quarters), end=max(q.end for q in quarters)
    )
    columns = ("opened_at", "closed_at", "first_contact_at")
    adult_sql, adult_params = (
        adult_cases_supported(scope, span)
        .order_by()
        .values_list("survivor_id", *columns)
        .query.sql_with_params()
    )
    cyp_sql, cyp_params = (
        cyp_cases_supported(scope, span)
        .order_by()
        .values_list("child_id", *columns)
        .query.sql_with_params()
    )
    counts, count_params = [], []
    for quarter in quarters:
        counts.append(
            "COUNT(DISTINCT person_id) FILTER (WHERE opened_at < %s AND first_contact_at < %s"
            " AND (closed_at IS NULL OR closed_at >= %s))"
        )
        count_params += [quarter.ends_before, quarter.ends_before, quarter.starts_at]
    sql = (
        f"SELECT {', '.join(counts)} FROM ({adult_sql} UNION ALL {cyp_sql})"  # noqa: S608 (ours)
        " AS cases (person_id, opened_at, closed_at, first_contact_at)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*count_params, *adult_params, *cyp_params])
        row = cursor.fetchone()
    return [int(n or 0) for n in row]


def individuals_by_accommodation(
    *, scope: Scope, period: Period, mapping: Mapping[str, str] | None = None
) -> dict[str, int]:
    category, params = _mapped_sql("accommodation", mapping)
    return with_total(_people_counts(scope, period, category, params))


def individuals_by_ethnicity(
    *, scope: Scope, period: Period, mapping: Mapping[str, str] | None = None
) -> dict[str, int]:
    category, params = _mapped_sql("ethnicity", mapping, default=NOT_KNOWN)
    return with_total(_people_counts(scope, period, category, params))


def individuals_by_age_band(*, scope: Scope, period: Period, band_set: str) -> dict[str, int]:
    bands = list(AgeBand.objects.filter(band_set=band_set))
    category, params = age_band_case(bands, "age")
    counts = _people_counts(scope, period, category, params)
    return with_total({**{band.code: 0 for band in bands}, **counts})


def specialist_conditions(policy: Policy) -> dict[str, tuple[str, list[Any]]]:
    """Each characteristic as SQL over the supported-people set joined to its ``risks`` (a
    person with no referral risk recorded has no row there: NULL, not counted), with its
    parameters."""
    adult = "grp <> %s"
    return {
        "black_minoritised": ("ethnicity = ANY(%s)", [list(policy.minoritised_ethnicities)]),
        "disabled": ("disability <> ''", []),
        "lgbt": (
            "(sexual_orientation = ANY(%s) OR is_trans)",
            [["gay_lesbian", "bisexual", "other"]],
        ),
        **{risk: (f"COALESCE(risks.{risk}, FALSE)", []) for risk in RISKS},
        "no_recourse": ("no_recourse_to_public_funds", []),
        "older": (f"({adult} AND age >= %s)", [CHILDREN, policy.older_age_from]),
        "young": (f"({adult} AND age < %s)", [CHILDREN, policy.young_age_below]),
    }


def individuals_specialist(*, scope: Scope, period: Period, policy: Policy) -> dict[str, int]:
    """People with each specialist characteristic (a person may have several), and ``any``:
    people with at least one. Each characteristic is one boolean column of a per-person row
    (the risks from one grouped pass over the people's referrals), then counted."""
    conditions = specialist_conditions(policy)
    columns = ", ".join(f"{sql} AS {code}" for code, (sql, _) in conditions.items())
    params = [p for _, ps in conditions.values() for p in ps]
    counts = ", ".join(f"COUNT(*) FILTER (WHERE {code})" for code in conditions)
    any_of = " OR ".join(conditions)
    cte, cte_params = _sets_sql(scope, period, risks=True)
    sql = (
        f"{cte}, flagged AS MATERIALIZED (SELECT {columns} FROM people "  # noqa: S608 (values are params)
        "LEFT JOIN risks ON risks.person_id = people.id) "
        f"SELECT {counts}, COUNT(*) FILTER (WHERE {any_of}) FROM flagged"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*cte_params, *params])
        row = cursor.fetchone()
    return {code: int(n) for code, n in zip([*conditions, "any"], row, strict=True)}


def _query_sql(queryset: QuerySet[Any]) -> tuple[str, list[Any]] | None:
    """The SQL of a queryset; None when it can match nothing (an empty list of codes, which
    Django refuses to compile)."""
    try:
        sql, params = queryset.order_by().query.sql_with_params()
    except EmptyResultSet:
        return None
    return sql, list(params)


def _code_case(codes: Mapping[str, str]) -> tuple[str, list[Any]]:
    """``CASE`` from a row's ``code`` to its support type (each code maps to one type)."""
    by_target: dict[str, list[str]] = {}
    for code, target in codes.items():
        by_target.setdefault(target, []).append(code)
    whens, params = [], []
    for target, sources in sorted(by_target.items()):
        whens.append("WHEN code = ANY(%s) THEN %s")
        params += [sorted(sources), target]
    return f"CASE {' '.join(whens)} END", params


def support_types(*, scope: Scope, period: Period, mapping: Mapping[str, str]) -> dict[str, int]:
    """People given each type of support (a person may have several), from the mapping of
    ``needs_area:<code>`` (an adult's support-plan goal in that area) and ``cyp_function:<code>``
    (a child's session of that service function in the period) to the return's types.

    One statement, one pass over the goals and one over the sessions of the supported cases:
    each row labelled with its type, then people counted per type. (One semi-join per type,
    each re-reading the goals and sessions, was 23.7 s at a million referrals; issue 17.) Every
    survivor or child of a supported case is in the supported-people set, so no join to it."""
    areas = {
        source.split(":", 1)[1]: target
        for source, target in mapping.items()
        if source.startswith("needs_area:")
    }
    functions = {
        source.split(":", 1)[1]: target
        for source, target in mapping.items()
        if source.startswith("cyp_function:")
    }
    result = {target: 0 for target in mapping.values()}
    goals = _query_sql(
        SupportGoal.objects.filter(
            need_area__code__in=sorted(areas), created_on__lte=period.end
        ).values_list("adult_case_id", "need_area__code")
    )
    sessions = _query_sql(
        CypSession.objects.filter(
            period.q_day("occurred_on"), function__in=sorted(functions)
        ).values_list("cyp_case_id", "function")
    )
    branches: list[str] = []
    params: list[Any] = []
    for rows, codes, adult in ((goals, areas, "c.adult"), (sessions, functions, "NOT c.adult")):
        if rows is None:
            continue
        case, case_params = _code_case(codes)
        branches.append(
            f"SELECT c.person_id, {case} AS target FROM ({rows[0]}) AS r (case_id, code) "  # noqa: S608
            f"JOIN supported_cases c ON c.case_id = r.case_id AND {adult}"
        )
        params += [*case_params, *rows[1]]
    if not branches:
        return result
    cte, cte_params = _sets_sql(scope, period, people=False)
    # Each (type, person) once, then people per type: two hashed GROUP BYs, where
    # ``COUNT(DISTINCT)`` sorted every typed row on disk (2.5 million goals and sessions for a
    # year at a million referrals; issue 17).
    sql = (
        f"{cte} SELECT target, COUNT(*) FROM ("  # noqa: S608 (values are params)
        f"SELECT target, person_id FROM ({' UNION ALL '.join(branches)}) AS typed"
        " GROUP BY target, person_id) AS per_person GROUP BY target"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*cte_params, *params])
        result.update({str(target): int(n) for target, n in cursor.fetchall()})
    return result


def allocated_not_supported(*, scope: Scope, period: Period) -> int:
    """Cases open during the period with no contact by its end ("allocated", not supported)."""
    never = Q(first_contact_at__isnull=True) | Q(first_contact_at__gte=period.ends_before)
    open_during = period.q_open_during("opened_at", "closed_at")
    return (
        AdultSupportCase.objects.filter(scope.q_support(), open_during, never).count()
        + CypCase.objects.filter(scope.q_support(), open_during, never).count()
    )
