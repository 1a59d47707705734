"""The SPA's and the referrers' part of the staff workspace (``safer.workspace``): menu links and
home panels, registered from ``ReferralsConfig.ready()``.

Also the provider manager's "waiting for allocation" panel: a case waiting for a worker is the
support app's, but what the manager allocates by (the risk level and when the referral came in)
is the referral's, and referrals may read support (it sits above it), never the reverse.
"""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone

from referrals.models import Referral, ReferralStatus, RiskLevel
from referrals.selectors import (
    QueueFilters,
    referral_queue,
    referral_queue_counts,
    referrals_made_by,
)
from safer.access.roles import SPA_ROLES
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.organisations.models import OrganisationKind
from safer.paging import capped_counts
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
from support.models import AdultSupportCase, CypCase, CypSource

_RISK_WORDS = dict(RiskLevel.choices)


def _queue_url(**params: str) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return reverse("referrals:queue") + (f"?{query}" if query else "")


def spa_queue_panel(user: User) -> Panel:
    """Open referrals by when triage is due (overdue first, a paused clock last), with the
    counts the SPA works to (capped: "500+"): two queries whatever the queue's length."""
    now = timezone.now()
    counts = referral_queue_counts(user=user, now=now)
    rows = []
    for referral in referral_queue(user=user, filters=QueueFilters(sort="due"))[:ROWS_SHOWN]:
        due, overdue = due_words(referral.sla_due_at, now=now)
        if referral.status == ReferralStatus.AWAITING_INFORMATION:
            due = "Clock paused: awaiting information"
        contact = "Attempted" if referral.first_contact_attempted_at else ""
        if not contact:
            contact, late = due_words(referral.first_contact_due_at, now=now)
            contact = f"{contact} (late)" if late else contact
        rows.append(
            PanelRow(
                text=referral.reference,
                url=reverse("referrals:detail", kwargs={"referral_id": referral.pk}),
                cells=(
                    referral.case_file.household.district.name,
                    _RISK_WORDS[referral.risk_level],
                    referral.get_status_display(),
                    contact,
                    due,
                ),
                overdue=overdue,
            )
        )
    return Panel(
        title="Referrals to triage",
        counts=(
            PanelCount("open referrals", counts.open, _queue_url()),
            PanelCount("triage overdue", counts.overdue, _queue_url(due="overdue"), True),
            PanelCount(
                "awaiting information",
                counts.awaiting,
                _queue_url(status=ReferralStatus.AWAITING_INFORMATION),
            ),
            PanelCount("first contacts to make", counts.contacts_to_make),
            PanelCount(
                "first contacts overdue",
                counts.contacts_overdue,
                _queue_url(due="contact_overdue"),
                True,
            ),
        ),
        caption="Open referrals, triage due soonest first",
        columns=("Referral", "District", "Risk", "Status", "First contact", "Triage"),
        rows=rows,
        links=(("Triage queue", _queue_url()),),
        empty="No referrals are waiting for triage.",
    )


def referrer_panel(user: User) -> Panel:
    """The referrals the user made, newest first: status only (a referrer sees nothing more)."""
    made = referrals_made_by(user=user)
    in_progress = sum(1 for row in made if row.status in ("Received", "In triage"))
    mine = reverse("referrals:mine")
    links = [("All your referrals", mine), ("Make a referral", reverse("refer:start"))]
    if _may_refer_child(user):
        links.append(
            (
                "Refer a child to the children and young people's service",
                reverse("support:refer-child"),
            )
        )
    return Panel(
        title="Your referrals",
        counts=(
            PanelCount("referrals made", len(made), mine),
            PanelCount("still being triaged", in_progress, mine),
        ),
        caption="Your latest referrals",
        columns=("Reference", "Received", "Status"),
        rows=[
            PanelRow(text=row.reference, url="", cells=(row.received_on, row.status))
            for row in made[:ROWS_SHOWN]
        ],
        links=links,
        empty="You have not made a referral with this account yet.",
    )


