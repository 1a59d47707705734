"""The auditor's part of the staff workspace (``safer.workspace``): the audit pages in the menu
and recent access and sign-in alerts on the home. Registered from ``AuditConfig.ready()``."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.audit.models import AccessAction, AuthEventKind
from safer.audit.scoping import AuditScope
from safer.audit.selectors import access_counts_since, auth_alerts_since
from safer.workspace import (
    ROWS_SHOWN,
    HomePanel,
    NavItem,
    Panel,
    PanelRow,
    display_date,
    home_panel_register,
    nav_item_register,
)
from safer.workspace import (
    Count as PanelCount,
)

ALERT_DAYS = 7
# Sign-in events an auditor looks into: someone trying and failing, or refused.
ALERT_KINDS = (
    AuthEventKind.SIGN_IN_FAILED,
    AuthEventKind.LOCKED_OUT,
    AuthEventKind.OTP_FAILED,
    AuthEventKind.PERMISSION_DENIED,
    AuthEventKind.BACKUP_CODE_USED,
)


def _url(name: str, **params: str) -> str:
    return f"{reverse(name)}?{urlencode(params)}"


def audit_alerts_panel(user: User) -> Panel:
    """The last seven days in the auditor's authorities: records read, break-glass openings and
    sign-in alerts by kind, then the latest alerts. The access counts are capped ("500+").
    Five queries."""
    scope = AuditScope.for_user(user)
    now = timezone.now()
    since = now - dt.timedelta(days=ALERT_DAYS)
    date_from = timezone.localdate(since).isoformat()
    access = access_counts_since(audit_scope=scope, since=since)
    alerts = auth_alerts_since(audit_scope=scope, since=since, kinds=ALERT_KINDS, rows=ROWS_SHOWN)
    words = dict(AuthEventKind.choices)
    counts = [
        PanelCount(
            "records read or listed",
            access.reads,
            _url("audit:access-log", date_from=date_from),
        ),
        PanelCount(
            "break-glass openings",
            access.break_glass,
            _url("audit:access-log", action=AccessAction.BREAK_GLASS, date_from=date_from),
            True,
        ),
    ]
    counts += [
        PanelCount(
            str(words[kind]).lower(),
            alerts.by_kind.get(kind, 0),
            _url("audit:sign-ins", kind=kind, date_from=date_from),
            True,
        )
        for kind in ALERT_KINDS
    ]
    rows = [
        PanelRow(
            text=event.user.email if event.user else event.attempted_username or "Unknown",
            url=_url(
                "audit:sign-ins", user=event.user.email if event.user else event.attempted_username
            ),
            cells=(
                event.get_kind_display(),
                event.source_ip or "Not recorded",
                display_date(event.occurred_at),
            ),
        )
        for event in alerts.latest
    ]
    return Panel(
        title=f"Access and sign-in alerts in the last {ALERT_DAYS} days",
        counts=counts,
        caption="Latest sign-in alerts",
        columns=("User", "Event", "From", "When"),
        rows=rows,
        links=(
            ("Find who opened a record", reverse("audit:home")),
            ("Access log", reverse("audit:access-log")),
            ("Sign-in events", reverse("audit:sign-ins")),
        ),
        empty=f"No sign-in alerts in the last {ALERT_DAYS} days.",
    )


AUDITOR = frozenset({Role.AUDITOR})
NAV_ITEMS = (
    NavItem("audit", "Audit", "audit:home", 20, AUDITOR),
    NavItem("access-log", "Access log", "audit:access-log", 21, AUDITOR),
    NavItem("sign-ins", "Sign-in events", "audit:sign-ins", 22, AUDITOR),
)


def register() -> None:
    for item in NAV_ITEMS:
        nav_item_register(item)
    home_panel_register(HomePanel("audit-alerts", 10, AUDITOR, audit_alerts_panel))
