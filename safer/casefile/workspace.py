"""The case file's links in the staff workspace's menu (``safer.workspace``), registered from
``CasefileConfig.ready()``."""

from __future__ import annotations

from safer.accounts.roles import Role
from safer.casefile.views import CASEFILE_ROLES
from safer.workspace import NavItem, nav_item_register

NAV_ITEMS = (
    NavItem("case-files", "Case files", "casefile:list", 60, frozenset(CASEFILE_ROLES)),
    NavItem(
        "contact-overrides",
        "Contact overrides",
        "casefile:contact-overrides",
        70,
        frozenset({Role.SPA_MANAGER, Role.PROVIDER_MANAGER}),
    ),
    NavItem(
        "break-glass",
        "Break-glass access",
        "casefile:break-glass",
        75,
        frozenset({Role.SPA_MANAGER}),
    ),
)


def register() -> None:
    for item in NAV_ITEMS:
        nav_item_register(item)
