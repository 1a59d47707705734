"""The SPA's clocks (domain.md §8, §9), with targets read from the authority's ``SpaPolicy``.

- Triage: due within ``triage_working_days`` of arrival, not counting days spent awaiting
  information.
- First contact attempt with the survivor: due by the end of the ``first_contact_working_days``-th
  working day after receipt; for a high-risk referral by the end of the working day of receipt
  (``high_risk_first_contact_working_days`` = 0), where a referral received after
  ``working_day_ends_at`` or on a weekend or bank holiday counts from the next working day.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from django.db.models import Q

from referrals.models import SpaPolicy
from safer import refdata
from safer.workdays import (
    LOCAL_TZ,
    Pause,
    Rag,
    Target,
    TargetUnit,
    add_working_days,
    due_at,
    end_of_day,
    is_working_day,
    next_working_day,
    rag,
)

SPA_POLICY = "spa_policy"  # its reference data name (``safer.refdata``; tracked in apps.py)


def spa_policy_for(*, authority_id: uuid.UUID | None) -> SpaPolicy:
    """The authority's policy, else the scheme default, else the built-in defaults (unsaved)."""
    policies = {
        p.authority_id: p
        for p in SpaPolicy.objects.filter(Q(authority_id=authority_id) | Q(authority=None))
    }
    return policies.get(authority_id) or policies.get(None) or SpaPolicy()


def spa_policy_cached(*, authority_id: uuid.UUID | None) -> SpaPolicy:
    """``spa_policy_for``, kept per process between requests (``safer.refdata``, ADR 0014):
    every submission asks (issue 17). The instance is shared: read it, never change or save it."""
    return refdata.cached(
        SPA_POLICY, str(authority_id), lambda: spa_policy_for(authority_id=authority_id)
    )


def triage_target(policy: SpaPolicy) -> Target:
    return Target(policy.triage_working_days, TargetUnit.WORKING_DAYS)


def triage_due_at(
    *, received_at: dt.datetime, pauses: Sequence[Pause], policy: SpaPolicy
) -> dt.datetime | None:
    """When triage falls due; None while a hold is open (the clock is stopped)."""
    return due_at(received_at, triage_target(policy), pauses)


def first_contact_due_at(
    *, received_at: dt.datetime, high_risk: bool, policy: SpaPolicy
) -> dt.datetime:
    """When the first attempt to contact the survivor falls due (the end of a UK working day)."""
    if not high_risk:
        due = due_at(
            received_at, Target(policy.first_contact_working_days, TargetUnit.WORKING_DAYS)
        )
        assert due is not None  # without pauses a deadline always exists
        return due
    local = received_at.astimezone(LOCAL_TZ)
    day = local.date()
    if not is_working_day(day) or local.time() >= policy.working_day_ends_at:
        day = next_working_day(day)
    day = add_working_days(day, policy.high_risk_first_contact_working_days)
    return end_of_day(day).astimezone(dt.UTC)


def first_contact_due_when_high_risk(
    *, current_due: dt.datetime | None, known_at: dt.datetime, policy: SpaPolicy
) -> dt.datetime:
    """The deadline once a referral turns out to be high risk at ``known_at`` (a DASH at triage,
    or professional judgement): the high-risk deadline counted from when the risk became known,
    or the existing deadline if that is sooner. Counting from receipt instead would set a
    deadline the SPA had already missed before it could know the risk."""
    high = first_contact_due_at(received_at=known_at, high_risk=True, policy=policy)
    return high if current_due is None else min(current_due, high)


# Amber and red read the deadline itself; for a day clock the target's value plays no part.
_DAY_CLOCK = Target(1, TargetUnit.WORKING_DAYS)


def triage_rag(*, now: dt.datetime, due: dt.datetime | None) -> Rag:
    return rag(now=now, deadline=due, target=_DAY_CLOCK)


def first_contact_rag(
    *, now: dt.datetime, due: dt.datetime | None, attempted_at: dt.datetime | None
) -> Rag | None:
    """None once the first attempt is made (the clock has stopped) or without a deadline."""
    if attempted_at is not None or due is None:
        return None
    return rag(now=now, deadline=due, target=_DAY_CLOCK, amber_working_days=0)
