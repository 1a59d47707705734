"""The submission-throughput bench (benchmarks.submissions) works: the referrals of its
concurrent clients are all stored, each with its own reference. No timing here (`make bench`)."""

from __future__ import annotations

import pytest
from django.conf import settings

from benchmarks.submissions import measure_submissions, report
from referrals.models import Referral
from safer.celery import app
from tests.referrals_support import geography

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
