"""The read-replica router (safer.db_routing) and the database settings for a replica and for
PgBouncer's transaction pooling (issue 17, docs/decisions/0013).

The suite's settings define a ``replica`` alias mirroring the test database, and these tests turn
the routing to it on. They run outside a test transaction (``transaction=True``) because inside
one the router keeps reads on the primary, and a second connection could not see uncommitted
rows."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reporting.dashboards import DashboardRequest, dashboard_compute
from reporting.models import DashboardSnapshot
from reporting.periods import Period
from safer.casefile.models import ReferenceCounter
from safer.db_routing import REPLICA, replica_reads
from safer.organisations.models import CommissioningAuthority
from safer.settings.base import databases
from tests.referrals_support import geography

pytestmark = pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])


@pytest.fixture(autouse=True)
def _replica_reads_on(settings: Any) -> None:
    settings.SAFER_REPLICA_READS = True  # off elsewhere in the suite (safer/settings/test.py)


def _queries(alias: str) -> CaptureQueriesContext:
    return CaptureQueriesContext(connections[alias])


def test_reads_in_the_replica_scope_go_to_the_replica_and_writes_to_the_primary() -> None:
    with _queries(REPLICA) as on_replica, _queries(DEFAULT_DB_ALIAS) as on_primary:
        with replica_reads():
            assert ReferenceCounter.objects.filter(prefix="ROUTE").count() == 0
            ReferenceCounter.objects.create(prefix="ROUTE", year=2026)
        assert ReferenceCounter.objects.filter(prefix="ROUTE").exists()  # outside: the primary
    assert [q["sql"] for q in on_replica.captured_queries if "ROUTE" in str(q["sql"])] != []
    assert all("INSERT" not in q["sql"] for q in on_replica.captured_queries)
    primary = [q["sql"] for q in on_primary.captured_queries]
    assert any(sql.startswith("INSERT") and "casefile_referencecounter" in sql for sql in primary)
    assert any(sql.startswith("SELECT") and "casefile_referencecounter" in sql for sql in primary)


def test_inside_a_transaction_reads_stay_on_the_primary() -> None:
    with _queries(REPLICA) as on_replica, replica_reads(), transaction.atomic():
        ReferenceCounter.objects.create(prefix="OWN", year=2026)
        assert ReferenceCounter.objects.filter(prefix="OWN").count() == 1  # its own write
    assert on_replica.captured_queries == []


def test_without_the_scope_nothing_reads_from_the_replica() -> None:
    with _queries(REPLICA) as on_replica:
        list(CommissioningAuthority.objects.all())
        assert router.db_for_read(CommissioningAuthority) == DEFAULT_DB_ALIAS
    assert on_replica.captured_queries == []


def test_the_dashboard_reads_its_figures_from_the_replica_and_stores_on_the_primary() -> None:
    kent = geography()["maidstone"].authority
    request = DashboardRequest(
        authority_ids=(kent.pk,), period=Period.quarter_containing(timezone.localdate())
    )
    with _queries(REPLICA) as on_replica, _queries(DEFAULT_DB_ALIAS) as on_primary:
        dashboard_compute(request)
    assert len(on_replica.captured_queries) > 10  # the figures: every metric family
    writes = [
        q["sql"] for q in on_primary.captured_queries if "reporting_dashboardsnapshot" in q["sql"]
    ]
    assert any(sql.startswith(("INSERT", "UPDATE")) for sql in writes)
    assert not any("reporting_dashboardsnapshot" in q["sql"] for q in on_replica.captured_queries)
    assert DashboardSnapshot.objects.filter(key=request.key[:300]).exists()


def test_only_the_primary_is_migrated() -> None:
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "referrals")
    assert not router.allow_migrate(REPLICA, "referrals")


# --- Settings -----------------------------------------------------------------------------------


def test_a_replica_url_adds_the_replica_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://safer@primary.invalid:5432/safer")
    monkeypatch.delenv("DATABASE_REPLICA_URL", raising=False)
    assert set(databases("production")) == {"default"}
    monkeypatch.setenv("DATABASE_REPLICA_URL", "postgresql://reader@replica.invalid:5432/safer")
    configured = databases("production")
    assert set(configured) == {"default", "replica"}
    assert configured["replica"]["HOST"] == "replica.invalid"
    assert configured["replica"]["USER"] == "reader"
    assert configured["replica"]["CONN_HEALTH_CHECKS"] is True


def test_transaction_pooling_turns_off_server_side_cursors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://safer@pgbouncer.invalid:6432/safer")
    monkeypatch.setenv("DATABASE_REPLICA_URL", "postgresql://safer@pgbouncer.invalid:6432/replica")
    monkeypatch.delenv("DATABASE_TRANSACTION_POOLING", raising=False)
    assert "DISABLE_SERVER_SIDE_CURSORS" not in databases("production")["default"]
    monkeypatch.setenv("DATABASE_TRANSACTION_POOLING", "true")
    configured = databases("production")
    assert configured["default"]["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert configured["replica"]["DISABLE_SERVER_SIDE_CURSORS"] is True
    # Django's psycopg default: no server-side prepared statements, which PgBouncer's
    # transaction mode would hand to the wrong server connection.
    options = configured["default"]["OPTIONS"]
    assert isinstance(options, dict)
    assert "prepare_threshold" not in options
