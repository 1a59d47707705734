"""Rebuilding the caseload tallies (``support.models.tallies``) from the cases, after a load
that wrote cases with the triggers off (the bench builder)."""

from __future__ import annotations

import logging

from django.db import connection, transaction

from support.selectors.tallies import COUNTED_FROM_CASES, caseload_tally_drift

logger = logging.getLogger(__name__)


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


def caseload_tally_repair() -> int:
    """Rebuild the tallies if any differs from its cases, logging a warning; returns how many
    rows differed (0: nothing written). The trigger keeps them, so drift means something wrote
    the cases with triggers off (a bulk load, a restore) and did not rebuild. Safe to run
    twice: a second run finds nothing."""
    drift = caseload_tally_drift()
    if not drift:
        return 0
    logger.warning(
        "%d caseload tally row(s) differed from the cases (first: %s %s %s worker %s, tallied "
        "%d, counted %d); rebuilt",
        len(drift),
        drift[0].kind,
        drift[0].measure,
        drift[0].due_on or "",
        drift[0].worker_id,
        drift[0].tallied,
        drift[0].counted,
    )
    caseload_tally_rebuild()
    return len(drift)
