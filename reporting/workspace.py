"""Reporting's part of the staff workspace (``safer.workspace``): the reports, dashboards and
commissioning pages in the menu (each only for the roles its view lets in), and the
commissioner's returns due on the home. Registered from ``ReportingConfig.ready()``."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from reporting.models import RUN_ROLES, ReportKind, RunStatus
from reporting.periods import Period
from reporting.schedules import last_complete_quarter, quarter_reports_due_on
from reporting.selectors import report_runs_for_user
from reporting.views import DASHBOARD_ROLES
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.workspace import (
    HomePanel,
    NavItem,
    Panel,
    PanelRow,
    display_date,
    home_panel_register,
    nav_item_register,
)

COMMISSIONER = frozenset({Role.COMMISSIONER})


def returns_due_panel(user: User) -> Panel:
    """The scheduled returns (quarterly grant update, annual Part 4 return) for the last
    complete quarter and the current one, each with its due date and the latest run the user
    may see for it. One query for the runs."""
    today = timezone.localdate()
    last = last_complete_quarter(today)
    current = Period.quarter_containing(today)
    wanted: list[tuple[str, Period, Period]] = [
        (ReportKind.QUARTERLY_GRANT, last, last),
        (ReportKind.QUARTERLY_GRANT, current, current),
    ]
    # The annual return follows the year's last quarter.
    year = Period.financial_year(current.start_year)
    year_end_quarter = Period.financial_quarter(current.start_year, 4)
    if last.quarter == 4:
        wanted.insert(1, (ReportKind.ANNUAL_RETURN, Period.financial_year(last.start_year), last))
    else:
        wanted.append((ReportKind.ANNUAL_RETURN, year, year_end_quarter))
    codes = {period.code for _kind, period, _q in wanted}
    latest: dict[tuple[str, str], str] = {}
    for kind, code, status in (
        report_runs_for_user(user)
        .filter(kind__in=[k for k, _p, _q in wanted], period_code__in=codes)
        .order_by("requested_at")
        .values_list("kind", "period_code", "status")
    ):
        latest[(kind, code)] = str(RunStatus(status).label)
    words = dict(ReportKind.choices)
    rows = []
    for kind, period, quarter in wanted:
        due_on = quarter_reports_due_on(quarter)
        rows.append(
            PanelRow(
                text=str(words[kind]),
                url=reverse("reporting:run-request"),
                cells=(
                    period.label,
                    display_date(due_on),
                    latest.get((kind, period.code), "Not generated yet"),
                ),
                overdue=due_on < today and (kind, period.code) not in latest,
            )
        )
    return Panel(
        title="Returns due",
        caption="Scheduled returns and their due dates",
        columns=("Return", "Period", "Due", "Latest run"),
        rows=rows,
        links=(
            ("Dashboard", reverse("reporting:dashboard")),
            ("Authorities side by side", reverse("reporting:joint-board")),
            ("Report runs", reverse("reporting:run-list")),
            ("Request a report", reverse("reporting:run-request")),
        ),
    )


NAV_ITEMS = (
    NavItem("dashboard", "Dashboard", "reporting:dashboard", 30, frozenset(DASHBOARD_ROLES)),
    NavItem(
        "provider-dashboard",
        "Provider dashboard",
        "reporting:provider-dashboard",
        31,
        frozenset({Role.PROVIDER_MANAGER}),  # an SPA manager has no provider of their own
    ),
    NavItem("reports", "Reports", "reporting:run-list", 80, frozenset(RUN_ROLES)),
    NavItem("contract-spend", "Commissioning", "reporting:contract-spend", 85, COMMISSIONER),
)


def register() -> None:
    for item in NAV_ITEMS:
        nav_item_register(item)
    home_panel_register(HomePanel("returns-due", 10, COMMISSIONER, returns_due_panel))
