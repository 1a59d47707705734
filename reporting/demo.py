"""Reporting's demo data: contracts for Kent and Medway, the units of safe accommodation each
commissioned, and quarterly payments against the support contracts, so the returns' commissioned
units and spend sections have figures. Fictional, realistic in size (domain.md §1), idempotent:
a row is written only when missing, through the services, as the demo commissioner."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from reporting.commissioning.services import commissioned_units_record, contract_spend_record
from reporting.models import CommissionedUnits, ContractSpend
from reporting.periods import Period
from reporting.rollover import return_templates_roll_forward
from safer.demo import ADULT, CONTRACTOR_EAST, CYP, REFUGE, SPA, DemoContext, demo_seeder
from safer.organisations.models import CommissioningAuthority, Contract, ServiceElement


@dataclass(frozen=True)
class DemoContract:
    reference: str
    authority: str
    provider: str
    element: str
    start: dt.date
    end: dt.date
    value_per_year: str
    extension_options: int = 0
    extensions_taken: int = 0


CONTRACTS = [
    # The published property-security award (23/00074): £400,000 a year, first extension taken.
    DemoContract(
        "23/00074",
        "kent",
        CONTRACTOR_EAST,
        ServiceElement.SECURITY,
        dt.date(2023, 12, 1),
        dt.date(2025, 11, 30),
        "400000.00",
        2,
        1,
    ),
    DemoContract(
        "KCC-SPA-DEMO",
        "kent",
        SPA,
        ServiceElement.SPA,
        dt.date(2024, 4, 1),
        dt.date(2027, 3, 31),
        "240000.00",
    ),
    DemoContract(
        "KCC-ADULT-DEMO",
        "kent",
        ADULT,
        ServiceElement.ADULT_SUPPORT,
        dt.date(2024, 4, 1),
        dt.date(2027, 3, 31),
        "520000.00",
    ),
    # The CYP service's published ceiling: up to £760,446 a year, two years + 1 + 1.
    DemoContract(
        "KCC-CYP-DEMO",
        "kent",
        CYP,
        ServiceElement.CYP,
        dt.date(2024, 4, 1),
        dt.date(2026, 3, 31),
        "760446.00",
        2,
        1,
    ),
    DemoContract(
        "MC-ADULT-DEMO",
        "medway",
        ADULT,
        ServiceElement.ADULT_SUPPORT,
        dt.date(2024, 10, 1),
        dt.date(2026, 9, 30),
        "180000.00",
        1,
        1,
    ),
]

# Units commissioned per year: (authority, type, units, provider or None, contract reference).
UNITS = [
    ("kent", "refuge", 38, REFUGE, ""),
    ("kent", "specialist", 8, REFUGE, ""),
    ("kent", "dispersed", 24, REFUGE, ""),
    ("kent", "move_on", 14, REFUGE, ""),
    ("kent", "emergency", 6, None, ""),
    ("kent", "sanctuary", 420, CONTRACTOR_EAST, "23/00074"),
    ("medway", "refuge", 12, REFUGE, ""),
    ("medway", "dispersed", 8, REFUGE, ""),
    ("medway", "move_on", 4, REFUGE, ""),
    ("medway", "sanctuary", 110, None, ""),
]

# Each quarter's payment as a share of its pro-rated budget: a realistic under- and overspend.
SPEND_PATTERN = [Decimal("0.93"), Decimal("0.98"), Decimal("1.02"), Decimal("0.96")]


@demo_seeder
def reporting_demo(context: DemoContext) -> Iterator[str]:
    commissioner = context.users.get("commissioner")
    authorities = {a.code: a for a in CommissioningAuthority.objects.all()}
    contracts = {spec.reference: _contract(spec, context, authorities) for spec in CONTRACTS}
    today = timezone.localdate()
    this_year = Period.year_containing(today)
    units_added = 0
    for year in (this_year.previous(), this_year):
        present = set(
            CommissionedUnits.objects.filter(financial_year=year.code).values_list(
                "authority__code", "accommodation_type"
            )
        )
        for authority, kind, units, provider, reference in UNITS:
            if (authority, kind) in present:
                continue
            commissioned_units_record(
                authority=authorities[authority],
                financial_year=year.code,
                accommodation_type=kind,
                units=units,
                provider=context.organisations[provider] if provider else None,
                contract=contracts[reference] if reference else None,
                note="Demo figure.",
                recorded_by=commissioner,
            )
            units_added += 1
    # Quarterly payments for every complete quarter of last year and this year, in term.
    last_complete = Period.quarter_containing(today).previous()
    quarters = [
        q
        for q in this_year.previous().quarters() + this_year.quarters()
        if q.end <= last_complete.end
    ]
    existing = set(ContractSpend.objects.values_list("contract__reference", "reference"))
    entries_added = 0
    for reference, contract in contracts.items():
        if contract.service_element == ServiceElement.SECURITY:
            continue
        for index, quarter in enumerate(quarters):
            if quarter.start < contract.start_date or quarter.end > contract.current_end_date:
                continue
            invoice = f"{reference}-{quarter.code}"
            if (reference, invoice) in existing:
                continue
            budget = contract.budget_between(quarter.start, quarter.end)
            amount = (budget * SPEND_PATTERN[index % len(SPEND_PATTERN)]).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_UP
            )
            contract_spend_record(
                contract=contract,
                period_start=quarter.start,
                period_end=quarter.end,
                amount=amount,
                reference=invoice,
                note="Demo quarterly payment.",
                recorded_by=commissioner,
            )
            entries_added += 1
    yield (
        f"Reporting: {len(contracts)} contracts; {units_added} commissioned-units rows and "
        f"{entries_added} support-contract payments added."
    )


def _contract(
    spec: DemoContract,
    context: DemoContext,
    authorities: dict[str, CommissioningAuthority],
) -> Contract:
    """The contract by its reference; made only when missing (another app's demo may own it)."""
    existing = Contract.objects.filter(reference=spec.reference).first()
    if existing is not None:
        return existing
    return Contract.objects.create(
        reference=spec.reference,
        authority=authorities[spec.authority],
        provider=context.organisations[spec.provider],
        service_element=spec.element,
        title=f"Demo {spec.element.replace('_', ' ')} contract",
        start_date=spec.start,
        end_date=spec.end,
        value_per_year=Decimal(spec.value_per_year),
        extension_options=spec.extension_options,
        extensions_taken=spec.extensions_taken,
    )


@demo_seeder
def reporting_templates_demo(context: DemoContext) -> Iterator[str]:
    """The return templates of the current financial year and the next, as beat would make them
    (reporting/rollover.py), so the current year's returns can be run at once."""
    made = return_templates_roll_forward(today=timezone.localdate())
    if made:
        years = sorted({template.financial_year for template in made})
        yield f"Return templates derived for {', '.join(years)} (check them in the admin)"
