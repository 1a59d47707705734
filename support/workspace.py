"""Support's part of the staff workspace (``safer.workspace``): the caseload, team and groups
pages in the menu; a worker's caseload and a provider manager's caseload per worker and
transfers on their homes. Registered from ``SupportConfig.ready()``.

(The manager's "waiting for allocation" panel is in ``referrals.workspace``: it shows the
referral's risk level and date, which only the app above may read.)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from safer.access.probes import PerRowExists, capped_plan
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.paging import CappedCount, capped, capped_counts
from safer.workspace import (
    ROWS_SHOWN,
    HomePanel,
    NavItem,
    Panel,
    PanelRow,
    display_date,
    due_words,
    home_panel_register,
    nav_item_register,
)
from safer.workspace import (
    Count as PanelCount,
)
from support.models import AdultSupportCase, CypCase, Handover
from support.selectors.caseload import worker_caseload_page, worker_caseload_summary

KIND_WORDS = {"adult": "Adult support", "cyp": "Children and young people"}
TRANSFERS_SINCE_DAYS = 30
# A worker's counts on the manager's panel stop here ("50+"): a caseload is tens of cases.
PER_WORKER_CAP = 50


def caseload_panel(user: User) -> Panel:
    """The worker's open cases, next due first (so overdue first): the first rows read off
    the next-due index, and the counts in one aggregate per case kind (issue 17)."""
    rows = list(worker_caseload_page(user=user, params=QueryDict(), per_page=ROWS_SHOWN))
    summary = worker_caseload_summary(user=user)
    caseload = reverse("support:caseload")
    shown = []
    for row in rows:
        due, late = due_words(row.next_due_on, now=timezone.now())
        shown.append(
            PanelRow(
                text=row.case.reference,
                url=reverse(f"support:{row.kind}-detail", kwargs={"case_id": row.case.pk}),
                cells=(
                    KIND_WORDS[row.kind],
                    row.case.get_status_display(),
                    row.next_due_label or "Nothing due",
                    due,
                ),
                overdue=late,
            )
        )
    return Panel(
        title="Your caseload",
        counts=(
            PanelCount("open cases", summary.open, caseload),
            PanelCount("overdue", summary.overdue, f"{caseload}?due=overdue", True),
            PanelCount("first contacts to make", summary.contacts_to_make),
            PanelCount("first contacts overdue", summary.contacts_overdue, overdue=True),
        ),
        caption="Your open cases, next due first",
        columns=("Case", "Service", "Status", "Next", "When"),
        rows=shown,
        links=(("Your whole caseload", caseload),),
        empty="You have no open cases.",
    )


def caseload_per_worker_panel(user: User) -> Panel:
    """Each worker of the manager's organisation with their open cases and what is late, each
    count capped at ``PER_WORKER_CAP`` ("50+").

    A grouped count would read (and check access to) every open case of the organisation,
    121,000 at a million referrals. Instead the workers are the users allocated an open case of
    the organisation (one index probe each; no access check, but a worker none of whose cases
    the manager may see is dropped below), and for each worker and case kind one sub-query
    reads up to ``PER_WORKER_CAP + 1`` of their open cases through an index on the worker,
    checking access to each, and counts all three figures over what it read
    (``_caseload_tallies``). A worker with more open cases than that (rare: a caseload is tens)
    has their late counts made exactly, each capped, by a second statement for them alone.
    Six capped counts for every worker, each embedding the per-row access check, cost the
    manager's home 45 ms at a million referrals, half of it in compiling and planning them
    (issue 17)."""
    today = timezone.localdate()
    candidates = Q(pk__in=[])
    tallies: dict[str, Any] = {}
    open_cases: dict[str, Any] = {}
    for kind, model in (("adult", AdultSupportCase), ("cyp", CypCase)):
        allocated = model.objects.filter(
            provider_id=user.organisation_id, allocated_worker=OuterRef("pk")
        ).open()
        candidates |= Q(Exists(allocated))
        open_cases[kind] = (
            model.objects.visible_to(user).filter(provider_id=user.organisation_id).open()
        )
        theirs = open_cases[kind].filter(allocated_worker=OuterRef("pk"))
        tallies[kind] = _caseload_tallies(theirs, today=today, cap=PER_WORKER_CAP)
    workers = User.objects.filter(candidates).annotate(**tallies)
    with capped_plan():
        rows = list(workers.values("pk", "full_name", *tallies))
    per_kind: dict[tuple[Any, str], dict[str, CappedCount]] = {}
    busy: list[tuple[Any, str]] = []
    for row in rows:
        for kind in tallies:
            counted = dict(zip(_TALLIES, row[kind] or (0, 0, 0), strict=True))
            per_kind[row["pk"], kind] = {
                name: capped(n, PER_WORKER_CAP) for name, n in counted.items()
            }
            if counted["n"] > PER_WORKER_CAP:
                busy.append((row["pk"], kind))
    if busy:
        # Their late cases may lie beyond the cases read: each late count made in full, capped.
        late: dict[str, Any] = {}
        for worker_id, kind in busy:
            theirs = open_cases[kind].filter(allocated_worker_id=worker_id)
            late[f"{worker_id}:{kind}:contact"] = theirs.filter(
                first_contact_at__isnull=True, first_contact_due_on__lt=today
            )
            late[f"{worker_id}:{kind}:review"] = theirs.filter(review_due_on__lt=today)
        exact = capped_counts(late, cap=PER_WORKER_CAP)
        for worker_id, kind in busy:
            for name in ("contact", "review"):
                per_kind[worker_id, kind][name] = exact[f"{worker_id}:{kind}:{name}"]
    per_worker: dict[object, dict[str, Any]] = {}
    for row in rows:
        adult, cyp = per_kind[row["pk"], "adult"], per_kind[row["pk"], "cyp"]
        totals = {name: adult[name] + cyp[name] for name in _TALLIES}
        if totals["n"]:
            per_worker[row["pk"]] = {"name": row["full_name"], **totals}
    ordered = sorted(per_worker.items(), key=lambda kv: str(kv[1]["name"]))
    return Panel(
        title="Caseload per worker",
        counts=(
            PanelCount("workers with cases", len(ordered)),
            PanelCount(
                "first contacts overdue",
                sum((w["contact"] for _id, w in ordered), start=CappedCount(0)),
                reverse("support:team"),
                True,
            ),
        ),
        caption="Open cases per worker",
        columns=("Worker", "Open cases", "First contact overdue", "Review overdue"),
        rows=[
            PanelRow(
                text=str(w["name"]),
                url=reverse("support:worker-caseload", kwargs={"worker_id": worker_id}),
                cells=(str(w["n"]), str(w["contact"]), str(w["review"])),
            )
            for worker_id, w in ordered
        ],
        links=(("Team cases", reverse("support:team")),),
        empty="No worker in your organisation has an open case.",
    )


# What ``_caseload_tallies`` counts, in its array's order.
_TALLIES = ("n", "contact", "review")


class _TalliesOf(Func):
    template = (
        "(SELECT ARRAY[count(*), count(*) FILTER (WHERE capped.late_contact),"
        " count(*) FILTER (WHERE capped.late_review)] FROM %(expressions)s AS capped)"
    )
    output_field = ArrayField(IntegerField())


def _caseload_tallies(cases: QuerySet[Any], *, today: dt.date, cap: int) -> Func:
    """An annotation: ``[n, late contact, late review]`` over up to ``cap + 1`` of ``cases``
    (which may hold ``OuterRef``), each row read and its access checked once. ``n`` reads back
    with ``capped(n, cap)``; the late counts are exact only when ``n`` is at most ``cap``."""
    read = (
        cases.order_by()
        .annotate(
            late_contact=ExpressionWrapper(
                Q(first_contact_at__isnull=True, first_contact_due_on__lt=today),
                output_field=BooleanField(),
            ),
            late_review=ExpressionWrapper(Q(review_due_on__lt=today), output_field=BooleanField()),
        )
        .values("late_contact", "late_review")[: cap + 1]
    )
    return _TalliesOf(Subquery(read, output_field=BooleanField()))


def transfers_panel(user: User) -> Panel:
    """Cases passed from one worker to another in the last 30 days, newest first: one query."""
    since = timezone.now() - dt.timedelta(days=TRANSFERS_SINCE_DAYS)
    own = Q(provider_id=user.organisation_id)
    # Each handover's case checked by its id (``PerRowExists``), not "IN (every case the
    # manager sees)", which is hashed whole: the organisation's cases (issue 17).
    adult = AdultSupportCase.objects.visible_to(user).filter(own, pk=OuterRef("adult_case_id"))
    cyp = CypCase.objects.visible_to(user).filter(own, pk=OuterRef("cyp_case_id"))
    handovers = (
        Handover.objects.filter(handed_over_at__gte=since)
        .filter(Q(PerRowExists(adult)) | Q(PerRowExists(cyp)))
        .select_related("adult_case", "cyp_case", "from_worker", "to_worker")
        .order_by("-handed_over_at")
    )
    rows = []
    for h in handovers[:ROWS_SHOWN]:
        case = h.adult_case or h.cyp_case
        assert case is not None
        kind = "adult" if h.adult_case_id else "cyp"
        rows.append(
            PanelRow(
                text=case.reference,
                url=reverse(f"support:{kind}-detail", kwargs={"case_id": case.pk}),
                cells=(
                    h.from_worker.full_name if h.from_worker else "Nobody",
                    h.to_worker.full_name,
                    display_date(h.handed_over_at),
                ),
            )
        )
    return Panel(
        title=f"Transfers in the last {TRANSFERS_SINCE_DAYS} days",
        caption="Cases transferred, newest first",
        columns=("Case", "From", "To", "When"),
        rows=rows,
        empty=f"No case was transferred in the last {TRANSFERS_SINCE_DAYS} days.",
    )


WORKERS = frozenset({Role.ADULT_SUPPORT_WORKER, Role.CYP_WORKER})
MANAGER = frozenset({Role.PROVIDER_MANAGER})
NAV_ITEMS = (
    NavItem("caseload", "Your caseload", "support:caseload", 20, WORKERS),
    NavItem("team", "Team cases", "support:team", 20, MANAGER),
    NavItem(
        "groups",
        "Groups",
        "support:groups",
        50,
        frozenset({Role.CYP_WORKER, Role.PROVIDER_MANAGER}),
    ),
)
HOME_PANELS = (
    HomePanel("caseload", 10, WORKERS, caseload_panel),
    HomePanel("caseload-per-worker", 20, MANAGER, caseload_per_worker_panel),
    HomePanel("transfers", 30, MANAGER, transfers_panel),
)


def register() -> None:
    for item in NAV_ITEMS:
        nav_item_register(item)
    for panel in HOME_PANELS:
        home_panel_register(panel)
