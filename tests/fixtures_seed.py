"""Put back, after a transactional test, the rows that data migrations seed.

A transactional test (``django_db(transaction=True)``, ``transactional_db``, ``live_server``) ends
with a flush that truncates every table, taking with it what the data migrations created: role
groups, decline reasons, the DASH questionnaire, the default SLA and support policies, the return
templates... Tests that run afterwards expect them. Django's answer, ``serialized_rollback``,
re-saves a snapshot of every row, pghistory event rows included; saving an existing event row is an
UPDATE, which the append-only triggers rightly refuse. So instead, once the flush has run, this
plugin replays the ``RunPython`` operations of the project's own migrations, each against the
historical models of its migration, exactly as ``migrate`` ran them.
"""

from __future__ import annotations

import functools
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from django.apps import apps as global_apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.special import RunPython
from django.db.migrations.state import ProjectState, StateApps
from pytest_django import DjangoDbBlocker
from pytest_django.fixtures import validate_django_db

_RESEEDER = pytest.StashKey["_Reseeder"]()


def _is_transactional(item: pytest.Item) -> bool:
    """The same test pytest-django applies when it picks ``TransactionTestCase``."""
    if {"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())):
        return True
    marker = item.get_closest_marker("django_db")
    if marker is None:
        return False
    transaction, reset_sequences, *_ = validate_django_db(marker)
    return bool(transaction or reset_sequences)


def is_project_app(app_label: str) -> bool:
    # Third-party data migrations (pghistory's SQL function, axes' de-duplication) create no rows
    # a flush removes.
    path = Path(global_apps.get_app_config(app_label).path).resolve()
    base = Path(settings.BASE_DIR).resolve()
    return base in path.parents and "site-packages" not in path.parts


@functools.cache
def _data_migrations() -> list[tuple[str, RunPython, StateApps]]:
    """Each of the project's ``RunPython`` operations with the models of its migration."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    plan: list[tuple[str, str]] = []
    for leaf in sorted(loader.graph.leaf_nodes()):
        plan.extend(key for key in loader.graph.forwards_plan(leaf) if key not in plan)
    state = ProjectState(real_apps=loader.unmigrated_apps)
    found = []
    for key in plan:
        migration = loader.graph.nodes[key]
        for operation in migration.operations:
            if isinstance(operation, RunPython) and is_project_app(migration.app_label):
                # Render a copy: once a state's models are rendered, every later operation
                # re-renders them, which makes walking the whole plan take minutes.
                found.append((migration.app_label, operation, state.clone().apps))
            operation.state_forwards(migration.app_label, state)
    return found


def data_migrations_replay(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """Run the project's ``RunPython`` migration operations again, in migration order."""
    connection = connections[using]
    with connection.schema_editor(atomic=True) as editor:
        for app_label, operation, models in _data_migrations():
            if router.allow_migrate(using, app_label, **operation.hints):
                operation.code(models, editor)


class _Reseeder:
    def __init__(self, blocker: DjangoDbBlocker) -> None:
        self.blocker = blocker
        self.pending = False

    def run(self) -> None:
        if self.pending:
            with self.blocker.unblock():
                data_migrations_replay()
            self.pending = False


@pytest.fixture(scope="session")
def _data_migrations_reseeder(
    django_db_setup: None, django_db_blocker: DjangoDbBlocker
) -> Iterator[_Reseeder]:
    reseeder = _Reseeder(django_db_blocker)
    yield reseeder
    # The last test flushed: seed again before the test database is dropped (or kept by
    # --reuse-db for the next run, which will not migrate it again).
    reseeder.run()


@pytest.fixture(autouse=True)
def _reseed_after_flush(request: pytest.FixtureRequest) -> None:
    if _is_transactional(request.node):
        reseeder = request.getfixturevalue("_data_migrations_reseeder")
        reseeder.pending = True
        request.node.stash[_RESEEDER] = reseeder


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None]:
    # A hook rather than a fixture finaliser: it must run after pytest-django's own finaliser has
    # flushed the database, and fixture teardown order cannot promise that. After the last test
    # the session fixture above has already seeded, before the test database went away.
    try:
        return (yield)
    finally:
        reseeder = item.stash.get(_RESEEDER, None)
        if reseeder is not None:
            reseeder.run()
