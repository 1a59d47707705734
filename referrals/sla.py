"""The triage clock: a referral is due to be triaged within a number of working days of arrival,
not counting days it spent awaiting information (domain.md §8, §9)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from safer.workdays import Pause, Rag, Target, TargetUnit, due_at, rag

# The contract KPI default (SPA: referrals triaged within 2 working days). When reporting makes
# KPI targets data, this reads from there.
TRIAGE_TARGET = Target(2, TargetUnit.WORKING_DAYS)


def triage_due_at(*, received_at: dt.datetime, pauses: Sequence[Pause]) -> dt.datetime | None:
    """When triage falls due; None while a hold is open (the clock is stopped)."""
    return due_at(received_at, TRIAGE_TARGET, pauses)


def triage_rag(*, now: dt.datetime, due: dt.datetime | None) -> Rag:
    return rag(now=now, deadline=due, target=TRIAGE_TARGET)
