"""The system administrator's part of the staff workspace (``safer.workspace``): the
administration and worker-check pages in the menu, and on the home the reference data and user
records they may edit (the admin's own list, filtered by their model permissions).
Registered from ``AccountsConfig.ready()``."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse

from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.workspace import (
    HomePanel,
    NavItem,
    Panel,
    PanelRow,
    home_panel_register,
    nav_item_register,
)

ADMIN = frozenset({Role.SYSTEM_ADMIN})


def _is_staff(user: User) -> bool:
    return bool(user.is_staff)


def reference_data_panel(user: User) -> Panel:
    """Every admin list the user may open, as the admin's own index lists them (its model
    admins decide, with the user's permissions): users first, then by part of the service."""
    request = HttpRequest()
    request.user = user
    rows = []
    for app in admin.site.get_app_list(request):
        for model in app["models"]:
            if not model.get("admin_url"):
                continue
            rows.append(
                (
                    model["model"] is not User,
                    str(app["name"]),
                    PanelRow(
                        text=str(model["name"]), url=model["admin_url"], cells=(str(app["name"]),)
                    ),
                )
            )
    rows.sort(key=lambda r: (r[0], r[1], r[2].text))
    return Panel(
        title="Reference data and users",
        caption="What you can look after in the administration pages",
        columns=("Records", "Part of the service"),
        rows=[row for _users_last, _app, row in rows],
        links=(
            ("Administration", reverse("admin:index")),
            ("Worker check", reverse("worker-check")),
        ),
        empty="Your account may not edit any reference data.",
    )


NAV_ITEMS = (
    NavItem("admin", "Administration", "admin:index", 20, ADMIN, allowed=_is_staff),
    NavItem("worker-check", "Worker check", "worker-check", 30, ADMIN),
)


def register() -> None:
    for item in NAV_ITEMS:
        nav_item_register(item)
    home_panel_register(
        HomePanel("reference-data", 10, ADMIN, reference_data_panel, allowed=_is_staff)
    )
