"""Possible duplicates of a child referred directly: the same name and date of birth in the same
authority. Shown to CYP staff before allocation; nothing is ever merged by itself.

Deliberately simple (case-insensitive names, and the date with day and month swapped, the usual
slip between date formats); the SPA's typo-tolerant matching works on referrals, which this app
does not import.
"""

from __future__ import annotations

import datetime as dt
import uuid

from support.models import CypCase, SupportCaseQuerySet


def dates_of_birth(dob: dt.date) -> list[dt.date]:
    """The date and, where it makes a different valid date, its day and month swapped."""
    dates = [dob]
    if dob.day <= 12 and dob.day != dob.month:
        dates.append(dob.replace(month=dob.day, day=dob.month))
    return dates


def cyp_duplicate_candidates(
    *,
    authority_id: uuid.UUID,
    given_name: str,
    family_name: str,
    date_of_birth: dt.date | None,
) -> SupportCaseQuerySet:
    """CYP cases (open or closed) of a child with this name and date of birth. Unscoped: only
    for the service recording a referral; callers show results through ``visible_to``."""
    if date_of_birth is None or not given_name.strip():
        return CypCase.objects.none()
    return CypCase.objects.filter(
        authority_id=authority_id,
        child__given_name__iexact=given_name.strip(),
        child__family_name__iexact=family_name.strip(),
        child__date_of_birth__in=dates_of_birth(date_of_birth),
    )
