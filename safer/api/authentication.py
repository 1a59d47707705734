"""``Authorization: Bearer sfr_...``: a partner system's token, for the API endpoints only.

Endpoints take tokens and nothing else, so a browser session can never drive them (and CSRF does
not arise). The schema and its documentation pages also accept a signed-in, second-factor
verified session (see ``safer.api.views``).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from safer.accounts.models import User
from safer.api.models import ApiClient
from safer.api.services import ApiClientRefused, api_client_authenticate

REFUSED = "The token is not valid, or has expired or been revoked."
SCHEME = "Bearer"


class ApiTokenAuthentication(BaseAuthentication):
    """Sets ``request.user`` to the client's service account and ``request.auth`` to the client."""

    def authenticate(self, request: Request) -> tuple[User, ApiClient] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != SCHEME.lower().encode():
            return None  # no credentials: NotAuthenticated (401) if the view needs them
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the header as 'Authorization: Bearer <token>'."
            )
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(REFUSED) from None
        try:
            client = api_client_authenticate(token=token, request=request._request)
        except ApiClientRefused:
            raise exceptions.AuthenticationFailed(REFUSED) from None
        return client.user, client

    def authenticate_header(self, request: Request) -> str:
        # Present, so a missing or bad token is a 401 (DRF sends 403 without a challenge).
        return f'{SCHEME} realm="SAFER API"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "partnerToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "A partner token (`sfr_<prefix>.<secret>`), issued once to the partner "
                "organisation by a SAFER administrator. Send `Authorization: Bearer <token>`."
            ),
        }
