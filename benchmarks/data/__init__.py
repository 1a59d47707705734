"""A county-sized bench dataset: about two financial years of SAFER's work in Kent and Medway.

``ensure_bench_data()`` builds it once in the bench database (``test_safer_bench``) and skips the
build when the marker row says it is already there: the 13 districts, the providers and their
teams, the staff (one sign-in per persona the targets use), ~3,000 referrals with their triage
decisions, ~1,500 security jobs with surveyed and fitted measures at every stage, ~2,000 adult
and ~1,200 CYP support cases with contacts, sessions, outcome measures and Goal-Based Outcome
scores, the grants that make them visible, and a year of access-log rows. All fictional.

Write path, and why
-------------------
Reference data (authorities, districts, organisations, teams, contracts, the schedule of rates)
is upserted with ``get_or_create``; staff get their roles through ``user_role_grant``, the
service the application uses. Everything with volume is written with ``COPY`` (``_bulk``),
the plain indexes of those tables built once at the end (``secondary_indexes_deferred``): the
services take one referral, job or case at a time through locks, reference counters, matching,
case events and the outbox (whose tasks run eagerly under the test settings, sending mail), so
about 10,000 service calls would take the best part of an hour. The bulk rows carry the same
fields the services would store (deadlines from ``safer.workdays``, ``first_contact_at`` stamped
at the first successful contact, the contractor's address grant only while its job is open), so
the pages and reports read them exactly as they read real records. pghistory's insert triggers
still fire, as they would in production, all in one history context of the build's own.

Times are relative to the moment of the build: referrals arrive from 1 April of the previous
financial year until today, so the previous year is complete (the annual return and the
quarterly update have a full year) and the current one has an open triage queue and open
caseloads. Rebuild with ``python -m benchmarks.run --rebuild-data`` when the data has aged or
``DATA_VERSION`` changes.
"""

from __future__ import annotations

import json
import uuid

from django.apps import apps
from django.db import connection, models, transaction
from django.utils import timezone

from benchmarks.data.base import (
    COUNTY,
    DATA_VERSION,
    MARKER_PREFIX,
    PERSONAS,
    TINY,
    Persona,
    Volume,
    persona,
    secondary_indexes_deferred,
)
from benchmarks.data.records import RecordsWriter
from benchmarks.data.referrals import ReferralWriter
from benchmarks.data.security import SecurityWriter
from benchmarks.data.support import SupportWriter
from safer.casefile.models import ReferenceCounter
from support.services.due import next_due_fill

__all__ = [
    "COUNTY",
    "DATA_VERSION",
    "PERSONAS",
    "TINY",
    "Builder",
    "Persona",
    "Volume",
    "bench_data_present",
    "ensure_bench_data",
    "history_context_for_bulk_rows",
    "persona",
]


class Builder(ReferralWriter, SecurityWriter, SupportWriter, RecordsWriter):
    def build(self) -> dict[str, int]:
        self.reference_data()
        self.staff()
        history_context_for_bulk_rows(source="bench_build")
        households = self.referrals()
        self.security_jobs(households)
        self.adult_cases(households)
        self.cyp_cases(households)
        self.close_case_files(households)
        self.grants()
        self.case_events(households)
        self.audit_rows()
        self.report_runs()
        return self.counts


def history_context_for_bulk_rows(*, source: str) -> None:
    """Give the rest of the build's transaction one pghistory context (of ``source``) and
    an empty pgtrigger ignore list. ``COPY`` does not pass through the execute wrapper that sets
    them for the ORM's statements, and while either is unset every history trigger reads it
    inside an exception block that catches the error: two subtransactions per row, seven times
    the cost of the row's insert (2.9 s against 0.4 s for 15,000 session logs; issue 17)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pgtrigger.ignore', '{}', true),"
            " set_config('pghistory.context_id', %s, true),"
            " set_config('pghistory.context_metadata', %s, true)",
            [str(uuid.uuid4()), json.dumps({"user": None, "source": source})],
        )


def bench_tables() -> list[type[models.Model]]:
    """The tables the build fills in volume, and their pghistory event tables: the case file,
    referral, security, support, audit and reporting apps' models."""
    labels = {"casefile", "referrals", "security_works", "support", "audit", "reporting"}
    return [m for m in apps.get_models() if m._meta.app_label in labels]


def bench_data_present() -> bool:
    return ReferenceCounter.objects.filter(prefix=MARKER_PREFIX, year=DATA_VERSION).exists()


def ensure_bench_data(volume: Volume = COUNTY, *, verbose: bool = True) -> bool:
    """Build the dataset unless it is there already. True when it built something.

    One transaction: a build that fails leaves nothing behind, and the marker row is written
    last, so "marker present" means "every row present".
    """
    if bench_data_present():
        return False
    if ReferenceCounter.objects.filter(prefix=MARKER_PREFIX).exists():
        raise SystemExit(
            "The bench database holds an older bench dataset: run with --rebuild-data."
        )
    began = timezone.now()
    with transaction.atomic():
        with secondary_indexes_deferred(bench_tables()):
            counts = Builder(volume, now=began).build()
        # The services store each case's next due date; the bulk rows get it in one UPDATE
        # per case kind, once the indexes its clocks are read through are built again.
        next_due_fill()
        ReferenceCounter.objects.create(prefix=MARKER_PREFIX, year=DATA_VERSION, last_number=1)
    if verbose:
        took = (timezone.now() - began).total_seconds()
        summary = ", ".join(f"{n:,} {name}" for name, n in counts.items())
        print(f"Bench data built in {took:.0f} s: {summary}.")
    return True
