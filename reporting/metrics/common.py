"""What every metric shares: the scope of a figure, SQL helpers and the reporting policy."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.db.models import (
    Aggregate,
    BooleanField,
    Case,
    CharField,
    Expression,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, NullIf

from referrals.models import DeclineReason
from reporting.models import AgeBand, ReportingPolicy

OTHER = "other"
NOT_KNOWN = "not_known"
TOTAL = ""  # the key of a family's total in its result


@dataclass(frozen=True)
class Scope:
    """Whose figures: one or more authorities, optionally one provider, districts or contract.

    ``provider_id`` narrows jobs to the contractor and support cases to the provider (a
    provider's own dashboard); referrals are the SPA's and are not narrowed by it.
    """

    authority_ids: tuple[uuid.UUID, ...]
    provider_id: uuid.UUID | None = None
    district_ids: tuple[uuid.UUID, ...] = ()
    contract_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        if not self.authority_ids:
            raise ValueError("A reporting scope needs at least one authority.")

    def q_referrals(self) -> Q:
        q = Q(case_file__authority_id__in=self.authority_ids)
        if self.district_ids:
            q &= Q(case_file__household__district_id__in=self.district_ids)
        return q

    def q_jobs(self, prefix: str = "") -> Q:
        q = Q(**{f"{prefix}authority_id__in": self.authority_ids})
        if self.district_ids:
            q &= Q(**{f"{prefix}district_id__in": self.district_ids})
        if self.provider_id:
            q &= Q(**{f"{prefix}contractor_id": self.provider_id})
        if self.contract_id:
            q &= Q(**{f"{prefix}contract_id": self.contract_id})
        return q

    def q_support(self) -> Q:
        q = Q(authority_id__in=self.authority_ids)
        if self.district_ids:
            q &= Q(household__district_id__in=self.district_ids)
        if self.provider_id:
            q &= Q(provider_id=self.provider_id)
        return q


@dataclass(frozen=True)
class Policy:
    """The reporting policy in force for a scope (the first authority's, else the default)."""

    suppression_threshold: int = 5
    older_age_from: int = 60
    young_age_below: int = 25
    minoritised_ethnicities: tuple[str, ...] = ()
    duplicate_decline_reasons: tuple[str, ...] = ("duplicate",)


def policy_for(authority_ids: Iterable[uuid.UUID]) -> Policy:
    """The policy in force, its duplicate reasons including every decline reason that
    ``marks_duplicate``: triage names the original for those (a *linked* duplicate submission,
    which the metric definitions never count as received), whether or not the policy lists
    the reason's code."""
    ids = list(authority_ids)
    rows = {
        p.authority_id: p
        for p in ReportingPolicy.objects.filter(Q(authority_id__in=ids) | Q(authority__isnull=True))
    }
    row = next((rows[i] for i in ids if i in rows), None) or rows.get(None)
    marked = DeclineReason.objects.filter(marks_duplicate=True).values_list("code", flat=True)
    if row is None:
        listed: tuple[str, ...] = Policy.duplicate_decline_reasons
        return Policy(
            minoritised_ethnicities=tuple(ReportingPolicy().minoritised_ethnicities),
            duplicate_decline_reasons=tuple(dict.fromkeys((*listed, *marked))),
        )
    return Policy(
        suppression_threshold=row.suppression_threshold,
        older_age_from=row.older_age_from,
        young_age_below=row.young_age_below,
        minoritised_ethnicities=tuple(row.minoritised_ethnicities),
        duplicate_decline_reasons=tuple(dict.fromkeys((*row.duplicate_decline_reasons, *marked))),
    )


# --- SQL helpers ----------------------------------------------------------------------------------


def age_band_case(bands: Sequence[AgeBand], column: str) -> tuple[str, list[Any]]:
    """SQL ``CASE`` from ``column`` (whole years of age, computed once by the caller's
    statement) to the code of the first of ``bands`` it falls in, else "not known"; and its
    parameters. ``column`` is the caller's own identifier, never input."""
    whens, params = [], []
    for band in bands:
        if band.max_age is None:
            whens.append(f"WHEN {column} >= %s THEN %s")
            params += [band.min_age, band.code]
        else:
            whens.append(f"WHEN {column} >= %s AND {column} <= %s THEN %s")
            params += [band.min_age, band.max_age, band.code]
    if not whens:
        return "%s", [NOT_KNOWN]
    return f"CASE {' '.join(whens)} ELSE %s END", [*params, NOT_KNOWN]


# The memory a sort or hash of a return's one-pass statements may take before it spills to disk
# (``aggregate_plan``): a year's referrals of an authority at a million, grouped, fit in it.
AGGREGATE_WORK_MEM = "64MB"
# The referral pass's: the planner expects hundreds of thousands of groups in its decision lines
# (seven flags and codes; there are a few dozen) and, past the default, sorted a year's
# referrals on disk to group them rather than hashing them (issue 17: 0.7 s at a million).
# The memory a hash actually takes follows the groups found: 12 MB there.
REFERRAL_PASS_WORK_MEM = "256MB"  # noqa: S105 (a size, not a password)


# True for the reads ``alongside.run_alongside`` runs side by side (ADR 0015): they already
# share the cores with each other, so their plans start no parallel workers, which only added
# processes waiting for a core (the annual return at a million: 13.5-14.3 s with them, 10.5-12.6
# s without; issue 17).
side_by_side: ContextVar[bool] = ContextVar("reporting_side_by_side", default=False)


@contextmanager
def aggregate_plan(
    using: str = DEFAULT_DB_ALIAS, *, work_mem: str = AGGREGATE_WORK_MEM
) -> Iterator[None]:
    """Plan the block's statements as the one-pass aggregates of a return: JIT compilation off
    and ``work_mem`` at ``work_mem`` (``AGGREGATE_WORK_MEM`` unless given), by ``set_config(…,
    true)``, i.e. ``SET LOCAL``: in a transaction of their own on ``using``, or the caller's;
    safe under PgBouncer's transaction pooling, and allowed on a hot standby, so a read routed
    to the replica stays there (ADR 0013).

    - Each of these statements is costed past ``jit_above_cost`` and compiled: 11 s of JIT for
      a 22 s pass over a year's referrals at a million (issue 17), for a statement that runs
      once per period.
    - At the default 4 MB every grouping and hash of half a million referrals is sorted or
      batched on disk.
    - A read run side by side with others (``side_by_side``) plans no parallel workers.
    """
    serial = side_by_side.get()
    with transaction.atomic(using=using):
        with connections[using].cursor() as cursor:
            cursor.execute(
                "SELECT set_config('jit', 'off', true), set_config('work_mem', %s, true)"
                + (", set_config('max_parallel_workers_per_gather', '0', true)" if serial else ""),
                [work_mem],
            )
        yield


class AgeOn(Func):
    """Whole years of age on a date: ``AgeOn(on_date, date_of_birth)`` (PostgreSQL ``AGE``)."""

    template = "EXTRACT(YEAR FROM AGE(%(expressions)s))::integer"
    output_field = IntegerField()


class DaysBetween(Func):
    """Calendar days from one date to another: ``DaysBetween(later, earlier)`` (date - date)."""

    arg_joiner = " - "
    template = "(%(expressions)s)"
    output_field = IntegerField()


class Median(Aggregate):
    """The median (PostgreSQL ``percentile_cont(0.5)``); NULL over no rows."""

    function = "percentile_cont"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def flag(q: Q) -> Case:
    """True where ``q`` holds, else False (never NULL): a column to group or aggregate on."""
    return Case(When(q, then=Value(True)), default=Value(False), output_field=BooleanField())


def mapped(
    field_name: str, mapping: Mapping[str, str] | None, *, default: str = OTHER
) -> Expression:
    """A SQL CASE turning SAFER's code in ``field_name`` into the return's category.

    Without a mapping the code itself is the category (blank or NULL → ``not_known``). With one,
    an unmapped code goes to ``default``, so nothing silently disappears from a total.
    """
    if mapping is None:
        return Coalesce(
            NullIf(F(field_name), Value("")), Value(NOT_KNOWN), output_field=CharField()
        )
    by_target: dict[str, list[str]] = {}
    for source, target in mapping.items():
        by_target.setdefault(target, []).append(source)
    whens = [
        When(**{f"{field_name}__in": sorted(sources)}, then=Value(target))
        for target, sources in sorted(by_target.items())
    ]
    if not whens:
        return Value(default, output_field=CharField())
    return Case(*whens, default=Value(default), output_field=CharField())


def grouped_counts(queryset: QuerySet[Any], category: str, count: Any) -> dict[str, int]:
    """``{category: n}`` from one GROUP BY (the queryset's default ordering cleared, so it does
    not leak into the grouping)."""
    rows = queryset.order_by().values(category).annotate(n=count).values_list(category, "n")
    return {str(key): int(n) for key, n in rows}


def with_total(counts: dict[str, int]) -> dict[str, int]:
    return {**counts, TOTAL: sum(counts.values())}


def percent(numerator: int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


def read_alias(model: type[Any]) -> str:
    """The alias a read of ``model`` goes to (the replica inside ``replica_reads()`` when the
    primary is not in a transaction; ADR 0013), for this package's raw SQL reads."""
    return router.db_for_read(model) or DEFAULT_DB_ALIAS
