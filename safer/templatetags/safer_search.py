"""``{% search_box_shown as show %}``: whether the header shows the search box to this user.

Cached on the request, so a page that asks twice makes one roles query."""

from __future__ import annotations

from typing import Any

from django import template

from safer.search.roles import SEARCH_ROLES
from safer.workspace import request_roles

register = template.Library()


@register.simple_tag(takes_context=True)
def search_box_shown(context: dict[str, Any]) -> bool:
    request = context.get("request")
    if request is None or not getattr(request, "user", None):
        return False
    cached = getattr(request, "_safer_search_box_shown", None)
    if cached is None:
        # The roles the menu already read for this request (one query for the whole page).
        cached = bool(request_roles(request) & set(SEARCH_ROLES))
        request._safer_search_box_shown = cached
    return bool(cached)
