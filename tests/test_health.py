"""/healthz: 200 while the database and broker answer, 503 while either is down, no details to
anonymous callers (a probe from the internet learns nothing about the deployment)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.db.utils import OperationalError
from django.test import Client

from safer import health
from safer.accounts.models import User
from safer.celery import app
from tests.helpers import sign_in


@pytest.fixture
def dead_broker(tmp_path: Path) -> Iterator[str]:
    """Point the broker at a socket nothing listens on (the check opens a fresh connection)."""
    url = f"redis+socket://{tmp_path / 'nothing-listens-here.sock'}"
    saved = app.conf.broker_url
    app.conf.update(broker_url=url)
    try:
        yield url
    finally:
        app.conf.update(broker_url=saved)


class _BrokenCursor:
    def __enter__(self) -> _BrokenCursor:
        raise OperationalError("server closed the connection unexpectedly")

    def __exit__(self, *exc: object) -> None:
        return None


class _FailingConnection:
    settings_dict = connection.settings_dict

    def cursor(self) -> _BrokenCursor:
        return _BrokenCursor()

    def close_if_unusable_or_obsolete(self) -> None:
        return None


@pytest.fixture
def dead_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every query of the health check fails as it does when PostgreSQL has gone away."""
    monkeypatch.setattr(health, "connection", _FailingConnection())


@pytest.fixture
def staff(db: None) -> User:
    return User.objects.create_user(
        "ops@example.org", "a-long-test-password", full_name="Ops Person", is_staff=True
    )


@pytest.mark.django_db
def test_healthz_is_ok_when_database_and_broker_answer(client: Client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.usefixtures("dead_broker")
def test_healthz_is_503_without_details_when_broker_is_down(client: Client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
    assert b"redis" not in response.content.lower()


@pytest.mark.django_db
@pytest.mark.usefixtures("dead_database")
def test_healthz_is_503_without_details_when_database_is_down(client: Client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}


@pytest.mark.usefixtures("dead_broker")
def test_staff_see_which_dependency_is_down(client: Client, staff: User) -> None:
    sign_in(client, staff)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": True, "broker": False}


def test_broker_problem_is_one_line_naming_the_socket(dead_broker: str) -> None:
    problem = health.broker_problem()

    assert problem is not None
    assert "nothing-listens-here.sock" in problem
    assert "\n" not in problem


@pytest.mark.usefixtures("dead_database")
def test_database_problem_is_one_line_naming_the_cause() -> None:
    problem = health.database_problem()

    assert problem is not None
    assert "server closed the connection unexpectedly" in problem
    assert "\n" not in problem


@pytest.mark.django_db
def test_preflight_passes_against_the_running_services() -> None:
    assert health.preflight(wait=0) is None


@pytest.mark.usefixtures("dead_broker")
def test_preflight_gives_up_after_its_wait() -> None:
    problem = health.preflight(wait=0.2, database=False)

    assert problem is not None
    assert problem.startswith("the broker at ")
