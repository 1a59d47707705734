"""Caseloads: a worker's own cases by next due action (overdue first), and a manager's view of
their organisation (counts by status, waiting for allocation, past their review date).

Each list is one query per case kind whatever its length: the next due dates are computed in SQL
(``Least`` of the clocks, which skips NULLs on PostgreSQL) and rows carry no notes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser
from django.db.models import Case, Count, DateField, F, OuterRef, Q, Subquery, When
from django.db.models.functions import Least
from django.utils import timezone

from safer.access.roles import user_roles
from safer.accounts.models import User
from safer.accounts.roles import Role
from support.models import (
    AdultStatus,
    AdultSupportCase,
    CypCase,
    CypStatus,
    ExitPlan,
    SafetyPlan,
    SafetyPlanStatus,
    SupportAction,
    SupportCaseQuerySet,
)

# What each due date means, in the order they win a tie.
DUE_LABELS = {
    "contact_due_on": "First contact",
    "safety_plan_due_on": "Safety plan review",
    "review_due_on": "Case review",
    "action_due_on": "Support plan action",
    "exit_due_on": "Planned end of therapeutic work",
}


@dataclass(frozen=True)
class CaseloadRow:
    case: AdultSupportCase | CypCase
    kind: str  # "adult" or "cyp"
    name: str
    next_due_on: dt.date | None
    next_due_label: str
    overdue: bool
    safeguarding: bool


def _contact_due() -> Case:
    return Case(
        When(first_contact_at__isnull=True, then=F("first_contact_due_on")),
        default=None,
        output_field=DateField(),
    )


def adult_caseload_queryset(cases: SupportCaseQuerySet) -> SupportCaseQuerySet:
    safety_plan = SafetyPlan.objects.filter(
        adult_case=OuterRef("pk"), status=SafetyPlanStatus.ACTIVE
    ).values("review_due_on")[:1]
    action = (
        SupportAction.objects.filter(
            goal__adult_case=OuterRef("pk"), done_on__isnull=True, due_on__isnull=False
        )
        .order_by("due_on")
        .values("due_on")[:1]
    )
    return (
        cases.select_related("survivor", "case_file")
        .annotate(
            contact_due_on=_contact_due(),
            safety_plan_due_on=Subquery(safety_plan, output_field=DateField()),
            action_due_on=Subquery(action, output_field=DateField()),
        )
        .annotate(
            next_due_on=Least(
                "contact_due_on", "safety_plan_due_on", "review_due_on", "action_due_on"
            )
        )
        .order_by(F("next_due_on").asc(nulls_last=True), "opened_at")
    )


def cyp_caseload_queryset(cases: SupportCaseQuerySet) -> SupportCaseQuerySet:
    exit_due = ExitPlan.objects.filter(cyp_case=OuterRef("pk")).values("planned_end_on")[:1]
    return (
        cases.select_related("child", "case_file")
        .annotate(
            contact_due_on=_contact_due(),
            exit_due_on=Subquery(exit_due, output_field=DateField()),
            open_concerns=Count(
                "safeguarding_concerns", filter=Q(safeguarding_concerns__status="open")
            ),
        )
        .annotate(next_due_on=Least("contact_due_on", "review_due_on", "exit_due_on"))
        .order_by(F("next_due_on").asc(nulls_last=True), "opened_at")
    )


def _row(case: AdultSupportCase | CypCase, today: dt.date) -> CaseloadRow:
    due: dt.date | None = getattr(case, "next_due_on", None)
    label = ""
    if due is not None:
        label = next(text for attr, text in DUE_LABELS.items() if getattr(case, attr, None) == due)
    if isinstance(case, CypCase):
        person = case.child
        safeguarding = case.case_file.safeguarding_flag or bool(getattr(case, "open_concerns", 0))
    else:
        person = case.survivor
        safeguarding = case.case_file.safeguarding_flag
    return CaseloadRow(
        case=case,
        kind="cyp" if isinstance(case, CypCase) else "adult",
        name=f"{person.given_name} {person.family_name}".strip(),
        next_due_on=due,
        next_due_label=label,
        overdue=due is not None and due < today,
        safeguarding=safeguarding,
    )


@dataclass(frozen=True)
class CaseloadFilters:
    """What a worker narrows their caseload by (``support.forms.CaseloadFilterForm``)."""

    kind: str = ""  # "", "adult", "cyp"
    status: str = ""  # a status value of either kind
    district_id: object | None = None
    due: str = ""  # "", "overdue", "week" (due within 7 days, overdue included)
    sort: str = ""  # "" (next due), "opened" (oldest first), "reference"


def _filtered(
    cases: SupportCaseQuerySet, filters: CaseloadFilters, today: dt.date
) -> SupportCaseQuerySet:
    if filters.status:
        cases = cases.filter(status=filters.status)
    if filters.district_id:
        cases = cases.filter(case_file__household__district_id=filters.district_id)
    if filters.due == "overdue":
        cases = cases.filter(next_due_on__lt=today)
    elif filters.due == "week":
        cases = cases.filter(next_due_on__lte=today + dt.timedelta(days=7))
    return cases


def worker_caseload(
    *, user: User | AnonymousUser, filters: CaseloadFilters | None = None
) -> list[CaseloadRow]:
    """The open cases allocated to the user, soonest due first (so overdue first), narrowed by
    ``filters``. One query per case kind; a worker's open cases are tens, not thousands, so the
    two kinds are merged and sorted here."""
    if not isinstance(user, User):
        return []
    filters = filters or CaseloadFilters()
    today = timezone.localdate()
    roles = user_roles(user)
    rows: list[CaseloadRow] = []
    if Role.ADULT_SUPPORT_WORKER in roles and filters.kind in ("", "adult"):
        adult = AdultSupportCase.objects.visible_to(user).open().filter(allocated_worker=user)
        rows += [_row(c, today) for c in _filtered(adult_caseload_queryset(adult), filters, today)]
    if Role.CYP_WORKER in roles and filters.kind in ("", "cyp"):
        cyp = CypCase.objects.visible_to(user).open().filter(allocated_worker=user)
        rows += [_row(c, today) for c in _filtered(cyp_caseload_queryset(cyp), filters, today)]
    if filters.sort == "opened":
        rows.sort(key=lambda r: r.case.opened_at)
    elif filters.sort == "reference":
        rows.sort(key=lambda r: r.case.reference)
    else:
        # Both kinds together (a worker rarely has both): overdue first, then by date.
        rows.sort(key=lambda r: (r.next_due_on is None, r.next_due_on or today))
    return rows


@dataclass
class ServiceOverview:
    kind: str
    counts: list[tuple[str, int]]
    waiting: list[AdultSupportCase | CypCase] = field(default_factory=list)
    past_review: list[CaseloadRow] = field(default_factory=list)
    contact_overdue: list[CaseloadRow] = field(default_factory=list)
    # Each worker's open cases (worker's name, their rows), so a manager can open any case to
    # transfer it, not only the overdue ones.
    by_worker: list[tuple[str, list[CaseloadRow]]] = field(default_factory=list)

    @property
    def total_open(self) -> int:
        return sum(n for status, n in self.counts if status != "Closed")


def team_overview(*, user: User | AnonymousUser) -> list[ServiceOverview]:
    """A provider manager's view of their organisation's adult and CYP cases."""
    if not isinstance(user, User) or Role.PROVIDER_MANAGER not in user_roles(user):
        return []
    today = timezone.localdate()
    overviews: list[ServiceOverview] = []
    for kind, model, statuses in (
        ("adult", AdultSupportCase, AdultStatus),
        ("cyp", CypCase, CypStatus),
    ):
        own = model.objects.visible_to(user).filter(provider_id=user.organisation_id)
        by_status = dict(
            own.values_list("status").annotate(n=Count("pk")).values_list("status", "n")
        )
        if not by_status:
            continue
        queryset = adult_caseload_queryset if kind == "adult" else cyp_caseload_queryset
        open_rows = [
            _row(c, today)
            for c in queryset(own.open().exclude(status="awaiting_allocation")).select_related(
                "allocated_worker"
            )
        ]
        overviews.append(
            ServiceOverview(
                kind=kind,
                counts=[(str(label), by_status.get(value, 0)) for value, label in statuses.choices],
                waiting=list(
                    own.filter(status="awaiting_allocation")
                    .select_related("case_file", "child" if kind == "cyp" else "survivor")
                    .order_by("opened_at")
                ),
                past_review=[
                    r for r in open_rows if r.case.review_due_on and r.case.review_due_on < today
                ],
                contact_overdue=[
                    r
                    for r in open_rows
                    if r.case.first_contact_at is None
                    and r.case.first_contact_due_on is not None
                    and r.case.first_contact_due_on < today
                ],
                by_worker=_by_worker(open_rows),
            )
        )
    return overviews


def _by_worker(rows: list[CaseloadRow]) -> list[tuple[str, list[CaseloadRow]]]:
    grouped: dict[str, list[CaseloadRow]] = {}
    for row in rows:
        worker = row.case.allocated_worker
        grouped.setdefault(worker.full_name if worker else "No worker", []).append(row)
    return sorted(grouped.items())