def waiting_for_allocation_panel(user: User) -> Panel | None:
    """A provider manager's cases waiting for a worker, oldest first, with the risk level and
    the date the referral came in (a child referred directly by a refuge has no SPA referral).
    One query per case kind, and one for both counts (capped: "500+")."""
    referral = Referral.objects.filter(case_file=OuterRef("case_file")).order_by("-received_at")
    rows: list[tuple[object, PanelRow]] = []
    to_count: dict[str, QuerySet[Any]] = {}
    for kind, model in (("adult", AdultSupportCase), ("cyp", CypCase)):
        mine = model.objects.visible_to(user).filter(
            provider_id=user.organisation_id, status="awaiting_allocation"
        )
        to_count[kind] = mine
        waiting = (
            mine.annotate(
                referral_risk=Subquery(referral.values("risk_level")[:1]),
                referral_received=Subquery(referral.values("received_at")[:1]),
            )
            .select_related("case_file__household__district")
            .order_by("opened_at")
        )
        for case in waiting[:ROWS_SHOWN]:
            direct = getattr(case, "source", "") == CypSource.DIRECT
            received = case.referral_received if not direct else case.opened_at
            risk = _RISK_WORDS.get(case.referral_risk or "", "Not from the SPA")
            rows.append(
                (
                    case.opened_at,
                    PanelRow(
                        text=f"Allocate {case.reference}",
                        url=reverse(f"support:{kind}-allocate", kwargs={"case_id": case.pk}),
                        cells=(
                            "Children and young people" if kind == "cyp" else "Adult support",
                            case.case_file.household.district.name,
                            risk,
                            "Direct referral" if direct else "Single Point of Access",
                            display_date(received),
                        ),
                    ),
                )
            )
    counted = capped_counts(to_count)
    total = counted["adult"] + counted["cyp"]
    if not rows:
        return Panel(
            title="Waiting for allocation",
            counts=(PanelCount("cases waiting for a worker", 0),),
            empty="No case is waiting for a worker.",
        )
    rows.sort(key=lambda pair: pair[0])  # type: ignore[arg-type, return-value]
    return Panel(
        title="Waiting for allocation",
        counts=(PanelCount("cases waiting for a worker", total, reverse("support:team")),),
        caption="Cases waiting for a worker, oldest first",
        columns=("Case", "Service", "District", "Risk", "Referred by", "Referral received"),
        rows=[row for _opened, row in rows[:ROWS_SHOWN]],
        links=(("Team cases", reverse("support:team")),),
    )


def _may_refer_child(user: User) -> bool:
    # Staff of accommodation providers (refuges, dispersed and move-on) refer children directly.
    organisation = user.organisation
    return organisation is not None and organisation.kind == OrganisationKind.ACCOMMODATION


SPA = frozenset(SPA_ROLES)
NAV_ITEMS = (
    NavItem("triage-queue", "Triage queue", "referrals:queue", 20, SPA),
    NavItem("advice-contacts", "Advice contacts", "referrals:advice-list", 25, SPA),
    NavItem("my-referrals", "Your referrals", "referrals:mine", 20, frozenset({Role.REFERRER})),
    NavItem("make-referral", "Make a referral", "refer:start", 21, frozenset({Role.REFERRER})),
    NavItem(
        "refer-child",
        "Refer a child",
        "support:refer-child",
        22,
        frozenset({Role.REFERRER}),
        allowed=_may_refer_child,
    ),
)
HOME_PANELS = (
    HomePanel("spa-queue", 10, SPA, spa_queue_panel),
    HomePanel("referrer", 10, frozenset({Role.REFERRER}), referrer_panel),
    HomePanel(
        "waiting-for-allocation",
        10,
        frozenset({Role.PROVIDER_MANAGER}),
        waiting_for_allocation_panel,
    ),
)


def register() -> None:
    for item in NAV_ITEMS:
        nav_item_register(item)
    for panel in HOME_PANELS:
        home_panel_register(panel)
