"""Partner API clients: tokens, scopes, the error shape, rate limits, the audit trail, the docs."""

from __future__ import annotations

import datetime as dt
import io
import uuid

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from safer.access.roles import user_roles
from safer.accounts.roles import Role
from safer.api import throttle
from safer.api.models import ApiCall, ApiClient, Scope
from safer.api.services import api_client_revoke, token_hash
from safer.audit.models import AuthEvent, AuthEventKind
from tests.api_support import RELAXED_LIMITS, api, error_shape, issue
from tests.factories import PersonaWorld
from tests.helpers import sign_in

JOBS = "/api/v1/jobs/"
SCHEMA = "/api/schema/"


@pytest.fixture(autouse=True)
def _relaxed_limits(settings) -> None:
    settings.SAFER_API_RATE_LIMITS = RELAXED_LIMITS


@pytest.fixture
def contractor_org(world: PersonaWorld):
    return world.organisations["contractor"]


# --- Tokens -------------------------------------------------------------------------------------


def test_token_is_stored_only_as_a_hash_and_shown_once(contractor_org) -> None:
    client, token = issue(contractor_org, Scope.JOBS_READ)
    stored = ApiClient.objects.get(pk=client.pk)
    assert token.startswith(f"sfr_{stored.token_prefix}.")
    assert stored.token_hash == token_hash(token)
    secret = token.split(".", 1)[1]
    assert all(secret not in str(value) for value in stored.__dict__.values())


def test_client_acts_through_a_service_account_that_cannot_sign_in(contractor_org) -> None:
    client, _ = issue(contractor_org, Scope.JOBS_READ, Scope.JOBS_UPDATE)
    user = client.user
    assert user.organisation == contractor_org
    assert not user.has_usable_password()
    assert not user.is_staff
    assert user_roles(user) == {Role.CONTRACTOR}
    assert set(user.authorities.all()) == set(contractor_org.authorities.all())


def test_job_scopes_need_a_contractor_organisation(world: PersonaWorld) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        issue(world.organisations["police"], Scope.JOBS_READ)


