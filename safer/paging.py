"""Paging a list without counting it: fetch one row more than the page to know whether there is
a next page. An exact ``COUNT(*)`` of a scoped list costs as much as reading it all, which at
national scale is the slowest part of a page nobody reads to the end (issue 17). The page's
links keep the filters (``query``: the GET parameters without ``page``)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Func, IntegerField, Model, QuerySet, Subquery
from django.http import QueryDict

from safer.access.probes import capped_plan

T = TypeVar("T")
M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class UncountedPage(Generic[T]):
    object_list: Sequence[T]
    number: int
    has_next: bool
    query: str  # the filters, url-encoded, for the page links
    param: str = "page"  # the GET parameter holding the page number (several lists on a page)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)


def page_number(params: QueryDict, *, param: str = "page", max_page: int = 1000) -> int:
    """The page number asked for (a bad or missing number is page 1)."""
    try:
        return min(max(int(params.get(param, "1")), 1), max_page)
    except (TypeError, ValueError):
        return 1


def page_of_rows(
    rows: Sequence[T], *, number: int, params: QueryDict, per_page: int, param: str = "page"
) -> UncountedPage[T]:
    """The page from ``rows``: those of page ``number`` and one more, if there is one."""
    query = params.copy()
    query.pop(param, None)
    return UncountedPage(
        object_list=list(rows[:per_page]),
        number=number,
        has_next=len(rows) > per_page,
        query=query.urlencode(),
        param=param,
    )


def page_without_count(
    queryset: QuerySet[M],
    *,
    params: QueryDict,
    per_page: int,
    max_page: int = 1000,
    param: str = "page",
) -> UncountedPage[M]:
    """The page ``params[param]`` of an *ordered* queryset (a bad or missing number is page 1;
    past the end is an empty page with a link back)."""
    number = page_number(params, param=param, max_page=max_page)
    start = (number - 1) * per_page
    rows = list(queryset[start : start + per_page + 1])
    return page_of_rows(rows, number=number, params=params, per_page=per_page, param=param)


# --- Counts that stop ---------------------------------------------------------------------------

COUNT_CAP = 500


@dataclass(frozen=True)
class CappedCount:
    """A count that stops reading past ``n`` rows: exact when ``more`` is false, otherwise
    "more than ``n``", shown as ``500+``. An exact count of a manager's organisation reads every
    case of it (684,700 at a million referrals, a second or more); nobody acts on the exact
    figure past a few hundred (issue 17)."""

    n: int
    more: bool = False

    def __str__(self) -> str:
        return f"{self.n}+" if self.more else str(self.n)

    def __bool__(self) -> bool:
        return self.n > 0

    def __add__(self, other: CappedCount) -> CappedCount:
        """The sum: "more than" when either is."""
        return CappedCount(self.n + other.n, self.more or other.more)


def capped(n: int, cap: int = COUNT_CAP) -> CappedCount:
    """From a count of at most ``cap + 1`` rows (a count over ``LIMIT cap + 1``)."""
    return CappedCount(cap, more=True) if n > cap else CappedCount(n)


def capped_counts(querysets: Mapping[str, Any], *, cap: int = COUNT_CAP) -> dict[str, CappedCount]:
    """Each queryset counted up to ``cap`` (``COUNT(*)`` over the rows up to ``cap + 1``), all in
    one statement: ``SELECT (SELECT count(*) FROM (… LIMIT 501) c), …``. Each count reads at
    most 501 rows that pass its filters, whatever the table's size. The querysets must share a
    database."""
    counts: dict[str, CappedCount] = {}
    parts: list[str] = []
    params: list[Any] = []
    names: list[str] = []
    using = None
    for name, queryset in querysets.items():
        limited = queryset.order_by().values("pk")[: cap + 1]
        try:
            sql, sql_params = limited.query.get_compiler(using=limited.db).as_sql()
        except EmptyResultSet:  # ``none()``, an empty ``__in``: nothing to read
            counts[name] = CappedCount(0)
            continue
        using = limited.db
        parts.append(f"(SELECT count(*) FROM ({sql}) AS capped)")  # noqa: S608 (the ORM's SQL)
        params.extend(sql_params)
        names.append(name)
    if parts:
        with capped_plan(using or "default"), connections[using or "default"].cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(parts), params)
            row = cursor.fetchone() or ()
        counts.update({name: capped(n, cap) for name, n in zip(names, row, strict=True)})
    return {name: counts[name] for name in querysets}


_SENTINEL = "\x1fsafer-capped-counts-by\x1f"

_PLACEHOLDER = re.compile(r"%%|%s")


def capped_counts_by(
    groups: Mapping[str, tuple[QuerySet[Any], str, Sequence[str]]], *, cap: int = COUNT_CAP
) -> dict[str, dict[str, CappedCount]]:
    """``{group: {value: count}}``: each group's ``queryset.filter(field=value)`` counted up to
    ``cap`` for each of its values, every group in one statement. What ``capped_counts`` of the
    per-value querysets counts, but each group's SQL is compiled once (compiling the per-row
    access check is much of a manager's page's CPU) and planned once, not once per value:

        SELECT 'adult', v.value, (SELECT count(*) FROM (… WHERE status = v.value …
        LIMIT 101) AS capped) FROM unnest(ARRAY[…]) AS v(value) UNION ALL …

    The per-value form is a statement of 14 sub-queries, each with the per-row access check's
    own sub-plans, and PostgreSQL planned them for 11 ms to run them in 6 (issue 17: the team
    overview at a million referrals). Each count still reads at most ``cap + 1`` rows that pass
    its filters, but through a plan made for any value: an index on the field serves it, a
    partial index for one value does not. A group whose SQL does not hold the value as exactly
    one parameter is counted per value."""
    result: dict[str, dict[str, CappedCount]] = {}
    branches: list[str] = []
    params: list[Any] = []
    using = None
    for key, (queryset, field, values) in groups.items():
        result[key] = dict.fromkeys(values, CappedCount(0))
        limited = queryset.filter(**{field: _SENTINEL}).order_by().values("pk")[: cap + 1]
        try:
            sql, sql_params = limited.query.get_compiler(using=limited.db).as_sql()
        except EmptyResultSet:  # ``none()``: nothing to read
            continue
        at = [i for i, p in enumerate(sql_params) if p == _SENTINEL]
        placeholders = [m for m in _PLACEHOLDER.finditer(sql) if m.group() == "%s"]
        if len(at) != 1 or len(placeholders) != len(sql_params):
            per_value = {value: queryset.filter(**{field: value}) for value in values}
            result[key] = capped_counts(per_value, cap=cap)
            continue
        value_at = placeholders[at[0]]
        correlated = sql[: value_at.start()] + "counted.value" + sql[value_at.end() :]
        branches.append(
            "SELECT %s, counted.value, "  # noqa: S608 (the ORM's SQL)
            f"(SELECT count(*) FROM ({correlated}) AS capped) "
            "FROM unnest(%s::text[]) AS counted(value)"
        )
        params += [key, *sql_params[: at[0]], *sql_params[at[0] + 1 :], list(values)]
        using = limited.db
    if branches:
        with capped_plan(using or "default"), connections[using or "default"].cursor() as cursor:
            cursor.execute(" UNION ALL ".join(branches), params)
            for key, value, n in cursor.fetchall():
                result[key][value] = capped(n, cap)
    return result


class _CountOf(Func):
    template = "(SELECT count(*) FROM %(expressions)s AS capped)"
    output_field = IntegerField()


def capped_count_of(queryset: QuerySet[Any], *, cap: int = COUNT_CAP) -> Func:
    """An annotation: ``queryset`` (which may hold ``OuterRef``) counted up to ``cap + 1`` rows;
    read it back with ``capped(n, cap)``."""
    return _CountOf(Subquery(queryset.order_by().values("pk")[: cap + 1]))
