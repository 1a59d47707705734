"""Caseloads: a worker's own cases by next due action (overdue first), and a manager's view of
their organisation (counts by status, waiting for allocation, past their review date).

Each list is one query per case kind whatever its length, and rows carry no notes. The next due
date is stored on the case (``next_due_on``, kept by the services that move a clock; the
clocks are defined once in ``support.models.due``), so the default order is a column (indexed
over open cases by worker) and no clock is computed for a case the page does not show;
``next_due_drift`` finds a case whose stored date differs from its clocks (issue 17).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, F, OuterRef, Q
from django.http import Http404, QueryDict
from django.utils import timezone

from safer.access.roles import user_roles
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.paging import (
    CappedCount,
    UncountedPage,
    capped_counts,
    capped_counts_by,
    page_number,
    page_of_rows,
    page_without_count,
)
from support.models import (
    AdultStatus,
    AdultSupportCase,
    CypCase,
    CypStatus,
    SafeguardingConcern,
    SupportCaseQuerySet,
)
from support.models.due import due_clocks, due_labels, next_due_expression

CASELOAD_PAGE_SIZE = 50
TEAM_PAGE_SIZE = 25
# The team page's counts by status stop here ("100+"): ten counts, each case read checked for
# access (a case file and its grants), so the cap sets the page's cost. Past a hundred a
# manager reads the lists, not the figure (issue 17: 500 meant ~3,500 probes per page).
TEAM_COUNT_CAP = 100


@dataclass(frozen=True)
class CaseloadRow:
    case: AdultSupportCase | CypCase
    kind: str  # "adult" or "cyp"
    name: str
    next_due_on: dt.date | None
    next_due_label: str
    overdue: bool
    safeguarding: bool


def adult_caseload_queryset(cases: SupportCaseQuerySet) -> SupportCaseQuerySet:
    """The cases with their clocks (for the label of the stored next due date), soonest due
    first. The clocks are in the SELECT list only, so PostgreSQL computes them for the rows
    the page keeps (after ``LIMIT``), not for the whole caseload."""
    return (
        cases.select_related("survivor", "case_file")
        .annotate(**due_clocks(AdultSupportCase))
        .order_by(F("next_due_on").asc(nulls_last=True), "opened_at")
    )


def cyp_caseload_queryset(cases: SupportCaseQuerySet) -> SupportCaseQuerySet:
    concerns = SafeguardingConcern.objects.filter(cyp_case=OuterRef("pk"), status="open")
    return (
        cases.select_related("child", "case_file")
        .annotate(**due_clocks(CypCase), open_concerns=Exists(concerns))
        .order_by(F("next_due_on").asc(nulls_last=True), "opened_at")
    )


def _row(case: AdultSupportCase | CypCase, today: dt.date) -> CaseloadRow:
    due = case.next_due_on
    label = ""
    if due is not None:
        # The clock the stored date came from; none when it drifted (repaired nightly).
        labels = due_labels(type(case))
        label = next((text for attr, text in labels.items() if getattr(case, attr) == due), "")
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
        cases = cases.filter(household__district_id=filters.district_id)
    if filters.due == "overdue":
        cases = cases.filter(next_due_on__lt=today)
    elif filters.due == "week":
        cases = cases.filter(next_due_on__lte=today + dt.timedelta(days=7))
    return cases


def _sql_order(sort: str) -> tuple[Any, ...]:
    if sort == "opened":
        return ("opened_at", "pk")
    if sort == "reference":
        return ("reference", "pk")
    return (F("next_due_on").asc(nulls_last=True), "opened_at", "pk")


def _row_order(sort: str, today: dt.date) -> Callable[[CaseloadRow], tuple[Any, ...]]:
    """The same order as ``_sql_order``, to merge the two kinds' rows."""
    if sort == "opened":
        return lambda r: (r.case.opened_at, str(r.case.pk))
    if sort == "reference":
        return lambda r: (r.case.reference, str(r.case.pk))
    return lambda r: (
        r.next_due_on is None,
        r.next_due_on or today,
        r.case.opened_at,
        str(r.case.pk),
    )


