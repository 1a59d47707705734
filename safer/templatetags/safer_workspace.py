"""``{% workspace_navigation as items %}``: the service navigation for this request's user.

Drawn from ``safer.workspace``'s registry by the user's roles: only links the roles may open.
The roles are read once per request (``request_roles``)."""

from __future__ import annotations

from typing import Any

from django import template

from safer.workspace import navigation_for, request_roles

register = template.Library()


@register.simple_tag(takes_context=True)
def workspace_navigation(context: dict[str, Any]) -> list[dict[str, object]]:
    request = context.get("request")
    if request is None or not getattr(request, "user", None):
        return []
    return navigation_for(request)


@register.simple_tag(takes_context=True)
def user_has_role(context: dict[str, Any], *role_values: str) -> bool:
    """``{% user_has_role "commissioner" "spa_manager" as shown %}``: whether the signed-in,
    verified user holds one of the roles (for a link only those roles may open)."""
    request = context.get("request")
    if request is None:
        return False
    return any(role.value in role_values for role in request_roles(request))
