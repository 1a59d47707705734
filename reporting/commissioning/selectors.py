"""Reads for the commissioning pages. Everything starts from ``visible_to(user)``: a commissioner
sees their own authorities' rows and contracts; anyone else, nothing. A row or contract of
another authority is a 404, the same as one that does not exist."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet, Sum

from reporting.metrics.commissioning import (
    commissioned_units,
    recorded_spend_by_contract,
    recorded_spend_of,
)
from reporting.metrics.common import TOTAL, Scope
from reporting.models import CommissionedUnits, ContractSpend
from reporting.periods import Period
from safer.access.roles import user_roles
from safer.access.scoping import user_authorities
from safer.access.seams import get_for_user_or_404
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.organisations.models import (
    CommissioningAuthority,
    Contract,
    Organisation,
    ServiceElement,
)


def commissioning_authorities_for(user: User | AnonymousUser) -> QuerySet[CommissioningAuthority]:
    if Role.COMMISSIONER not in user_roles(user):
        return CommissioningAuthority.objects.none()
    return user_authorities(user).order_by("name")


def commissioned_units_for(
    *, user: User | AnonymousUser, authority: CommissioningAuthority, financial_year: str
) -> QuerySet[CommissionedUnits]:
    return (
        CommissionedUnits.objects.visible_to(user)
        .filter(authority=authority, financial_year=financial_year)
        .select_related("provider", "contract", "recorded_by")
        .order_by("accommodation_type", "recorded_at")
    )


def commissioned_units_totals(
    *, authority: CommissioningAuthority, year: Period
) -> tuple[dict[str, int], int]:
    """Units per accommodation type for the authority's year, and their total: the figures the
    annual return shows (``reporting.metrics.commissioning``), so the page and return agree."""
    units = commissioned_units(scope=Scope((authority.pk,)), period=year)
    total = units.pop(TOTAL)
    return units, total


def contract_spend_corrected_total(entry: ContractSpend) -> Decimal | None:
    """The sum of the adjusting entries already made against ``entry`` (None when none)."""
    total: Decimal | None = entry.corrections.aggregate(total=Sum("amount"))["total"]
    return total


def commissioned_units_get_for_user(
    *, user: User | AnonymousUser, units_id: object
) -> CommissionedUnits:
    return get_for_user_or_404(
        CommissionedUnits.objects.visible_to(user).select_related("authority"), units_id
    )


def contracts_for_commissioner(user: User | AnonymousUser) -> QuerySet[Contract]:
    """The user's authorities' contracts (commissioners only)."""
    if Role.COMMISSIONER not in user_roles(user):
        return Contract.objects.none()
    return (
        Contract.objects.filter(authority__in=user_authorities(user))
        .select_related("provider", "authority")
        .prefetch_related("extensions")  # the current end and budget derive from them
    )


def support_contracts_for(user: User | AnonymousUser) -> QuerySet[Contract]:
    """Contracts whose spend is recorded as payments (every element but security)."""
    return contracts_for_commissioner(user).exclude(service_element=ServiceElement.SECURITY)


def support_contract_get_for_user(*, user: User | AnonymousUser, contract_id: object) -> Contract:
    return get_for_user_or_404(support_contracts_for(user), contract_id)


def contract_spend_get_for_user(
    *, user: User | AnonymousUser, contract: Contract, entry_id: object
) -> ContractSpend:
    return get_for_user_or_404(
        ContractSpend.objects.visible_to(user).filter(contract=contract), entry_id
    )


def providers_for(authorities: QuerySet[CommissioningAuthority]) -> QuerySet[Organisation]:
    return Organisation.objects.filter(authorities__in=authorities, is_active=True).distinct()


@dataclass(frozen=True)
class ContractSpendSummary:
    contract: Contract
    spend: Decimal
    budget: Decimal
    year_spend: Decimal
    year_budget: Decimal


def support_spend_summary(
    *, user: User | AnonymousUser, period: Period
) -> list[ContractSpendSummary]:
    """Each support contract in force in the period: recorded spend and pro-rated budget for the
    period and its year to date (one query for the contracts, one per period for the spend)."""
    contracts = [
        c
        for c in support_contracts_for(user).filter(start_date__lte=period.end)
        if c.current_end_date >= period.start
    ]
    if not contracts:
        return []
    scope = Scope(authority_ids=tuple({c.authority_id for c in contracts}))
    year_to_date = period.year_to_date()
    spend = recorded_spend_by_contract(scope=scope, period=period)
    year_spend = recorded_spend_by_contract(scope=scope, period=year_to_date)
    return [
        ContractSpendSummary(
            contract=c,
            spend=spend.get(c.pk, Decimal("0.00")),
            budget=c.budget_between(period.start, period.end),
            year_spend=year_spend.get(c.pk, Decimal("0.00")),
            year_budget=c.budget_between(year_to_date.start, year_to_date.end),
        )
        for c in contracts
    ]


@dataclass(frozen=True)
class QuarterSpend:
    period: Period
    spend: Decimal
    budget: Decimal
    entries: list[ContractSpend]


def contract_spend_by_quarter(
    *, user: User | AnonymousUser, contract: Contract, year: Period
) -> list[QuarterSpend]:
    """The year's quarters: the entries whose cover overlaps each, the spend they put in it and
    the budget (an entry spanning two quarters is listed under both, with its share in each).
    One query for the entries and one aggregate per quarter for the spend."""
    entries = list(
        ContractSpend.objects.visible_to(user)
        .filter(contract=contract, period_start__lte=year.end, period_end__gte=year.start)
        .select_related("recorded_by", "corrects")
        .order_by("period_start", "recorded_at")
    )
    quarters = []
    for quarter in year.quarters():
        overlapping = [
            e for e in entries if e.period_start <= quarter.end and e.period_end >= quarter.start
        ]
        quarters.append(
            QuarterSpend(
                period=quarter,
                spend=recorded_spend_of(
                    contract.pk, scope=Scope((contract.authority_id,)), period=quarter
                ),
                budget=contract.budget_between(quarter.start, quarter.end),
                entries=overlapping,
            )
        )
    return quarters


def authority_id_of(
    value: str | None, authorities: QuerySet[CommissioningAuthority]
) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return authorities.filter(pk=uuid.UUID(str(value))).values_list("pk", flat=True).first()
    except ValueError:
        return None
