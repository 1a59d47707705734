"""Commissioning figures no case records: units of safe accommodation commissioned, and the
actual spend recorded against support contracts (domain.md §8).

*Commissioned units*: the units an authority recorded for the period's financial year, by safe
accommodation type (a quarter shows its year's figure: units are commissioned per year).

*Recorded spend* of a contract in a period: each payment entry's amount pro-rated by the days of
the month or quarter it covers that fall in the period (rounded to the penny per entry), the same
day-based rule as the budget (``Contract.budget_between``). So a payment for May to July counts
61/92 in the first quarter and 31/92 in the second, and all of it in the year. Adjusting entries
(negative amounts) count the same way. Security contracts have no entries: their spend is the
cost of the measures installed (``reporting.metrics.security``).

Neither is recorded by district, so a scope narrowed to districts has none of either.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    DateField,
    DecimalField,
    Expression,
    F,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Greatest, Least, Round

from reporting.metrics.common import OTHER, TOTAL, Scope
from reporting.models import CommissionedUnits, ContractSpend
from reporting.periods import Period
from safer.organisations.models import ServiceElement
from support.models import SafeAccommodationType

PENNY = Decimal("0.01")


def commissioned_units(
    *, scope: Scope, period: Period, mapping: Mapping[str, str] | None = None
) -> dict[str, int]:
    """Units per accommodation type (every type, zero when none) and the total (``""``).

    With a template's accommodation mapping, a type it does not map counts under ``other``."""
    result: dict[str, int] = {code: 0 for code in SafeAccommodationType.values}
    if scope.district_ids:
        return {**result, TOTAL: 0}
    rows = (
        CommissionedUnits.objects.filter(
            authority_id__in=scope.authority_ids, financial_year=period.financial_year_label
        )
        .filter(_narrowed(scope, "provider_id", "contract_id"))
        .order_by()
        .values("accommodation_type")
        .annotate(units=Sum("units"))
        .values_list("accommodation_type", "units")
    )
    if mapping is not None:
        result = {target: 0 for target in mapping.values()}
    for code, units in rows:
        key = code if mapping is None else mapping.get(code, OTHER)
        result[key] = result.get(key, 0) + int(units)
    result[TOTAL] = sum(result.values())
    return result


def _narrowed(scope: Scope, provider_field: str, contract_field: str) -> Q:
    q = Q()
    if scope.provider_id:
        q &= Q(**{provider_field: scope.provider_id})
    if scope.contract_id:
        q &= Q(**{contract_field: scope.contract_id})
    return q


def spend_entries(scope: Scope, period: Period) -> QuerySet[ContractSpend]:
    """The entries whose cover overlaps the period, for the scope's contracts."""
    entries = ContractSpend.objects.filter(
        contract__authority_id__in=scope.authority_ids,
        period_start__lte=period.end,
        period_end__gte=period.start,
    ).filter(_narrowed(scope, "contract__provider_id", "contract_id"))
    if scope.district_ids:
        return entries.none()
    return entries


class DaysBetween(Func):
    """``later - earlier`` for two dates: whole days, as PostgreSQL subtracts dates."""

    template = "(%(expressions)s)"
    arg_joiner = " - "
    output_field = IntegerField()


def share_in_period(period: Period) -> Expression:
    """Each entry's part of its amount that falls in the period: all of it when its cover lies
    inside the period, else pro-rated by days and rounded to the penny (half away from zero, as
    the budget is). For entries that overlap the period (``spend_entries``)."""
    start = Value(period.start, output_field=DateField())
    end = Value(period.end, output_field=DateField())
    days_in = DaysBetween(Least(F("period_end"), end), Greatest(F("period_start"), start)) + 1
    cover = DaysBetween(F("period_end"), F("period_start")) + 1
    return Case(
        When(period_start__gte=period.start, period_end__lte=period.end, then=F("amount")),
        default=Round(F("amount") * days_in / cover, 2),
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )


def _spend_grouped(scope: Scope, period: Period, field: str) -> dict[Any, Decimal]:
    rows = (
        spend_entries(scope, period)
        .order_by()
        .values(field)
        .annotate(spend=Sum(share_in_period(period)))
        .values_list(field, "spend")
    )
    return {key: Decimal(spend).quantize(PENNY) for key, spend in rows}


def recorded_spend_by_contract(*, scope: Scope, period: Period) -> dict[uuid.UUID, Decimal]:
    """Contract id → recorded spend in the period (one grouped query)."""
    return _spend_grouped(scope, period, "contract_id")


def recorded_spend_of(contract_id: uuid.UUID, *, scope: Scope, period: Period) -> Decimal:
    """One contract's recorded spend in the period."""
    narrowed = Scope(scope.authority_ids, contract_id=contract_id)
    return recorded_spend_by_contract(scope=narrowed, period=period).get(
        contract_id, Decimal("0.00")
    )


def recorded_spend_by_element(*, scope: Scope, period: Period) -> dict[str, Decimal]:
    """Service element → recorded spend in the period, every non-security element present."""
    result = {
        element: Decimal("0.00")
        for element in ServiceElement.values
        if element != ServiceElement.SECURITY
    }
    result.update(_spend_grouped(scope, period, "contract__service_element"))
    return result
