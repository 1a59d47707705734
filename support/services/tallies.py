"""Rebuilding the caseload tallies (``support.models.tallies``) from the cases, after a load
that wrote cases with the triggers off (the bench builder)."""

from __future__ import annotations

from django.db import connection, transaction

from support.selectors.tallies import COUNTED_FROM_CASES


def caseload_tally_rebuild() -> int:
    """Count every open allocated case afresh into the tallies; returns the rows written.

    The case tables are locked against writes meanwhile (``SHARE``: reads go on), so no case
    moves between the count and the commit; a write waits for it (seconds at a million
    referrals). Safe to run twice."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE support_adultsupportcase, support_cypcase IN SHARE MODE")
        cursor.execute("DELETE FROM support_caseloadtally")  # in the caller's transaction
        cursor.execute(
            "INSERT INTO support_caseloadtally "
            "(provider_id, authority_id, worker_id, kind, measure, due_on, n) "
            f"{COUNTED_FROM_CASES}"
        )
        return cursor.rowcount
