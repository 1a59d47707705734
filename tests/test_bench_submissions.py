"""The submission-throughput bench (benchmarks.submissions) works: the referrals of its
concurrent clients are all stored, each with its own reference. No timing here (`make bench`)."""

from __future__ import annotations

import pytest
from django.conf import settings

from benchmarks.submissions import measure_submissions, report
from referrals.models import Referral
from safer.celery import app
from tests.referrals_support import geography, make_referral

# The clients are threads with their own connections: they must see committed rows.
pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_clients_lose_nothing_and_duplicate_no_reference() -> None:
    geography()
    limits = getattr(settings, "SAFER_API_RATE_LIMITS", None)
    try:
        result = measure_submissions(clients=3, each=3)
    finally:
        app.control.purge()  # the notifications it published to the test broker
    assert (result.sent, result.accepted, result.stored) == (9, 9, 9)
    assert result.lost == 0
    assert result.duplicated == 0
    assert result.distinct_references == 9
    assert result.seconds > 0
    assert 0 < result.p50_ms <= result.p95_ms <= result.max_ms
    assert Referral.objects.count() == 12  # and one warm-up submission per client
    # What it changed for its run is put back.
    assert getattr(settings, "SAFER_API_RATE_LIMITS", None) == limits
    assert "| 3 | 9 |" in report(result)


def test_a_run_deleted_afterwards_leaves_every_table_as_it_was() -> None:
    """So the bench can submit into a kept database (a million referrals) rather than a copy."""
    from django.db import connection

    from benchmarks.submissions import partner_client, submissions_delete, table_counts

    def every_table() -> dict[str, int]:
        counts = {}
        with connection.cursor() as cursor:
            for table in connection.introspection.table_names(cursor):
                cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608
                counts[table] = cursor.fetchone()[0]
        return counts

    geography()
    make_referral(given_name="Earlier")  # someone else's referral, which must stay
    before = every_table()
    issued = partner_client(name="Bench submissions")
    try:
        result = measure_submissions(clients=2, each=2, issued=issued)
    finally:
        app.control.purge()
    assert (result.sent, result.stored, result.lost, result.duplicated) == (4, 4, 0, 0)
    assert Referral.objects.count() == 1 + 6  # and one warm-up per client
    # The earlier referral wrote the year's reference base row: it stays.
    deleted = submissions_delete(client=issued.client, organisation=True)
    assert deleted["referrals_referral"] == 6
    assert every_table() == before
    assert set(table_counts()) <= set(before)
