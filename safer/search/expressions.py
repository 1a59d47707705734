"""The normalised forms search compares, as SQL expressions. The indexes on them (declared on
the case-file models) use the very same expressions, so PostgreSQL can use them for a search."""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.fields import ArrayField
from django.db.models import BooleanField, CharField, F, Func, QuerySet, UUIDField, Value
from django.db.models.functions import Length, Replace, Substr, Upper


class DigitsOnly(Func):
    """``REGEXP_REPLACE(text, '[^0-9]', '', 'g')``: a phone number's digits (immutable, so it can
    be indexed)."""

    function = "REGEXP_REPLACE"
    template = "REGEXP_REPLACE(%(expressions)s, '[^0-9]', '', 'g')"
    output_field = CharField()


def postcode_key(field: str = "postcode") -> Upper:
    """The postcode as the index holds it: upper case, no spaces (``ME141AA``)."""
    return Upper(Replace(field, Value(" "), Value("")))


def outward_code_key(field: str = "postcode") -> Substr:
    """The outward code (``ME14``): the key without its last three characters."""
    key = postcode_key(field)
    return Substr(key, 1, Length(key) - 3)


class InGathered(Func):
    """``field IN (SELECT unnest(ARRAY(subquery)))``: the sub-query's rows gathered once into an
    array (an ``InitPlan``, run before anything else), then joined to the records.

    Unlike ``field IN (subquery)``, the planner does not look into an array made by a sub-query:
    it counts on a few elements, so the plan starts from them (the records of a thousand
    matching case files, through the field's index, then sorted) instead of walking a table of
    a million records newest first and probing the matches for each (issue 17). Joined through
    ``unnest`` rather than ``= ANY(…)``: an ``= ANY`` inside a nested loop is sorted again for
    every outer row. The rows are the same as the ``IN``'s: the sub-query yields primary keys,
    never NULL, and an empty array keeps none."""

    arg_joiner = " IN (SELECT unnest("
    template = "%(expressions)s))"
    output_field = BooleanField()

    def __init__(self, field: str, queryset: QuerySet[Any]) -> None:
        super().__init__(F(field), ArraySubquery(queryset))


class GatheredAtMost(Func):
    """``cardinality(ARRAY(subquery)) <= n``: whether the sub-query has at most ``n`` rows (give
    it ``LIMIT n + 1``). It refers to no row, so PostgreSQL evaluates it once, first (a
    "One-Time Filter"), and skips the part of the plan it guards when false."""

    template = "cardinality(%(expressions)s) <= %(n)s"
    output_field = BooleanField()

    def __init__(self, queryset: QuerySet[Any], n: int) -> None:
        super().__init__(ArraySubquery(queryset), n=int(n))


class InIds(Func):
    """``field IN (SELECT unnest(ARRAY(SELECT unnest(ids))))``: ``InGathered`` for keys already
    gathered (``safer.search.matching.shared_case_file_matches``), passed as one array
    parameter. Wrapped in ``ARRAY(…)`` for the same reason: the planner counts on a few
    elements and starts from them, whatever their number (a literal array's length it would
    read, and walk a million records in order for a thousand). An empty list keeps none."""

    arg_joiner = " IN (SELECT unnest(ARRAY(SELECT unnest("
    template = "%(expressions)s::uuid[]))))"
    output_field = BooleanField()

    def __init__(self, field: str, ids: list[Any]) -> None:
        super().__init__(F(field), Value(list(ids), output_field=ArrayField(UUIDField())))
