"""Reads of the caseload tallies (``support.models.tallies``): a provider manager's caseload
per worker, and the check that the tallies are the cases' counts."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import Q, Sum
from django.utils import timezone

from safer.access.roles import user_roles
from safer.access.scoping import authority_scope_q
from safer.accounts.models import User
from safer.accounts.roles import Role
from support.models import CaseloadTally, TallyMeasure


@dataclass(frozen=True)
class WorkerCaseload:
    worker_id: uuid.UUID
    name: str
    open: int
    contact_overdue: int
    review_overdue: int


def caseload_per_worker(
    *, user: User | AnonymousUser, today: dt.date | None = None
) -> list[WorkerCaseload]:
    """Each worker of a provider manager's organisation holding open cases in the manager's
    authorities, by name: their open cases (both kinds), those whose first contact is overdue
    (nobody reached, due before today) and those past their review date.

    Read from the tallies, one grouped statement whatever the caseloads (issue 17). They count
    the organisation's cases in the manager's authorities, as the rule of ``visible_to`` says
    a manager sees them; what they do not repeat is its check of each case's case file, which
    the organisation holds a grant on from the day the case opens (``support.services``). Only
    numbers reach the page: the worker's cases are listed through ``visible_to``. Anyone but
    a provider manager gets nothing."""
    if not isinstance(user, User) or user.organisation_id is None:
        return []
    if Role.PROVIDER_MANAGER not in user_roles(user):
        return []
    today = today or timezone.localdate()
    rows = (
        CaseloadTally.objects.filter(authority_scope_q(user), provider_id=user.organisation_id)
        .values("worker_id", "worker__full_name")
        .annotate(
            open=Sum("n", filter=Q(measure=TallyMeasure.OPEN), default=0),
            contact_overdue=Sum(
                "n", filter=Q(measure=TallyMeasure.CONTACT_DUE, due_on__lt=today), default=0
            ),
            review_overdue=Sum(
                "n", filter=Q(measure=TallyMeasure.REVIEW_DUE, due_on__lt=today), default=0
            ),
        )
        .filter(open__gt=0)
        .order_by("worker__full_name", "worker_id")
    )
    return [
        WorkerCaseload(
            worker_id=row["worker_id"],
            name=row["worker__full_name"],
            open=row["open"],
            contact_overdue=row["contact_overdue"],
            review_overdue=row["review_overdue"],
        )
        for row in rows
    ]


# Every open allocated case's counts, computed from the case tables (the tallies' definition;
# the same as the fill of migration ``support.0014``, which may not import this module).
_COUNTED = """
SELECT provider_id, authority_id, allocated_worker_id AS worker_id, kind, measure, due_on,
    count(*) AS n
FROM (
    {parts}
) AS counted
GROUP BY provider_id, authority_id, allocated_worker_id, kind, measure, due_on
"""
_PART = """
    SELECT c.provider_id, c.authority_id, c.allocated_worker_id, '{kind}' AS kind,
        m.measure, m.due_on
    FROM {table} AS c
    CROSS JOIN LATERAL (VALUES
        ('open', NULL::date),
        ('contact_due', CASE WHEN c.first_contact_at IS NULL THEN c.first_contact_due_on END),
        ('review_due', c.review_due_on)
    ) AS m (measure, due_on)
    WHERE c.allocated_worker_id IS NOT NULL AND c.status <> 'closed'
        AND (m.measure = 'open' OR m.due_on IS NOT NULL)
"""
COUNTED_FROM_CASES = _COUNTED.format(
    parts="UNION ALL".join(
        _PART.format(table=table, kind=kind)
        for table, kind in (("support_adultsupportcase", "adult"), ("support_cypcase", "cyp"))
    )
)


@dataclass(frozen=True)
class TallyDrift:
    provider_id: uuid.UUID
    authority_id: uuid.UUID
    worker_id: uuid.UUID
    kind: str
    measure: str
    due_on: dt.date | None
    tallied: int
    counted: int


def caseload_tally_drift() -> list[TallyDrift]:
    """Each tally that differs from the count of the cases it stands for: none, unless
    something wrote the cases with the triggers off and did not rebuild after
    (``caseload_tally_rebuild``). Reads both case tables whole: for checks, not pages."""
    key = ("provider_id", "authority_id", "worker_id", "kind", "measure")
    same = " AND ".join(f"t.{column} = c.{column}" for column in key)
    columns = ", ".join(f"coalesce(t.{column}, c.{column})" for column in (*key, "due_on"))
    sql = (
        f"SELECT {columns}, coalesce(t.n, 0), coalesce(c.n, 0) "  # noqa: S608 (constants)
        "FROM (SELECT * FROM support_caseloadtally WHERE n > 0) AS t "
        f"FULL JOIN ({COUNTED_FROM_CASES}) AS c ON {same} "
        "AND coalesce(t.due_on, '-infinity') = coalesce(c.due_on, '-infinity') "
        "WHERE t.n IS DISTINCT FROM c.n"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [TallyDrift(*row) for row in cursor.fetchall()]
