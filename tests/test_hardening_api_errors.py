"""Under /api/ every error is the API's JSON error shape, even when no API view ran: a URL that
does not resolve, and Django's own 400/403/500 answers. Pages elsewhere keep the HTML pages."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client, RequestFactory

from safer import views
from safer.api.models import Scope
from tests.api_support import api, error_shape, issue
from tests.factories import PersonaWorld
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db


def _is_error_shape(body: Any) -> bool:
    return error_shape(body) and set(body) == {"message", "errors"} and body["errors"] == {}


@pytest.mark.parametrize(
    "path",
    ["/api/nothing-here/", "/api/v1/", "/api/v1/referrals/not/a/route/", "/api/v2/jobs/"],
)
@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_an_unknown_api_url_is_a_json_404(path: str, method: str) -> None:
    response = getattr(Client(), method)(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert _is_error_shape(response.json())


@pytest.mark.parametrize("path", ["/api/", "/api/nothing-here/", "/api/v1/jobs/x/y/z/"])
def test_an_unknown_api_url_is_a_json_404_even_with_debug_on(settings, path: str) -> None:
    # With DEBUG on, Django answers an unmatched URL with its HTML debug page, not handler404.
    settings.DEBUG = True
    response = Client().post(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert _is_error_shape(response.json())


@pytest.mark.parametrize("query", ["status=", "due_before=", "due_after=", "page=", "page_size="])
def test_an_empty_filter_value_is_refused_not_ignored(world: PersonaWorld, query: str) -> None:
    _, token = issue(world.organisations["contractor"], Scope.JOBS_READ)
    response = api(token).get(f"/api/v1/jobs/?{query}")
    assert response.status_code == 400
    assert query.rstrip("=") in response.json()["errors"]


def test_an_unknown_api_url_is_a_json_404_with_a_valid_token(world: PersonaWorld) -> None:
    _, token = issue(world.organisations["contractor"], Scope.JOBS_READ)
    response = api(token).get("/api/v1/jobs/not-a-job/extra/")
    assert response.status_code == 404
    assert _is_error_shape(response.json())


def test_a_method_an_endpoint_lacks_is_a_json_405(world: PersonaWorld) -> None:
    _, token = issue(world.organisations["contractor"], Scope.JOBS_READ)
    response = api(token).patch("/api/v1/jobs/")
    assert response.status_code == 405
    assert error_shape(response.json())


def test_an_unknown_page_outside_the_api_is_still_the_html_page(world: PersonaWorld) -> None:
    client = sign_in(Client(), world.spa_triage)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    # /apiary/ is not the API, only a path that starts with the same letters.
    assert client.get("/apiary/")["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("handler", "status"),
    [(views.error_400, 400), (views.error_403, 403), (views.error_404, 404)],
)
def test_djangos_error_handlers_answer_json_under_the_api(handler: Any, status: int) -> None:
    request = RequestFactory().get("/api/v1/referrals/")
    request.user = AnonymousUser()
    response = handler(request, Exception("detail never shown"))
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert _is_error_shape(body)
    assert "detail never shown" not in str(body)


def test_a_crash_under_the_api_is_a_json_500() -> None:
    response = views.error_500(RequestFactory().post("/api/v1/referrals/"))
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert _is_error_shape(json.loads(response.content))