def test_a_valid_token_authenticates_and_records_last_use(contractor_org) -> None:
    client, token = issue(contractor_org, Scope.JOBS_READ)
    response = api(token).get(JOBS)
    assert response.status_code == 200
    client.refresh_from_db()
    assert client.last_used_at is not None


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer not-a-token",
        "Bearer sfr_000000000000.wrong",
        "Token sfr_abc.def",
        "Bearer a b",
    ],
)
def test_missing_or_bad_token_is_401_with_a_bearer_challenge(contractor_org, header) -> None:
    client = Client()
    headers = {"Authorization": header} if header else {}
    response = client.get(JOBS, headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert error_shape(response.json())


def test_revoked_token_gets_401(contractor_org) -> None:
    client, token = issue(contractor_org, Scope.JOBS_READ)
    assert api(token).get(JOBS).status_code == 200
    assert api_client_revoke(client=client, revoked_by=None)
    response = api(token).get(JOBS)
    assert response.status_code == 401
    assert response.json()["message"] == "The token is not valid, or has expired or been revoked."
    client.user.refresh_from_db()
    assert not client.user.is_active
    assert not api_client_revoke(client=client, revoked_by=None)


def test_expired_token_gets_401(contractor_org) -> None:
    _, token = issue(contractor_org, Scope.JOBS_READ, valid_for=dt.timedelta(days=1))
    assert api(token).get(JOBS).status_code == 200
    with time_machine.travel(timezone.now() + dt.timedelta(days=1, seconds=1), tick=False):
        response = api(token).get(JOBS)
    assert response.status_code == 401
    assert error_shape(response.json())


def test_refused_tokens_are_in_the_audit_trail(contractor_org) -> None:
    client, token = issue(contractor_org, Scope.JOBS_READ)
    api_client_revoke(client=client, revoked_by=None)
    api(token).get(JOBS)
    event = AuthEvent.objects.filter(kind=AuthEventKind.SIGN_IN_FAILED).latest("occurred_at")
    assert event.attempted_username == f"api-token:{client.token_prefix}"
    assert "revoked" in event.detail
    assert event.path == JOBS


def test_token_without_the_scope_is_403(contractor_org) -> None:
    _, token = issue(contractor_org, Scope.JOBS_READ)
    response = api(token).post(f"{JOBS}{uuid.uuid4()}/survey-booking/", {}, format="json")
    assert response.status_code == 403
    assert response.json() == {
        "message": "This token does not have the 'jobs:update' scope.",
        "errors": {},
    }


def test_a_session_cannot_drive_the_endpoints(world: PersonaWorld) -> None:
    """Even a signed-in, verified contractor: the endpoints take tokens only."""
    client = sign_in(Client(), world.contractor)
    assert client.get(JOBS).status_code == 401


def test_client_names_are_unique_among_live_clients(contractor_org) -> None:
    from django.core.exceptions import ValidationError

    client, _ = issue(contractor_org, Scope.JOBS_READ, name="Job system")
    with pytest.raises(ValidationError):
        issue(contractor_org, Scope.JOBS_READ, name="Job system")
    api_client_revoke(client=client, revoked_by=None)
    issue(contractor_org, Scope.JOBS_READ, name="Job system")  # a replacement is fine


# --- The audit trail ----------------------------------------------------------------------------


def test_every_call_is_logged_with_its_client(contractor_org) -> None:
    client, token = issue(contractor_org, Scope.JOBS_READ)
    api(token).get(JOBS)
    api(token).get(f"{JOBS}{uuid.uuid4()}/")
    api().get(JOBS)
    calls = list(ApiCall.objects.order_by("id"))[-3:]
    assert [(c.client_id, c.route, c.status_code) for c in calls] == [
        (client.pk, "api-jobs:list", 200),
        (client.pk, "api-jobs:detail", 404),
        (None, "api-jobs:list", 401),
    ]
    assert calls[0].client_label == client.label
    assert calls[2].client_label == "unauthenticated"


def test_the_call_log_is_append_only(contractor_org) -> None:
    _, token = issue(contractor_org, Scope.JOBS_READ)
    api(token).get(JOBS)
    call = ApiCall.objects.latest("id")
    with pytest.raises(Exception, match=r"append_only|Cannot"), transaction.atomic():
        ApiCall.objects.filter(pk=call.pk).update(status_code=200)
    with pytest.raises(Exception, match=r"append_only|Cannot"), transaction.atomic():
        ApiCall.objects.filter(pk=call.pk).delete()


# --- Rate limits --------------------------------------------------------------------------------


def test_per_client_limit_gives_429_with_retry_after(settings, contractor_org) -> None:
    settings.SAFER_API_RATE_LIMITS = {**RELAXED_LIMITS, "api-client": (3, 60)}
    client, token = issue(contractor_org, Scope.JOBS_READ)
    throttle.reset(throttle.CLIENT, str(client.pk))
    statuses = [api(token).get(JOBS).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = api(token).get(JOBS)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert error_shape(response.json())
    # Another client of the same organisation has its own count.
    _, other = issue(contractor_org, Scope.JOBS_READ, name="Second system")
    assert api(other).get(JOBS).status_code == 200


def test_per_address_limit_applies_before_authentication(settings, db) -> None:
    settings.SAFER_API_RATE_LIMITS = {**RELAXED_LIMITS, "api-ip": (2, 60)}
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"
    throttle.reset(throttle.ADDRESS, address)
    client = Client(REMOTE_ADDR=address)
    statuses = [
        client.get(JOBS, headers={"Authorization": "Bearer guess"}).status_code for _ in range(3)
    ]
    assert statuses == [401, 401, 429]
    assert "Retry-After" in client.get(JOBS)


def test_the_counter_is_atomic_under_concurrency(settings) -> None:
    """Many hits at once: every one is counted (DRF's read-modify-write throttle loses some)."""
    from concurrent.futures import ThreadPoolExecutor

    settings.SAFER_API_RATE_LIMITS = {"api-client": (1000, 60)}
    subject = f"concurrency-{uuid.uuid4()}"
    with ThreadPoolExecutor(max_workers=16) as pool:
        verdicts = list(pool.map(lambda _: throttle.hit(throttle.CLIENT, subject), range(200)))
    assert all(v.allowed for v in verdicts)
    settings.SAFER_API_RATE_LIMITS = {"api-client": (200, 60)}
    assert not throttle.hit(throttle.CLIENT, subject).allowed  # the 201st


def test_limit_fails_open_when_redis_is_down(settings, monkeypatch) -> None:
    import redis as redis_module

    def unavailable() -> None:
        raise redis_module.ConnectionError("down")

    monkeypatch.setattr(throttle, "redis_client", unavailable)
    settings.SAFER_API_RATE_LIMITS = {"api-client": (0, 60)}
    assert throttle.hit(throttle.CLIENT, "anyone").allowed


# --- Creating clients ---------------------------------------------------------------------------


def test_command_prints_the_token_once(contractor_org) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "api_client_create",
        f"--organisation={contractor_org.name}",
        "--name=Scheduling system",
        "--scope=jobs:read",
        "--scope=jobs:update",
        "--days=90",
        stdout=out,
        stderr=err,
    )
    token = out.getvalue().strip()
    client = ApiClient.objects.get(name="Scheduling system")
    assert client.token_hash == token_hash(token)
    assert token not in err.getvalue()
    assert sorted(client.scopes) == ["jobs:read", "jobs:update"]
    assert api(token).get(JOBS).status_code == 200


def test_command_refuses_unknown_organisation(db: None) -> None:
    with pytest.raises(CommandError, match="No organisation"):
        call_command("api_client_create", "--organisation=Nobody", "--name=x", "--scope=jobs:read")


def test_database_refuses_a_client_expiring_before_it_was_created(contractor_org) -> None:
    client, _ = issue(contractor_org, Scope.JOBS_READ)
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiClient.objects.filter(pk=client.pk).update(expires_at=client.created_at)


# --- Schema and documentation -------------------------------------------------------------------


def test_schema_needs_a_token_or_a_verified_session(world: PersonaWorld, contractor_org) -> None:
    assert Client().get(SCHEMA).status_code == 401
    _, token = issue(contractor_org, Scope.JOBS_READ)
    assert api(token).get(SCHEMA).status_code == 200
    staff = sign_in(Client(), world.spa_manager)
    assert staff.get(SCHEMA).status_code == 200
    password_only = Client()
    password_only.force_login(world.spa_manager)
    assert password_only.get(SCHEMA).status_code == 401


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_are_for_signed_in_staff_and_load_nothing_from_elsewhere(
    world: PersonaWorld, url: str
) -> None:
    anonymous = Client().get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")
    password_only = Client()
    password_only.force_login(world.spa_manager)
    assert password_only.get(url).status_code == 302
    response = sign_in(Client(), world.spa_manager).get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "http://" not in html
    assert "https://" not in html
    assert "/static/drf_spectacular_sidecar/" in html
    assert (
        "'unsafe-inline'"
        not in response["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    )


def test_swagger_init_script_is_served_separately(world: PersonaWorld) -> None:
    response = sign_in(Client(), world.spa_manager).get("/api/docs/?script=")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in response.content.decode()


def test_schema_reads_by_staff_are_logged_with_the_person(world: PersonaWorld) -> None:
    sign_in(Client(), world.spa_manager).get(SCHEMA)
    call = ApiCall.objects.latest("id")
    assert call.client_id is None
    assert (
        call.client_label == f"session: {world.spa_manager.full_name} <{world.spa_manager.email}>"
    )


def test_methods_a_view_does_not_have_are_405_in_the_error_shape(contractor_org) -> None:
    _, token = issue(contractor_org, Scope.JOBS_READ)
    response = api(token).delete(JOBS)
    assert response.status_code == 405
    assert error_shape(response.json())
    assert api(token).head(JOBS).status_code == 200
