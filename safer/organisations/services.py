"""Writes to contracts: exercising an optional extension."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from safer.accounts.models import User
from safer.organisations.models import Contract, ContractExtension, _add_years


class ContractError(ValidationError):
    """A contract change that the contract's terms do not allow (the message says why)."""


@transaction.atomic
def contract_extension_record(
    *,
    contract: Contract,
    exercised_on: dt.date,
    recorded_by: User | None,
    new_end_date: dt.date | None = None,
    value_added: Decimal | None = None,
    note: str = "",
) -> ContractExtension:
    """Record that the council exercised one of the contract's optional extensions.

    The contract then runs to ``new_end_date`` (by default one extension's length after its
    current end) and is worth ``value_added`` more (by default the yearly value for each year
    of the extension); jobs, cases and spend dated within the extension belong to it.
    """
    locked = Contract.objects.select_for_update().get(pk=contract.pk)
    new_end_date, value_added = contract_extension_terms(
        contract=locked,
        exercised_on=exercised_on,
        new_end_date=new_end_date,
        value_added=value_added,
    )
    extension = ContractExtension.objects.create(
        contract=locked,
        exercised_on=exercised_on,
        new_end_date=new_end_date,
        value_added=value_added,
        note=note.strip(),
        recorded_by=recorded_by,
    )
    # The caller's instance may have the old extensions prefetched: let it read the new end.
    getattr(contract, "_prefetched_objects_cache", {}).pop("extensions", None)
    return extension


def contract_extension_terms(
    *,
    contract: Contract,
    exercised_on: dt.date,
    new_end_date: dt.date | None,
    value_added: Decimal | None,
) -> tuple[dt.date, Decimal]:
    """The new end date and value an extension would have (defaults filled in), or a
    ``ContractError`` saying what to fix. Writes nothing: forms check with it first."""
    current_end = contract.current_end_date
    if contract.extensions_taken >= contract.extension_options:
        raise ContractError(
            f"Contract {contract.reference} has no extension left to exercise: it allows "
            f"{contract.extension_options}."
        )
    if new_end_date is None:
        new_end_date = _add_years(current_end, contract.extension_years)
    if new_end_date <= current_end:
        raise ContractError(
            f"Enter a new end date after the contract's current end, {current_end:%-d %B %Y}."
        )
    if exercised_on < contract.start_date:
        raise ContractError(
            "Enter the day the extension was exercised: on or after the contract's start, "
            f"{contract.start_date:%-d %B %Y}."
        )
    if value_added is None:
        value_added = contract.value_per_year * contract.extension_years
    value_added = Decimal(value_added).quantize(Decimal("0.01"))
    if value_added < 0:
        raise ContractError("Enter the value the extension adds: zero or more.")
    return new_end_date, value_added