def worker_caseload_page(
    *,
    user: User | AnonymousUser,
    filters: CaseloadFilters | None = None,
    params: QueryDict,
    per_page: int = CASELOAD_PAGE_SIZE,
) -> UncountedPage[CaseloadRow]:
    """One page of the user's open cases, sorted as ``filters.sort`` asks (soonest due first
    by default), never counted. Each kind is sorted and cut in SQL (at most the rows up to the
    end of this page, plus one), then the two are merged: two queries whatever the caseload's
    size, and the page's rows are all that is built (issue 17)."""
    filters = filters or CaseloadFilters()
    number = page_number(params)
    if not isinstance(user, User):
        return page_of_rows([], number=number, params=params, per_page=per_page)
    today = timezone.localdate()
    roles = user_roles(user)
    upto = number * per_page + 1
    rows: list[CaseloadRow] = []
    if Role.ADULT_SUPPORT_WORKER in roles and filters.kind in ("", "adult"):
        adult = AdultSupportCase.objects.visible_to(user).open().filter(allocated_worker=user)
        cases = _filtered(adult_caseload_queryset(adult), filters, today)
        rows += [_row(c, today) for c in cases.order_by(*_sql_order(filters.sort))[:upto]]
    if Role.CYP_WORKER in roles and filters.kind in ("", "cyp"):
        cyp = CypCase.objects.visible_to(user).open().filter(allocated_worker=user)
        cases = _filtered(cyp_caseload_queryset(cyp), filters, today)
        rows += [_row(c, today) for c in cases.order_by(*_sql_order(filters.sort))[:upto]]
    rows.sort(key=_row_order(filters.sort, today))
    start = (number - 1) * per_page
    return page_of_rows(rows[start:], number=number, params=params, per_page=per_page)


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


@dataclass(frozen=True)
class CaseloadSummary:
    open: CappedCount
    overdue: CappedCount
    contacts_to_make: CappedCount
    contacts_overdue: CappedCount


def worker_caseload_summary(*, user: User | AnonymousUser) -> CaseloadSummary:
    """The counts of the worker's home panel over their open cases (the stored next due date
    and the first-contact fields; no clock is computed), each capped at ``COUNT_CAP`` ("500+"):
    one statement per case kind, each count reading at most 501 of the worker's cases."""
    none = CappedCount(0)
    if not isinstance(user, User):
        return CaseloadSummary(none, none, none, none)
    today = timezone.localdate()
    roles = user_roles(user)
    totals = dict.fromkeys(("open", "overdue", "contacts_to_make", "contacts_overdue"), none)
    for role, model in (
        (Role.ADULT_SUPPORT_WORKER, AdultSupportCase),
        (Role.CYP_WORKER, CypCase),
    ):
        if role not in roles:
            continue
        mine = model.objects.visible_to(user).open().filter(allocated_worker=user)
        no_contact = mine.filter(first_contact_at__isnull=True)
        counted = capped_counts(
            {
                "open": mine,
                "overdue": mine.filter(next_due_on__lt=today),
                "contacts_to_make": no_contact,
                "contacts_overdue": no_contact.filter(first_contact_due_on__lt=today),
            }
        )
        for key in totals:
            totals[key] += counted[key]
    return CaseloadSummary(**totals)


@dataclass
class ServiceOverview:
    """One service's part of the team page: the counts by status (capped: "100+"), and three
    paged lists (each of cases, most pressing first, never counted beyond the status counts)."""

    kind: str
    counts: list[tuple[str, CappedCount]]
    waiting_count: CappedCount
    waiting: UncountedPage[AdultSupportCase | CypCase]
    contact_overdue: UncountedPage[AdultSupportCase | CypCase]
    past_review: UncountedPage[AdultSupportCase | CypCase]

    @property
    def total_open(self) -> CappedCount:
        return sum((n for status, n in self.counts if status != "Closed"), start=CappedCount(0))

    @property
    def shown(self) -> list[AdultSupportCase | CypCase]:
        """Every case on the page, once."""
        seen: dict[Any, AdultSupportCase | CypCase] = {}
        for page in (self.waiting, self.contact_overdue, self.past_review):
            for case in page:
                seen.setdefault(case.pk, case)
        return list(seen.values())


