"""The HTTP bench (benchmarks.http_load) works: gunicorn under the bench's pilot settings serves
every persona's pages to users signed in over HTTP, and the partner API's intake stores each
referral once. A few seconds on the tiny dataset; no timing here (`make bench`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from benchmarks.data import TINY, ensure_bench_data
from benchmarks.http_load import HEALTHZ, INTAKE, PAGES, STAFF, SUBMIT, report, run_load
from referrals.models import Referral
from safer.redis_urls import with_db

# Starts the served stack as test_serving does; its processes read what this test commits.
pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

# The served stack's broker and cache here: apart from the bench's own (6, 7) and the other
# served-app tests' (11, 12).
TEST_REDIS_DB = 3


def test_every_page_answers_its_signed_in_persona_and_the_intake_loses_nothing(
    tmp_path: Path,
) -> None:
    assert ensure_bench_data(TINY, verbose=False) is True
    before = Referral.objects.count()
    result = run_load(
        redis_url=with_db(settings.REDIS_URL, TEST_REDIS_DB),
        log=tmp_path / "serve.log",
        users=len(PAGES),  # one user per persona: no wait for a second TOTP step
        duration=6,
        clients=3,
        each=2,
        workers=1,
        threads=4,
    )
    shown = report(result)
    assert result.sign_in_failures == [], shown
    assert result.errors == 0, shown
    staff = {row.page for row in result.rows if row.phase == STAFF}
    assert staff == {HEALTHZ} | {name for pages in PAGES.values() for name, _ in pages}, shown
    assert {row.page for row in result.rows if row.phase == INTAKE} == {HEALTHZ, SUBMIT}
    intake = result.intake
    assert (intake.sent, intake.accepted, intake.stored) == (6, 6, 6), shown
    assert (intake.lost, intake.duplicated) == (0, 0)
    assert Referral.objects.count() == before + 6 + 3  # and one warm-up post per client
    assert all(row.ratio is not None for row in result.rows if row.page != HEALTHZ)
    assert result.left_running == []
    assert result.passed
    assert "| staff pages | access log (auditor) |" in shown
