"""Helpers for the partner API tests (no tests here; tests/test_api*.py import these)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from rest_framework.test import APIClient

from safer.api.models import ApiClient, Scope
from safer.api.services import api_client_create
from safer.organisations.models import Organisation
from security_works.models import Measure

# High enough that no test but the rate-limit ones ever meets a limit.
RELAXED_LIMITS = {"api-client": (100_000, 60), "api-ip": (100_000, 60)}


def issue(
    organisation: Organisation,
    *scopes: Scope,
    name: str = "",
    valid_for: dt.timedelta = dt.timedelta(days=30),
) -> tuple[ApiClient, str]:
    issued = api_client_create(
        organisation=organisation,
        name=name or f"Test client {'+'.join(scopes)}",
        scopes=scopes,
        created_by=None,
        valid_for=valid_for,
    )
    return issued.client, issued.token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def api(token: str | None = None) -> APIClient:
    client = APIClient()
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def measure(code: str, unit_cost: str, *, escape: bool = False) -> Measure:
    return Measure.objects.create(
        code=code,
        description=code.replace("-", " ").capitalize(),
        unit="each",
        unit_cost=Decimal(unit_cost),
        effective_from=dt.date(2020, 1, 1),
        affects_escape_routes=escape,
    )


@contextmanager
def in_process_requests() -> Iterator[None]:
    """Let requests sent straight to the WSGI handler use the test's database transaction.

    Django closes the connection at the start and end of each request; its own test client
    turns that off for the request, and so does this, for tools that drive the WSGI app.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def error_shape(body: Any) -> bool:
    """The one error shape of the API."""
    return (
        isinstance(body, dict)
        and isinstance(body.get("message"), str)
        and isinstance(body.get("errors"), dict)
        and all(
            isinstance(v, list) and all(isinstance(m, str) for m in v)
            for v in body["errors"].values()
        )
    )
