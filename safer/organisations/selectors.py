"""Reads of contracts: which contract is live on a day."""

from __future__ import annotations

import datetime as dt

from safer.organisations.models import CommissioningAuthority, Contract, Organisation


def contract_live_for(
    *,
    provider: Organisation | None,
    authority: CommissioningAuthority,
    service_element: str,
    on: dt.date,
) -> Contract | None:
    """The provider's contract for the service element with the authority in force on ``on``
    (its extensions included); the latest to start when several overlap; None when there is
    none, which the pages allocating work warn about."""
    if provider is None:
        return None
    candidates = (
        Contract.objects.filter(
            provider=provider,
            authority=authority,
            service_element=service_element,
            start_date__lte=on,
        )
        .prefetch_related("extensions")
        .order_by("-start_date")
    )
    return next((c for c in candidates if c.is_active_on(on)), None)


def no_live_contract_warning(
    *, provider: Organisation | None, authority: CommissioningAuthority, on: dt.date
) -> str:
    """The words the allocating pages show when the work would have no live contract."""
    who = f"{provider}" if provider is not None else "The provider"
    return (
        f"{who} has no contract with {authority} live on {on:%-d %B %Y}. You can still "
        "allocate, but the work will not count against any contract: ask the commissioner to "
        "record the contract or its extension."
    )
