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

import datetime as dt
import uuid
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q, QuerySet, Sum

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


def share_in(entry: ContractSpend, period: Period) -> Decimal:
    """The part of one entry's amount that falls in the period (by days, to the penny)."""
    return _share(entry.period_start, entry.period_end, entry.amount, period)


def _share(start: dt.date, end: dt.date, amount: Decimal, period: Period) -> Decimal:
    lo, hi = max(start, period.start), min(end, period.end)
    if hi < lo:
        return Decimal("0.00")
    days, cover = (hi - lo).days + 1, (end - start).days + 1
    if days == cover:
        return amount
    return (amount * days / cover).quantize(PENNY, rounding=ROUND_HALF_UP)


def recorded_spend_by_contract(*, scope: Scope, period: Period) -> dict[uuid.UUID, Decimal]:
    """Contract id → recorded spend in the period (one query; a few rows per contract)."""
    result: dict[uuid.UUID, Decimal] = {}
    rows = spend_entries(scope, period).values_list(
        "contract_id", "period_start", "period_end", "amount"
    )
    for contract_id, start, end, amount in rows:
        result[contract_id] = result.get(contract_id, Decimal("0.00")) + _share(
            start, end, amount, period
        )
    return result


def recorded_spend_by_element(*, scope: Scope, period: Period) -> dict[str, Decimal]:
    """Service element → recorded spend in the period, every non-security element present."""
    result = {
        element: Decimal("0.00")
        for element in ServiceElement.values
        if element != ServiceElement.SECURITY
    }
    rows = spend_entries(scope, period).values_list(
        "contract__service_element", "period_start", "period_end", "amount"
    )
    for element, start, end, amount in rows:
        result[element] = result.get(element, Decimal("0.00")) + _share(start, end, amount, period)
    return result
