"""Support's part of the staff workspace (``safer.workspace``): the caseload, team and groups
pages in the menu; a worker's caseload and a provider manager's caseload per worker and
transfers on their homes. Registered from ``SupportConfig.ready()``.

(The manager's "waiting for allocation" panel is in ``referrals.workspace``: it shows the
referral's risk level and date, which only the app above may read.)
"""

from __future__ import annotations

import datetime as dt

from django.db.models import OuterRef, Q
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from safer.access.probes import PerRowExists
from safer.accounts.models import User
from safer.accounts.roles import Role
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
from support.selectors.tallies import caseload_per_worker

KIND_WORDS = {"adult": "Adult support", "cyp": "Children and young people"}
TRANSFERS_SINCE_DAYS = 30


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
    """Each worker of the manager's organisation with their open cases and what is late: one
    grouped read of the tallies kept as the cases change (``support.selectors.tallies``).

    Counting each worker's cases as the page was read checked access to every case it counted
    and stopped at 50: 45 ms of the manager's home and team pages at a million referrals, the
    workers holding thousands each (issue 17). The counts are exact."""
    workers = caseload_per_worker(user=user)
    return Panel(
        title="Caseload per worker",
        counts=(
            PanelCount("workers with cases", len(workers)),
            PanelCount(
                "first contacts overdue",
                sum(w.contact_overdue for w in workers),
                reverse("support:team"),
                True,
            ),
        ),
        caption="Open cases per worker",
        columns=("Worker", "Open cases", "First contact overdue", "Review overdue"),
        rows=[
            PanelRow(
                text=w.name,
                url=reverse("support:worker-caseload", kwargs={"worker_id": w.worker_id}),
                cells=(str(w.open), str(w.contact_overdue), str(w.review_overdue)),
            )
            for w in workers
        ],
        links=(("Team cases", reverse("support:team")),),
        empty="No worker in your organisation has an open case.",
    )


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
