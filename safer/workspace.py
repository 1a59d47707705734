"""The staff workspace: each role's home page at ``/`` and the one service navigation.

The core imports no app above it, yet a role's home lists referrals, jobs and support cases, and
the menu links to every app's pages. So each app registers what it owns from its
``AppConfig.ready()`` (as ``safer.search.registry`` and ``safer.exit`` do), and the dependency
points app → core:

- a ``NavItem`` is one link of the service navigation, shown to the roles that may open it (and,
  where the role alone does not decide, to users its ``allowed`` test passes: that test reads the
  user row only, never the database);
- a ``HomePanel`` is one box of a role's home: its ``build`` reads the app's own selectors (which
  start from ``visible_to(user)``) and returns a ``Panel`` of counts and a few rows, overdue first,
  in a fixed number of queries whatever the user's caseload.

Rows show references and facts in words (risk, district, what is due), never a person's name, so
the home needs no access-log rows of its own: opening a record logs it as every detail page does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from safer.access.roles import user_roles
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.paging import CappedCount
from safer.templatetags.safer_format import govuk_date, govuk_datetime

ROWS_SHOWN = 10


@dataclass(frozen=True)
class NavItem:
    key: str  # "triage-queue"
    label: str  # "Triage queue"
    url_name: str  # "referrals:queue"
    order: int  # where it sits in the menu, lowest first
    roles: frozenset[Role]  # who may open the page it links to
    allowed: Callable[[User], bool] | None = None  # a further test on the user row, if any

    @property
    def url(self) -> str:
        return reverse(self.url_name)


@dataclass(frozen=True)
class PanelRow:
    text: str  # the link's words: a record's reference
    url: str  # "" when the user may not open the record (a referrer: status only)
    cells: Sequence[str] = ()  # the other columns, in words
    overdue: bool = False


@dataclass(frozen=True)
class Count:
    label: str  # "waiting for triage"
    value: int | CappedCount  # a capped count shows as "500+"
    url: str = ""  # the list it counts, filtered, if there is one
    overdue: bool = False  # shown as a warning when value > 0


@dataclass(frozen=True)
class Panel:
    title: str
    counts: Sequence[Count] = ()
    columns: Sequence[str] = ()  # headings of the rows' table, the link's column first
    rows: Sequence[PanelRow] = ()
    links: Sequence[tuple[str, str]] = ()  # (words, url): where the whole list is
    empty: str = ""  # said when there are no rows ("" = say nothing)
    caption: str = ""  # what the table lists, for screen readers and the eye


@dataclass(frozen=True)
class HomePanel:
    key: str
    order: int  # where it sits on the home, lowest first
    roles: frozenset[Role]
    build: Callable[[User], Panel | None]  # None: nothing to show this user
    allowed: Callable[[User], bool] | None = None


@dataclass
class Workspace:
    roles: frozenset[Role]
    navigation: list[NavItem] = field(default_factory=list)


_nav_items: dict[str, NavItem] = {}
_home_panels: dict[str, HomePanel] = {}


def nav_item_register(item: NavItem) -> None:
    """Add or replace ``item`` by key (``ready()`` may run more than once)."""
    _nav_items[item.key] = item


def home_panel_register(panel: HomePanel) -> None:
    """Add or replace ``panel`` by key."""
    _home_panels[panel.key] = panel


def _passes(
    user: User,
    roles: frozenset[Role],
    wanted: frozenset[Role],
    allowed: Callable[[User], bool] | None,
) -> bool:
    return bool(roles & wanted) and (allowed is None or allowed(user))


def nav_items_for(user: User, roles: frozenset[Role]) -> list[NavItem]:
    """The menu for ``user``: only links to pages their roles may open."""
    items = [i for i in _nav_items.values() if _passes(user, roles, i.roles, i.allowed)]
    return sorted(items, key=lambda i: (i.order, i.key))


def home_panels_for(user: User, roles: frozenset[Role]) -> list[Panel]:
    """The boxes of ``user``'s home, each built by the app that owns its records."""
    chosen = [p for p in _home_panels.values() if _passes(user, roles, p.roles, p.allowed)]
    built = (p.build(user) for p in sorted(chosen, key=lambda p: (p.order, p.key)))
    return [panel for panel in built if panel is not None]


def request_roles(request: HttpRequest) -> frozenset[Role]:
    """The signed-in, verified user's roles, read once per request (the menu and the home both
    ask). Without a verified second factor, none: the menu shows nothing a page would refuse."""
    cached = getattr(request, "_safer_workspace_roles", None)
    if cached is None:
        user = getattr(request, "user", None)
        verified = getattr(user, "is_verified", None)
        cached = user_roles(user) if verified and verified() else frozenset()
        request._safer_workspace_roles = cached  # type: ignore[attr-defined]
    return cached


def navigation_for(request: HttpRequest) -> list[dict[str, object]]:
    """The menu as the template draws it, the current section marked."""
    roles = request_roles(request)
    if not roles:
        return []
    user = request.user
    assert isinstance(user, User)
    items = nav_items_for(user, roles)
    urls = [(item, item.url) for item in items]
    # The current section is the longest menu URL the path starts with ("/" only on the home).
    current = max(
        (
            url
            for _item, url in urls
            if request.path == url or (url != "/" and request.path.startswith(url))
        ),
        key=len,
        default=None,
    )
    return [{"label": item.label, "url": url, "active": url == current} for item, url in urls]


# --- Words the panels share --------------------------------------------------------------------


def display_date(value: dt.date | dt.datetime | None) -> str:
    """GOV.UK style: "4 December 2026", a moment "4 December 2026 at 5:30pm" (UK local time)."""
    if value is None:
        return "Not set"
    if isinstance(value, dt.datetime):
        return govuk_datetime(value)
    return govuk_date(value)


def due_words(
    value: dt.date | dt.datetime | None, *, now: dt.datetime | None = None
) -> tuple[str, bool]:
    """("Was due 3 December 2026", True) or ("Due 5 December 2026", False); the page adds an
    "Overdue" tag to the first."""
    if value is None:
        return "No deadline running", False
    now = now or timezone.now()
    overdue = value < now if isinstance(value, dt.datetime) else value < timezone.localdate(now)
    words = display_date(value)
    return (f"Was due {words}", True) if overdue else (f"Due {words}", False)
