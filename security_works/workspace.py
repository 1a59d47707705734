"""Security works' part of the staff workspace (``safer.workspace``): the job list and the
approvals queue in the menu, a contractor's jobs by next action and the SPA manager's approvals
on their homes. Registered from ``SecurityWorksConfig.ready()``."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.workspace import (
    ROWS_SHOWN,
    HomePanel,
    NavItem,
    Panel,
    PanelRow,
    due_words,
    home_panel_register,
    nav_item_register,
)
from safer.workspace import (
    Count as PanelCount,
)
from security_works.models import JobStatus
from security_works.selectors import (
    JobListFilters,
    approvals_counts_for_user,
    approvals_most_overdue_for_user,
    job_list_for_user,
)

# What the job waits for in each open state: the next step of the work, in words.
NEXT_ACTION: dict[str, str] = {
    JobStatus.ALLOCATED: "Book the survey",
    JobStatus.SURVEY_BOOKED: "Record the survey",
    JobStatus.SURVEYED: "Book the installation",
    JobStatus.AWAITING_LANDLORD_CONSENT: "Record the landlord's answer",
    JobStatus.INSTALLATION_BOOKED: "Record the installation",
    JobStatus.INSTALLED: "Do the post-installation check",
    JobStatus.CHECKED: "Waiting for the SPA to complete",
    JobStatus.ON_HOLD: "On hold",
}


def contractor_jobs_panel(user: User) -> Panel:
    """The contractor's open jobs: how many wait for each next action, then the jobs whose
    deadline is nearest (overdue first). Two queries whatever the number of jobs."""
    now = timezone.now()
    open_jobs = job_list_for_user(user, JobListFilters(status="open"))
    by_status: dict[str, int] = {}
    late = 0
    for status, n, n_late in (
        open_jobs.order_by()
        .values_list("status")
        .annotate(n=Count("pk"), late=Count("pk", filter=Q(next_due_at__lt=now)))
        .values_list("status", "n", "late")
    ):
        by_status[status] = n
        late += n_late
    rows = []
    for job in open_jobs[:ROWS_SHOWN]:
        due, is_late = due_words(job.next_due_at, now=now)
        action = NEXT_ACTION.get(job.status, job.get_status_display())
        rows.append(
            PanelRow(
                text=job.reference,
                url=reverse("security_works:job-detail", kwargs={"job_id": job.pk}),
                cells=(job.district.name, job.get_priority_display(), action, due),
                overdue=is_late,
            )
        )
    jobs_url = reverse("security_works:job-list")
    counts = [
        PanelCount("open jobs", sum(by_status.values()), f"{jobs_url}?status=open"),
        PanelCount("past a deadline", late, f"{jobs_url}?status=open&due=overdue", True),
    ]
    counts += [
        PanelCount(words.lower(), by_status[status], f"{jobs_url}?status={status}")
        for status, words in NEXT_ACTION.items()
        if by_status.get(status)
    ]
    return Panel(
        title="Your jobs by next action",
        counts=counts,
        caption="Open jobs, nearest deadline first",
        columns=("Job", "District", "Priority", "Next action", "Deadline"),
        rows=rows,
        links=(("All jobs", jobs_url),),
        empty="You have no open jobs.",
    )


def approvals_panel(user: User) -> Panel:
    """Cost approvals and variations waiting for the SPA manager, most overdue first, with their
    counts (capped: "500+"). Two queries."""
    now = timezone.now()
    counts = approvals_counts_for_user(user, now=now)
    queue = reverse("security_works:approvals")
    rows = []
    for approval in approvals_most_overdue_for_user(user, limit=ROWS_SHOWN):
        due, late = due_words(approval.due_at, now=now)
        rows.append(
            PanelRow(
                text=approval.job.reference,
                url=reverse(
                    "security_works:approval-decide",
                    kwargs={"job_id": approval.job_id, "approval_id": approval.pk},
                ),
                cells=(approval.get_kind_display(), approval.job.district.name, due),
                overdue=late,
            )
        )
    return Panel(
        title="Approvals",
        counts=(
            PanelCount("waiting for your decision", counts.waiting, queue),
            PanelCount("past their deadline", counts.overdue, queue, True),
        ),
        caption="Cost approvals and variations, most overdue first",
        columns=("Job", "Asks for", "District", "Decision"),
        rows=rows,
        links=(("Approvals queue", queue),),
        empty="Nothing is waiting for approval.",
    )


VIEW_ROLES = frozenset({Role.CONTRACTOR, Role.PROVIDER_MANAGER, Role.SPA_TRIAGE, Role.SPA_MANAGER})
NAV_ITEMS = (
    NavItem("jobs", "Security jobs", "security_works:job-list", 40, VIEW_ROLES),
    NavItem(
        "approvals", "Approvals", "security_works:approvals", 45, frozenset({Role.SPA_MANAGER})
    ),
)
HOME_PANELS = (
    HomePanel("approvals", 15, frozenset({Role.SPA_MANAGER}), approvals_panel),
    HomePanel("contractor-jobs", 10, frozenset({Role.CONTRACTOR}), contractor_jobs_panel),
)


def register() -> None:
    for item in NAV_ITEMS:
        nav_item_register(item)
    for panel in HOME_PANELS:
        home_panel_register(panel)
