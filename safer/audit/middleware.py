"""Request context for the change history: who is signed in and where the request came from."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from pghistory.middleware import HistoryMiddleware

from safer.audit.services import client_ip


class HistoryContextMiddleware(HistoryMiddleware):
    """pghistory's middleware plus the source address and method.

    Place it after authentication. pghistory swaps the request class so that a sign-in during the
    request (``request.user = …``) updates the user in the context too. The path is recorded
    without its query string, which can hold search terms.
    """

    def get_context(self, request: HttpRequest) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context(request)
        user = context.get("user")
        context["user"] = str(user) if user is not None else None
        context["ip"] = client_ip(request)
        context["method"] = request.method
        return context