def team_overview(
    *, user: User | AnonymousUser, params: QueryDict, per_page: int = TEAM_PAGE_SIZE
) -> list[ServiceOverview]:
    """A provider manager's view of their organisation's adult and CYP cases.

    Each list is filtered and sorted in SQL through the partial indexes on open cases
    (``*_case_provider_*``) and paged (``<kind>-<list>-page``): waiting for allocation, oldest
    first; first contact overdue, longest overdue first; past their review date, longest
    overdue first. The access check is made for each case read (``support.access``), so a list
    stops at its page. The counts by status stop at ``TEAM_COUNT_CAP`` ("100+"), all in one
    statement: the cost follows the page, not the organisation's caseload (issue 17).
    """
    if not isinstance(user, User) or Role.PROVIDER_MANAGER not in user_roles(user):
        return []
    today = timezone.localdate()
    overviews: list[ServiceOverview] = []
    kinds = (("adult", AdultSupportCase, AdultStatus), ("cyp", CypCase, CypStatus))
    owned = {
        kind: model.objects.visible_to(user).filter(provider_id=user.organisation_id)
        for kind, model, _statuses in kinds
    }
    # Both kinds' counts by status in one statement, each kind's SQL built and planned once.
    counted = capped_counts_by(
        {kind: (owned[kind], "status", statuses.values) for kind, _model, statuses in kinds},
        cap=TEAM_COUNT_CAP,
    )
    for kind, _model, statuses in kinds:
        own = owned[kind]
        by_status = counted[kind]
        if not any(by_status.values()):
            continue
        person = "child" if kind == "cyp" else "survivor"
        allocated = own.open().exclude(status="awaiting_allocation")
        lists = {
            "waiting": own.filter(status="awaiting_allocation")
            .select_related("case_file", person)
            .order_by("opened_at", "pk"),
            "contact": allocated.filter(
                first_contact_at__isnull=True, first_contact_due_on__lt=today
            )
            .select_related("case_file", "allocated_worker")
            .order_by("first_contact_due_on", "pk"),
            "review": allocated.filter(review_due_on__lt=today)
            .select_related("case_file", "allocated_worker")
            .order_by("review_due_on", "pk"),
        }
        pages = {
            name: page_without_count(
                queryset, params=params, per_page=per_page, param=f"{kind}-{name}-page"
            )
            for name, queryset in lists.items()
        }
        overviews.append(
            ServiceOverview(
                kind=kind,
                counts=[(str(label), by_status[value]) for value, label in statuses.choices],
                waiting_count=by_status["awaiting_allocation"],
                waiting=pages["waiting"],
                contact_overdue=pages["contact"],
                past_review=pages["review"],
            )
        )
    return overviews


def worker_caseload_for_manager(
    *,
    manager: User | AnonymousUser,
    worker_id: uuid.UUID,
    params: QueryDict,
    per_page: int = CASELOAD_PAGE_SIZE,
) -> tuple[User, UncountedPage[CaseloadRow]]:
    """One page of a worker's open cases, as their provider manager sees them: next due first,
    never counted. As ``worker_caseload_page``: each kind sorted and cut in SQL (up to the end
    of the page, plus one), then merged; one query per case kind whatever the caseload's size.
    The worker must be in the manager's organisation; anyone else is a 404, as a worker who
    does not exist is."""
    if not isinstance(manager, User) or Role.PROVIDER_MANAGER not in user_roles(manager):
        raise Http404
    if manager.organisation_id is None:
        raise Http404
    worker = User.objects.filter(
        pk=worker_id, organisation_id=manager.organisation_id, is_active=True
    ).first()
    if worker is None:
        raise Http404
    today = timezone.localdate()
    number = page_number(params)
    upto = number * per_page + 1
    rows: list[CaseloadRow] = []
    for model, queryset in (
        (AdultSupportCase, adult_caseload_queryset),
        (CypCase, cyp_caseload_queryset),
    ):
        own = (
            model.objects.visible_to(manager)
            .open()
            .filter(provider_id=manager.organisation_id, allocated_worker=worker)
        )
        cases = queryset(own).order_by(*_sql_order(""))[:upto]
        rows += [_row(c, today) for c in cases]
    rows.sort(key=_row_order("", today))
    start = (number - 1) * per_page
    return worker, page_of_rows(rows[start:], number=number, params=params, per_page=per_page)


@dataclass(frozen=True)
class NextDueDrift:
    """A case whose stored next due date is not the one its clocks give."""

    model: type[AdultSupportCase] | type[CypCase]
    case_id: uuid.UUID
    stored: dt.date | None
    computed: dt.date | None


def next_due_drift(*, limit: int | None = None) -> list[NextDueDrift]:
    """Every case (open or closed) whose stored ``next_due_on`` differs from the computation
    of ``support.models.due``: a writer that moved a clock without ``next_due_refresh``. One
    query per case kind over the whole table (for the nightly check, not for a page)."""
    drift: list[NextDueDrift] = []
    for model in (AdultSupportCase, CypCase):
        cases = (
            model.objects.annotate(computed=next_due_expression(model))
            .filter(
                Q(next_due_on__isnull=True, computed__isnull=False)
                | Q(next_due_on__isnull=False, computed__isnull=True)
                | (
                    Q(next_due_on__isnull=False, computed__isnull=False)
                    & ~Q(next_due_on=F("computed"))
                )
            )
            .order_by("pk")
            .values_list("pk", "next_due_on", "computed")
        )
        rows = cases[:limit] if limit is not None else cases
        drift += [NextDueDrift(model, pk, stored, computed) for pk, stored, computed in rows]
    return drift
