"""Figures only the dashboards show: the waiting lists as they stand now.

Each list is a count and its longest wait in calendar days (UK dates), one SQL aggregate per
source table (``Count`` and ``Min`` with filters). Never a person: a list is a number.

What waits, and since when:

- referrals waiting for triage to start (received, not yet picked up): since received;
- referrals in triage or awaiting information, not yet decided: since received;
- security jobs waiting for a survey (allocated or survey booked): since allocation;
- security jobs surveyed and waiting for installation (including landlord consent): since the
  survey (or allocation, for a job recorded without a survey date);
- adult and CYP support cases waiting for a worker: since opened;
- adult and CYP support cases allocated and waiting for first contact: since allocation.

Jobs on hold are not waiting for the service and are not counted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Aggregate, Count, DateField, Min, Q, QuerySet
from django.db.models.functions import Coalesce, TruncDate

from referrals.models import Referral, ReferralStatus
from reporting.metrics.common import Scope
from safer.workdays import LOCAL_TZ
from security_works.models import JobStatus, SecurityJob
from support.models import AdultStatus, AdultSupportCase, CypCase, CypStatus

SURVEY_WAITING = (JobStatus.ALLOCATED, JobStatus.SURVEY_BOOKED)
INSTALLATION_WAITING = (
    JobStatus.SURVEYED,
    JobStatus.AWAITING_LANDLORD_CONSENT,
    JobStatus.INSTALLATION_BOOKED,
)


@dataclass(frozen=True)
class Waiting:
    """A waiting list now: how many, and the longest wait in days (None when empty)."""

    count: int
    longest_days: int | None


def _day(field_name: str) -> TruncDate:
    return TruncDate(field_name, tzinfo=LOCAL_TZ, output_field=DateField())


def _waiting(count: int | None, since: dt.date | None, today: dt.date) -> Waiting:
    return Waiting(int(count or 0), (today - since).days if since is not None else None)


def _lists(
    queryset: QuerySet[Any],
    lists: dict[str, tuple[Q, str]],
    today: dt.date,
) -> dict[str, Waiting]:
    """One aggregate: for each list a filtered count and the earliest start day, over the rows
    on some list (their statuses are indexed), not every row of the scope."""
    aggregates: dict[str, Aggregate] = {}
    on_a_list = Q()
    for name, (condition, since) in lists.items():
        aggregates[f"{name}__n"] = Count("pk", filter=condition)
        aggregates[f"{name}__since"] = Min(_day(since), filter=condition)
        on_a_list |= condition
    row = queryset.filter(on_a_list).order_by().aggregate(**aggregates)
    return {name: _waiting(row[f"{name}__n"], row[f"{name}__since"], today) for name in lists}


def referrals_waiting(*, scope: Scope, today: dt.date) -> dict[str, Waiting]:
    """``triage``: not yet picked up; ``decision``: in triage or awaiting information."""
    return _lists(
        Referral.objects.filter(scope.q_referrals()),
        {
            "triage": (Q(status=ReferralStatus.RECEIVED), "received_at"),
            "decision": (
                Q(status__in=[ReferralStatus.IN_TRIAGE, ReferralStatus.AWAITING_INFORMATION]),
                "received_at",
            ),
        },
        today,
    )


def jobs_waiting(*, scope: Scope, today: dt.date) -> dict[str, Waiting]:
    """``survey``: allocated, not yet surveyed; ``installation``: surveyed, not yet installed."""
    jobs = SecurityJob.objects.filter(scope.q_jobs()).annotate(
        survey_or_allocation=Coalesce("surveyed_at", "allocated_at")
    )
    return _lists(
        jobs,
        {
            "survey": (Q(status__in=SURVEY_WAITING), "allocated_at"),
            "installation": (Q(status__in=INSTALLATION_WAITING), "survey_or_allocation"),
        },
        today,
    )


def support_waiting(*, scope: Scope, today: dt.date) -> dict[str, Waiting]:
    """``adult_allocation``, ``adult_contact``, ``cyp_allocation``, ``cyp_contact``."""
    result: dict[str, Waiting] = {}
    for prefix, model, awaiting, allocated in (
        ("adult", AdultSupportCase, AdultStatus.AWAITING_ALLOCATION, AdultStatus.ALLOCATED),
        ("cyp", CypCase, CypStatus.AWAITING_ALLOCATION, CypStatus.ALLOCATED),
    ):
        lists = _lists(
            model.objects.filter(scope.q_support()),
            {
                "allocation": (Q(status=awaiting), "opened_at"),
                "contact": (
                    Q(status=allocated, first_contact_at__isnull=True, allocated_at__isnull=False),
                    "allocated_at",
                ),
            },
            today,
        )
        result.update({f"{prefix}_{name}": waiting for name, waiting in lists.items()})
    return result
