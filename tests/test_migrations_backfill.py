"""The migrations that copy a case file's columns onto its records fill the rows already there
(issue 17, ADRs 0017 and 0018): each is unapplied with records in the database, then applied
again, and every record carries its own case file's value, in more than one authority.

Transactional: migrations change the schema, which a test's rolled-back transaction would hide
from the migration executor's own connection state.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.factories import PersonaWorld
from tests.helpers import add_totp_device
from tests.test_permission_matrix import _make_records

BEFORE_THE_COPIES = [
    ("referrals", "0013_reporting_clock_indexes"),
    ("support", "0012_search_case_opened_indexes"),
    ("security_works", "0009_approval_pending_due_index"),
]

# (table, copied column, the case file's column)
COPIES = [
    ("referrals_referral", "authority_id", "authority_id"),
    ("support_adultsupportcase", "household_id", "household_id"),
    ("support_cypcase", "household_id", "household_id"),
    ("security_works_securityjob", "household_id", "household_id"),
]


def _column_exists(table: str, column: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_name = %s AND column_name = %s",
            [table, column],
        )
        return cursor.fetchone() is not None


def _copied_and_differing(table: str, column: str, case_file_column: str) -> tuple[int, int, int]:
    """(rows, rows whose copy differs from their case file's, distinct values copied)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), count(*) FILTER (WHERE t.{column} IS DISTINCT FROM "  # noqa: S608
            f"c.{case_file_column}), count(DISTINCT t.{column}) FROM {table} AS t "
            "JOIN casefile_casefile AS c ON c.id = t.case_file_id"
        )
        rows, differing, distinct = cursor.fetchone()
    return rows, differing, distinct


@pytest.mark.django_db(transaction=True)
def test_copied_case_file_columns_are_filled_on_existing_rows(world: PersonaWorld) -> None:
    add_totp_device(world.outsider)
    _make_records(world)  # referrals, jobs, adult and CYP cases in Kent and Medway
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate(BEFORE_THE_COPIES)
        for table, column, _ in COPIES:
            assert not _column_exists(table, column), (table, column)
        MigrationExecutor(connection).migrate(latest)
    finally:  # whatever happened, leave the schema whole for the tests after this one
        MigrationExecutor(connection).migrate(latest)
    for table, column, case_file_column in COPIES:
        rows, differing, distinct = _copied_and_differing(table, column, case_file_column)
        assert rows >= 3, table  # own, another organisation's, Medway's
        assert differing == 0, table
        assert distinct >= 2, table  # more than one authority, or household
