"""Scopes: each view says which scope each HTTP method needs; a token without it gets 403."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from safer.api.models import ApiClient, Scope


def required_scope(view: Any, method: str) -> Scope | None:
    scopes: Mapping[str, Scope] = getattr(view, "required_scopes", {})
    method = method.upper()
    return scopes.get("GET" if method == "HEAD" else method)


class HasScope(BasePermission):
    """A usable API client holding the scope the view names for this method.

    A view that names no scope for a method refuses it: nothing is allowed by default.
    """

    message = "This token does not have the scope this request needs."

    def has_permission(self, request: Request, view: Any) -> bool:
        client = request.auth
        if not isinstance(client, ApiClient):
            return False
        method = (request.method or "").lower()
        if method not in getattr(view, "http_method_names", ()) or not hasattr(view, method):
            return True  # the view answers 405 itself
        scope = required_scope(view, method)
        if scope is None:
            return False
        if not client.has_scope(scope):
            self.message = f"This token does not have the '{scope}' scope."
            return False
        return True
