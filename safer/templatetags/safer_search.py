"""``{% search_box_shown as show %}``: whether the header shows the search box to this user.

Cached on the request, so a page that asks twice makes one roles query."""

from __future__ import annotations

from typing import Any

from django import template

from safer.search.selectors import user_may_search

register = template.Library()


@register.simple_tag(takes_context=True)
def search_box_shown(context: dict[str, Any]) -> bool:
    request = context.get("request")
    if request is None or not getattr(request, "user", None):
        return False
    cached = getattr(request, "_safer_search_box_shown", None)
    if cached is None:
        cached = user_may_search(request.user)
        request._safer_search_box_shown = cached
    return bool(cached)
