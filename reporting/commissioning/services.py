"""Writes for commissioning data. Keyword-only, typed, atomic; pghistory records every insert
and update with the acting user (``history_context``), so who recorded or changed a figure, and
its earlier values, are in the change history.

Spend entries are append-only: a correction is a new *adjusting entry* naming the entry it
corrects (see ``ContractSpend``), never an edit. Commissioned units are corrected by editing the
row: it is a yearly figure, not a ledger, and the history keeps its earlier values.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from reporting.exceptions import ReportingError
from reporting.models import CommissionedUnits, ContractSpend
from reporting.periods import Period
from safer.accounts.models import User
from safer.audit.history import history_context
from safer.organisations.models import (
    CommissioningAuthority,
    Contract,
    Organisation,
    ServiceElement,
)
from support.models import SafeAccommodationType

MAX_COVER_MONTHS = 3  # a month or a quarter


class CommissioningError(ReportingError):
    """What was entered cannot be recorded (a contract of another authority, a bad period…)."""


def commissioned_units_check(
    *,
    authority: CommissioningAuthority,
    financial_year: str,
    accommodation_type: str,
    units: int,
    provider: Organisation | None,
    contract: Contract | None,
) -> str:
    """Raise ``CommissioningError`` unless the row makes sense; return the year's label."""
    try:
        year = Period.parse(financial_year)
    except ValueError:
        raise CommissioningError("Enter a financial year such as 2025-26.") from None
    if year.quarter is not None:
        raise CommissioningError("Enter a financial year such as 2025-26, not a quarter.")
    if accommodation_type not in SafeAccommodationType.values:
        raise CommissioningError("Choose the type of safe accommodation.")
    if units < 0:
        raise CommissioningError("The number of units cannot be negative.")
    if contract is not None:
        if contract.authority_id != authority.pk:
            raise CommissioningError("The contract belongs to another authority.")
        if provider is not None and contract.provider_id != provider.pk:
            raise CommissioningError("The contract is with another provider.")
    return year.financial_year_label


@transaction.atomic
def commissioned_units_record(
    *,
    authority: CommissioningAuthority,
    financial_year: str,
    accommodation_type: str,
    units: int,
    recorded_by: User | None,
    provider: Organisation | None = None,
    contract: Contract | None = None,
    note: str = "",
) -> CommissionedUnits:
    """Record units of one type commissioned by the authority for a financial year."""
    label = commissioned_units_check(
        authority=authority,
        financial_year=financial_year,
        accommodation_type=accommodation_type,
        units=units,
        provider=provider,
        contract=contract,
    )
    with history_context(actor=recorded_by, source="commissioned_units_record"):
        return CommissionedUnits.objects.create(
            authority=authority,
            financial_year=label,
            accommodation_type=accommodation_type,
            units=units,
            provider=provider or (contract.provider if contract else None),
            contract=contract,
            note=note.strip(),
            recorded_by=recorded_by,
        )


@transaction.atomic
def commissioned_units_update(
    *,
    record: CommissionedUnits,
    accommodation_type: str,
    units: int,
    updated_by: User | None,
    provider: Organisation | None = None,
    contract: Contract | None = None,
    note: str = "",
) -> CommissionedUnits:
    """Correct a row (its authority and year stay); the history keeps the values it had."""
    locked = CommissionedUnits.objects.select_for_update().get(pk=record.pk)
    commissioned_units_check(
        authority=locked.authority,
        financial_year=locked.financial_year,
        accommodation_type=accommodation_type,
        units=units,
        provider=provider,
        contract=contract,
    )
    with history_context(actor=updated_by, source="commissioned_units_update"):
        locked.accommodation_type = accommodation_type
        locked.units = units
        locked.provider = provider or (contract.provider if contract else None)
        locked.contract = contract
        locked.note = note.strip()
        locked.updated_at = timezone.now()
        locked.save(
            update_fields=[
                "accommodation_type",
                "units",
                "provider",
                "contract",
                "note",
                "updated_at",
            ]
        )
    return locked


def _months_covered(start: dt.date, end: dt.date) -> int | None:
    """Whole calendar months from ``start`` (a 1st) to ``end`` (a month's last day), else None."""
    if start.day != 1 or (end + dt.timedelta(days=1)).day != 1 or end < start:
        return None
    return (end.year - start.year) * 12 + end.month - start.month + 1


@transaction.atomic
def contract_spend_record(
    *,
    contract: Contract,
    period_start: dt.date,
    period_end: dt.date,
    amount: Decimal,
    reference: str,
    recorded_by: User | None,
    note: str = "",
    corrects: ContractSpend | None = None,
) -> ContractSpend:
    """Record a payment under a support contract for the month or quarter it covers, or (with
    ``corrects``) an adjusting entry to an earlier one."""
    if contract.service_element == ServiceElement.SECURITY:
        raise CommissioningError(
            "Security spend is the cost of the measures installed, recorded on each job."
        )
    months = _months_covered(period_start, period_end)
    if months is None or months > MAX_COVER_MONTHS:
        raise CommissioningError(
            "The period covered must be a whole month or up to three whole months (a quarter): "
            "from the 1st of a month to the last day of a month."
        )
    if period_start > contract.current_end_date or period_end < contract.start_date:
        raise CommissioningError("The period covered is outside the contract's term.")
    amount = Decimal(amount).quantize(Decimal("0.01"))
    if amount == 0:
        raise CommissioningError("Enter an amount other than zero.")
    if not reference.strip():
        raise CommissioningError("Enter the invoice or payment reference.")
    if corrects is None and amount < 0:
        raise CommissioningError(
            "A negative amount is a correction: record it against the entry it corrects."
        )
    if corrects is not None:
        if corrects.contract_id != contract.pk:
            raise CommissioningError("The entry corrected is for another contract.")
        if corrects.corrects_id is not None:
            raise CommissioningError(
                "That entry is itself a correction: correct the original payment instead."
            )
        if not note.strip():
            raise CommissioningError("Say why the entry is corrected.")
    with history_context(actor=recorded_by, source="contract_spend_record"):
        return ContractSpend.objects.create(
            contract=contract,
            period_start=period_start,
            period_end=period_end,
            amount=amount,
            reference=reference.strip(),
            note=note.strip(),
            corrects=corrects,
            recorded_by=recorded_by,
        )
