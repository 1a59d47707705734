"""The base of every partner API view, and the schema and documentation pages.

``PartnerApiView`` fixes, for every endpoint: token authentication only, the scope check, the
per-address limit (before authentication, so guessing tokens is limited too) and the per-client
limit, the error shape, and one ``ApiCall`` audit row per request whatever the outcome.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, ClassVar

from csp.decorators import csp_update
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import Throttled
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from safer.accounts.models import User
from safer.api import throttle
from safer.api.authentication import ApiTokenAuthentication
from safer.api.exceptions import api_error_response
from safer.api.models import ApiCall, ApiClient, Scope
from safer.api.permissions import HasScope
from safer.api.services import api_call_new, api_call_record
from safer.audit.services import client_ip


class ClientThrottle(BaseThrottle):
    """The per-client limit (``safer.api.throttle.CLIENT``), once the token is known."""

    def __init__(self) -> None:
        self._wait = 0

    def allow_request(self, request: Request, view: APIView) -> bool:
        client = request.auth
        if not isinstance(client, ApiClient):
            return True
        verdict = throttle.hit(throttle.CLIENT, str(client.pk))
        self._wait = verdict.retry_after
        return verdict.allowed

    def wait(self) -> float | None:
        return float(self._wait) if self._wait else None


class AuditedApiMixin:
    """One ``ApiCall`` row per request, with the client when the token authenticated."""

    _started: float
    # Set by ``api_call_row_now``: the row is the view's to write, in its own transaction.
    _call_recorded: bool = False

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        self._started = time.monotonic()
        self._call_recorded = False
        return super().initialize_request(request, *args, **kwargs)  # type: ignore[misc]

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        if not self._call_recorded:
            self._api_call_record(request, response.status_code)
        return response

    def api_call_row_now(self, request: Request, status_code: int) -> ApiCall:
        """This request's ``ApiCall`` row, for the status the view is about to answer, for the
        view to insert inside its own transaction (one round trip and one commit fewer than a
        row of its own afterwards, issue 17): it is not written again afterwards. The view must
        call ``api_call_record_undone`` if that transaction rolls back, so the row is written
        afterwards after all."""
        self._call_recorded = True
        return api_call_new(**self._api_call_fields(request, status_code))

    def api_call_record_undone(self) -> None:
        self._call_recorded = False

    def _api_call_record(self, request: Request, status_code: int) -> None:
        api_call_record(**self._api_call_fields(request, status_code))

    def _api_call_fields(self, request: Request, status_code: int) -> dict[str, Any]:
        # Not ``request.auth``: that would authenticate now if the request was refused before
        # authentication (a rate limit), and could raise here.
        auth = request.__dict__.get("_auth")
        user = request.__dict__.get("_user")
        match = request._request.resolver_match
        started = getattr(self, "_started", time.monotonic())
        return {
            "client": auth if isinstance(auth, ApiClient) else None,
            "user": user if isinstance(user, User) else None,
            "request": request._request,
            "route": match.view_name if match else "",
            "status_code": status_code,
            "duration_ms": int((time.monotonic() - started) * 1000),
        }


class PartnerApiView(AuditedApiMixin, APIView):
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [HasScope]
    throttle_classes = [ClientThrottle]
    # Which scope each method needs; a method not listed is refused (403).
    required_scopes: ClassVar[Mapping[str, Scope]] = {}

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        verdict = throttle.hit(throttle.ADDRESS, client_ip(request._request) or "unknown")
        if not verdict.allowed:
            raise Throttled(wait=verdict.retry_after)
        super().initial(request, *args, **kwargs)

    @property
    def client(self) -> ApiClient:
        """The authenticated client (``HasScope`` has already made sure there is one)."""
        client = self.request.auth
        assert isinstance(client, ApiClient)
        return client


# --- The schema and its documentation ---------------------------------------------------------


class SchemaView(AuditedApiMixin, SpectacularAPIView):
    """The OpenAPI 3 schema: for any partner token, or a signed-in, verified member of staff."""

    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]


DOCS_CSP: dict[str, list[str]] = {
    # Swagger UI and Redoc set styles from script, and Redoc parses the schema in a blob: worker.
    # Only these two staff pages are relaxed; every asset still comes from this site.
    "style-src": ["'unsafe-inline'"],
    "worker-src": ["'self'", "blob:"],
}


def _signed_in_staff_only(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """/api/ is outside the site-wide sign-in rule (machines use tokens), so the documentation
    pages apply it themselves: anyone not signed in with a second factor goes to sign in."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        is_verified = getattr(user, "is_verified", None)
        if not user.is_authenticated or not (is_verified and is_verified()):
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        return view(request, *args, **kwargs)

    return wrapper


class _SwaggerView(SpectacularSwaggerSplitView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]
    template_name = "api/swagger_ui.html"


class _RedocView(SpectacularRedocView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]
    template_name = "api/redoc.html"


def _docs(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponse]:
    return csp_update(DOCS_CSP)(_signed_in_staff_only(view))  # type: ignore[return-value]


swagger_ui = _docs(_SwaggerView.as_view(url_name="api:schema"))
redoc = _docs(_RedocView.as_view(url_name="api:schema"))


@csrf_exempt  # any method: a partner's POST to a wrong URL is a 404 too, not a CSRF page
def api_not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any URL under /api/ that names no endpoint: the API's JSON 404, whatever DEBUG is."""
    return api_error_response(404)
