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

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Q, QuerySet

from reporting.metrics.common import (
    NOT_KNOWN,
    OTHER,
    Policy,
    Scope,
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


# --- The supported-people set, built once per figure -------------------------------------------
#
# Every breakdown reads one CTE: the period's supported cases (adult and CYP, one UNION ALL),
# grouped per person once for the first contact, whether any is an adult case, and a CYP case's
# accommodation; then each person's age on their first day of support and their group, computed
# once per person. The breakdowns are plain GROUP BYs and FILTERs over its columns. The ORM
# version inlined the correlated first-contact, accommodation and risk subqueries into every
# expression that used them (age, group, each age band, each FILTER), so PostgreSQL ran the same
# subqueries dozens of times per person (issue 17).

_PEOPLE_CTE = """
WITH supported_cases AS (
    SELECT a.person_id, a.first_contact_at, TRUE AS adult, NULL::varchar AS accommodation_type
    FROM ({adult}) AS a (person_id, first_contact_at)
    UNION ALL
    SELECT c.person_id, c.first_contact_at, FALSE, c.accommodation_type
    FROM ({cyp}) AS c (person_id, first_contact_at, accommodation_type)
), supported AS (
    SELECT person_id, MIN(first_contact_at) AS first_support_at, BOOL_OR(adult) AS has_adult,
           MIN(accommodation_type) AS cyp_accommodation
    FROM supported_cases GROUP BY person_id
), aged AS (
    SELECT p.id, p.household_role, p.sex, p.is_trans, p.ethnicity, p.disability,
           p.sexual_orientation, p.no_recourse_to_public_funds, h.district_id, s.has_adult,
           s.cyp_accommodation,
           COALESCE(
               EXTRACT(YEAR FROM AGE((s.first_support_at AT TIME ZONE %s)::date,
                                     p.date_of_birth))::integer,
               p.stated_age
           ) AS age
    FROM supported s
    JOIN casefile_person p ON p.id = s.person_id
    JOIN casefile_household h ON h.id = p.household_id
), people AS MATERIALIZED (
    SELECT aged.*,
           CASE WHEN age < 18 THEN %s
                WHEN age IS NULL AND household_role = %s THEN %s
                WHEN is_trans THEN %s
                WHEN sex = %s THEN %s
                WHEN sex = %s THEN %s
                ELSE %s END AS grp,
           CASE WHEN has_adult THEN %s ELSE cyp_accommodation END AS accommodation
    FROM aged
)
"""

# A risk the referrer recorded on a referral of the person as survivor: once per person.
_RISK = (
    "EXISTS (SELECT 1 FROM referrals_referral r "
    "JOIN casefile_casefile cf ON cf.id = r.case_file_id "
    "WHERE cf.survivor_id = people.id AND r.other_risks @> %s::jsonb)"
)


def _people_cte(scope: Scope, period: Period) -> tuple[str, list[Any]]:
    adult_sql, adult_params = (
        adult_cases_supported(scope, period)
        .order_by()
        .values_list("survivor_id", "first_contact_at")
        .query.sql_with_params()
    )
    cyp_sql, cyp_params = (
        cyp_cases_supported(scope, period)
        .order_by()
        .values_list("child_id", "first_contact_at", "accommodation_type")
        .query.sql_with_params()
    )
    sql = _PEOPLE_CTE.format(adult=adult_sql, cyp=cyp_sql)
    params = [
        *adult_params,
        *cyp_params,
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
    return sql, params


def _people_select(
    scope: Scope, period: Period, select: str, params: Sequence[Any] = (), tail: str = ""
) -> list[tuple[Any, ...]]:
    cte, cte_params = _people_cte(scope, period)
    with connection.cursor() as cursor:
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


def _age_band_sql(bands: Sequence[AgeBand]) -> tuple[str, list[Any]]:
    whens, params = [], []
    for band in bands:
        if band.max_age is None:
            whens.append("WHEN age >= %s THEN %s")
            params += [band.min_age, band.code]
        else:
            whens.append("WHEN age >= %s AND age <= %s THEN %s")
            params += [band.min_age, band.max_age, band.code]
    if not whens:
        return "%s", [NOT_KNOWN]
    return f"CASE {' '.join(whens)} ELSE %s END", [*params, NOT_KNOWN]


def individuals_by_age_band(*, scope: Scope, period: Period, band_set: str) -> dict[str, int]:
    bands = list(AgeBand.objects.filter(band_set=band_set))
    category, params = _age_band_sql(bands)
    counts = _people_counts(scope, period, category, params)
    return with_total({**{band.code: 0 for band in bands}, **counts})


def individuals_by_district(*, scope: Scope, period: Period) -> dict[str, int]:
    return _people_counts(scope, period, "district_id")


def specialist_conditions(policy: Policy) -> dict[str, tuple[str, list[Any]]]:
    """Each characteristic as SQL over the supported-people set, with its parameters."""
    adult = "grp <> %s"
    return {
        "black_minoritised": ("ethnicity = ANY(%s)", [list(policy.minoritised_ethnicities)]),
        "disabled": ("disability <> ''", []),
        "lgbt": (
            "(sexual_orientation = ANY(%s) OR is_trans)",
            [["gay_lesbian", "bisexual", "other"]],
        ),
        "mental_health": (_RISK, [json.dumps(["mental_health"])]),
        "substance_use": (_RISK, [json.dumps(["substance_use"])]),
        "complex_needs": (_RISK, [json.dumps(["complex_needs"])]),
        "no_recourse": ("no_recourse_to_public_funds", []),
        "older": (f"({adult} AND age >= %s)", [CHILDREN, policy.older_age_from]),
        "young": (f"({adult} AND age < %s)", [CHILDREN, policy.young_age_below]),
    }


def individuals_specialist(*, scope: Scope, period: Period, policy: Policy) -> dict[str, int]:
    """People with each specialist characteristic (a person may have several), and ``any``:
    people with at least one. Each characteristic is one boolean column of a per-person row
    (the risks one EXISTS each, once per person), then counted."""
    conditions = specialist_conditions(policy)
    columns = ", ".join(f"{sql} AS {code}" for code, (sql, _) in conditions.items())
    params = [p for _, ps in conditions.values() for p in ps]
    counts = ", ".join(f"COUNT(*) FILTER (WHERE {code})" for code in conditions)
    any_of = " OR ".join(conditions)
    cte, cte_params = _people_cte(scope, period)
    sql = (
        f"{cte}, flagged AS MATERIALIZED (SELECT {columns} FROM people) "  # noqa: S608 (values are params)
        f"SELECT {counts}, COUNT(*) FILTER (WHERE {any_of}) FROM flagged"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*cte_params, *params])
        row = cursor.fetchone()
    return {code: int(n) for code, n in zip([*conditions, "any"], row, strict=True)}


def _ids_sql(people_ids: QuerySet[Any]) -> tuple[str, list[Any]] | None:
    """The SQL of a queryset of person ids; None when it can match nothing (an empty list of
    codes, which Django refuses to compile)."""
    try:
        sql, params = people_ids.order_by().query.sql_with_params()
    except EmptyResultSet:
        return None
    return sql, list(params)


def support_types(*, scope: Scope, period: Period, mapping: Mapping[str, str]) -> dict[str, int]:
    """People given each type of support (a person may have several), from the mapping of
    ``needs_area:<code>`` (an adult's support-plan goal in that area) and ``cyp_function:<code>``
    (a child's session of that service function in the period) to the return's types.

    Each type is its own count over the set, ``WHERE id IN (goals UNION sessions)``: a semi-join
    PostgreSQL hashes (spilling to disk if it must). Written as ``FILTER (WHERE id IN …)`` the
    sets were sub-plans, and one past ``work_mem`` is not hashed but scanned for each person:
    minutes at a million referrals (issue 17)."""
    adult = adult_cases_supported(scope, period)
    cyp = cyp_cases_supported(scope, period)
    by_target: dict[str, list[str]] = {}
    for source, target in mapping.items():
        by_target.setdefault(target, []).append(source)
    counts: list[str] = []
    params: list[Any] = []
    for _target, sources in sorted(by_target.items()):
        areas = [s.split(":", 1)[1] for s in sources if s.startswith("needs_area:")]
        functions = [s.split(":", 1)[1] for s in sources if s.startswith("cyp_function:")]
        goals = SupportGoal.objects.filter(
            adult_case__in=adult, need_area__code__in=areas, created_on__lte=period.end
        ).values("adult_case__survivor")
        sessions = CypSession.objects.filter(
            period.q_day("occurred_on"), cyp_case__in=cyp, function__in=functions
        ).values("cyp_case__child")
        sets = [found for found in (_ids_sql(goals), _ids_sql(sessions)) if found is not None]
        if not sets:
            counts.append("0")
            continue
        union = " UNION ".join(f"({sql})" for sql, _ in sets)
        counts.append(f"(SELECT COUNT(*) FROM people WHERE id IN ({union}))")  # noqa: S608
        params += [p for _, ps in sets for p in ps]
    if not counts:
        return {}
    cte, cte_params = _people_cte(scope, period)
    with connection.cursor() as cursor:
        cursor.execute(f"{cte} SELECT {', '.join(counts)}", [*cte_params, *params])
        row = cursor.fetchone()
    return {target: int(n) for target, n in zip(sorted(by_target), row, strict=True)}


def allocated_not_supported(*, scope: Scope, period: Period) -> int:
    """Cases open during the period with no contact by its end ("allocated", not supported)."""
    never = Q(first_contact_at__isnull=True) | Q(first_contact_at__gte=period.ends_before)
    open_during = period.q_open_during("opened_at", "closed_at")
    return (
        AdultSupportCase.objects.filter(scope.q_support(), open_during, never).count()
        + CypCase.objects.filter(scope.q_support(), open_during, never).count()
    )
