"""Submission throughput: partner-API referrals per second with N concurrent clients (issue 17).

    python -m benchmarks.submissions                    # 16 clients in one process, 20 each
    python -m benchmarks.submissions --processes 2      # the 16 clients in 2 processes x 8
    python -m benchmarks.submissions --scale 1000000 --processes 2 --check

Each client is a thread with its own API client (DRF's test client: the whole request path, the
bearer token, the serializer, the idempotency record, the service with its duplicate matching,
the outbox row; no network and no gunicorn) and its own database connection. Every submission is
a different fictional person at a "Bench Example Road" address in one of 54 Maidstone postcodes,
so duplicate matching finds candidates among them.

It submits into the bench database itself, as a new API client made for the run, and deletes
exactly that client's rows afterwards in one transaction (``submissions_delete``), then counts
the tables it wrote to check they hold what they held before: a copy of the database
(``--copy``, ``CREATE DATABASE … TEMPLATE``) is 22 GB at a million referrals.

It reports the throughput (submissions / wall time), p50/p95/max latency, and checks that every
submission got 201, that the referrals stored are exactly those sent (none lost) and that their
references are all different (none duplicated). With ``--processes 1`` the clients share one
Python process (one GIL): a lower bound for the same database under several gunicorn
processes, which ``--processes N`` (each a fresh interpreter with clients/N threads) stands for.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import datetime as dt
import os
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from benchmarks.run import add_scale_arguments

if TYPE_CHECKING:
    from safer.api.models import ApiClient
    from safer.api.services import IssuedToken

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safer.settings.test")
os.environ.setdefault("SAFER_TEST_DB_SUFFIX", "bench")

TARGET_PER_SECOND = 50
PARTNER = "Bench Partner Police"
COPY_SUFFIX = "_submissions"


@dataclass(frozen=True)
class SubmissionResult:
    clients: int
    sent: int
    accepted: int
    stored: int
    distinct_references: int
    seconds: float
    p50_ms: float
    p95_ms: float
    max_ms: float
    first_refusal: str = ""
    processes: int = 1

    @property
    def per_second(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    @property
    def lost(self) -> int:
        return self.sent - self.stored

    @property
    def duplicated(self) -> int:
        return self.stored - self.distinct_references

    @property
    def ok(self) -> bool:
        return (
            self.per_second >= TARGET_PER_SECOND
            and self.accepted == self.sent
            and self.lost == 0
            and self.duplicated == 0
        )


def _body(n: int, run: str) -> dict[str, Any]:
    from referrals.api.serializers import REFERRAL_EXAMPLE

    body = copy.deepcopy(REFERRAL_EXAMPLE.value)
    body["survivor"]["given_name"] = f"Load{run}{n}"
    body["survivor"]["family_name"] = "Survivor"
    body["survivor"]["date_of_birth"] = f"19{70 + n % 30}-{1 + n % 12:02d}-{1 + n % 28:02d}"
    body["address"]["address_line_1"] = f"{1 + n % 240} Bench Example Road"
    # Maidstone's (the example's district) outward codes, 54 postcodes: submissions share them,
    # so the address branch of duplicate matching finds candidates among them.
    body["address"]["postcode"] = f"ME{14 + n % 3} {1 + n % 9}{'AB'[n % 2]}B"
    return body


def measure_submissions(
    *, clients: int, each: int, processes: int = 1, issued: IssuedToken | None = None
) -> SubmissionResult:
    """Submit ``clients`` x ``each`` referrals from ``clients`` threads at once (in ``processes``
    processes), with no rate limit, as a new API client of the bench's partner agency; the
    rows stay (``submissions_delete`` removes a run's). Each request relays its outbox row to
    the broker (``send_task``, as in production, whatever ``task_always_eager`` says); no
    worker runs them here, and the caller purges the test broker afterwards."""
    issued = issued or partner_client(name="Bench submissions")
    with _no_rate_limit():
        return _measure(
            clients=clients,
            each=each,
            processes=processes,
            token=issued.token,
            run=uuid.uuid4().hex[:6],
        )


def partner_client(*, name: str) -> IssuedToken:
    """A new API client of the bench's partner agency (created once), with the submit scope,
    for every authority: what a police force's case system would hold."""
    from safer.api.models import Scope
    from safer.api.services import api_client_create
    from safer.organisations.models import CommissioningAuthority, Organisation, OrganisationKind

    organisation, _ = Organisation.objects.get_or_create(
        name=PARTNER, defaults={"kind": OrganisationKind.REFERRING_AGENCY}
    )
    organisation.authorities.set(CommissioningAuthority.objects.all())
    return api_client_create(
        organisation=organisation,
        name=f"{name} {uuid.uuid4().hex[:8]}",
        scopes=(Scope.REFERRALS_SUBMIT,),
        created_by=None,
        valid_for=dt.timedelta(days=1),
    )


def partner_token(*, name: str) -> str:
    """``partner_client``'s bearer token."""
    return partner_client(name=name).token


# What one run leaves, deleted by ``submissions_delete``: (table, the rows of the run), in an
# order that needs no foreign key (they are not checked: see there). ``_r`` holds the run's
# referrals (id, case file, household), ``_pgh`` the pghistory contexts of its requests.
_RUN_ROWS: tuple[tuple[str, str], ...] = (
    (
        "referrals_referralmatchevent",
        "pgh_obj_id IN (SELECT id FROM referrals_referralmatch m "
        "WHERE m.referral_id IN (SELECT id FROM _r) OR m.candidate_id IN (SELECT id FROM _r))",
    ),
    (
        "referrals_referralmatch",
        "referral_id IN (SELECT id FROM _r) OR candidate_id IN (SELECT id FROM _r)",
    ),
    ("referrals_referral_children_for_support", "referral_id IN (SELECT id FROM _r)"),
    ("outbox_outboxmessage", "kwargs->>'referral_id' IN (SELECT id::text FROM _r)"),
    ("referrals_referralevent", "pgh_obj_id IN (SELECT id FROM _r)"),
    ("referrals_referral", "id IN (SELECT id FROM _r)"),
    ("casefile_caseevent", "case_file_id IN (SELECT case_file_id FROM _r)"),
    ("casefile_perpetratorevent", "case_file_id IN (SELECT case_file_id FROM _r)"),
    ("casefile_perpetrator", "case_file_id IN (SELECT case_file_id FROM _r)"),
    ("casefile_safecontactrulesevent", "case_file_id IN (SELECT case_file_id FROM _r)"),
    ("casefile_safecontactrules", "case_file_id IN (SELECT case_file_id FROM _r)"),
    ("casefile_casefileuserobjectpermission", "content_object_id IN (SELECT case_file_id FROM _r)"),
    (
        "casefile_casefilegroupobjectpermission",
        "content_object_id IN (SELECT case_file_id FROM _r)",
    ),
    ("casefile_casefileevent", "pgh_obj_id IN (SELECT case_file_id FROM _r)"),
    ("casefile_casefile", "id IN (SELECT case_file_id FROM _r)"),
    ("casefile_personevent", "household_id IN (SELECT household_id FROM _r)"),
    ("casefile_person", "household_id IN (SELECT household_id FROM _r)"),
    ("casefile_householdevent", "pgh_obj_id IN (SELECT household_id FROM _r)"),
    ("casefile_household", "id IN (SELECT household_id FROM _r)"),
    ("pghistory_context", "id IN (SELECT id FROM _pgh)"),
    ("api_idempotencyrecord", "client_id = %(client)s"),
    ("api_apicall", "client_id = %(client)s"),
    ("api_apiclient", "id = %(client)s"),
    ("accounts_accountevent", "user_id = %(user)s"),
    ("accounts_user_authorities", "user_id = %(user)s"),
    ("accounts_user_groups", "user_id = %(user)s"),
    ("accounts_user", "id = %(user)s"),
)

# pghistory's event tables among them (not the timeline or the account log).
_HISTORY = frozenset(
    t
    for t, _ in _RUN_ROWS
    if t.endswith("event") and t.split("_")[1] not in ("caseevent", "accountevent")
)
_PARTNER_ROWS: tuple[tuple[str, str], ...] = (
    ("organisations_organisation_authorities", "organisation_id = %(org)s"),
    ("organisations_organisation_districts_covered", "organisation_id = %(org)s"),
    ("organisations_organisation", "id = %(org)s"),
)


def submissions_delete(
    *, client: ApiClient, organisation: bool = False, counter_year: int | None = None
) -> dict[str, int]:
    """Delete everything a run of ``client`` stored, in one transaction: its referrals and
    their case files (households, people, safe-contact rules, perpetrators, timeline), matches,
    outbox rows, history rows and their contexts, idempotency records, API call log, and the
    client with its user (and, with ``organisation``, the partner agency, when the run created
    it; with ``counter_year``, that year's reference base row, when the run's first submission
    wrote it). Returns the rows deleted per table.

    So a run can submit into a kept bench database (a million referrals: a copy would take
    22 GB) and leave it as it was, bar the reference sequence's numbers it used (gaps are
    allowed: ``reference_next``). The history and audit tables refuse deletes by trigger, so
    triggers (and with them foreign-key checks) are off for this transaction only
    (``session_replication_role``, as a superuser: the bench's local server); the rows are
    chosen by the run's client, every one of which it created, and ``_RUN_ROWS`` deletes
    children before parents."""
    from django.db import connection, transaction

    params = {
        "client": client.pk,
        "user": client.user_id,
        "org": client.organisation_id,
        "year": counter_year,
    }
    deleted: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "CREATE TEMP TABLE _r ON COMMIT DROP AS SELECT r.id, r.case_file_id, c.household_id "
            "FROM referrals_referral r JOIN casefile_casefile c ON c.id = r.case_file_id "
            "WHERE r.referrer_user_id = %(user)s",
            params,
        )
        union = " UNION ".join(
            f"SELECT pgh_context_id FROM {table} WHERE {where}"  # noqa: S608
            for table, where in _RUN_ROWS
            if table in _HISTORY
        )
        cursor.execute(
            f"CREATE TEMP TABLE _pgh ON COMMIT DROP AS SELECT pgh_context_id AS id FROM ({union}) "  # noqa: S608
            "e WHERE pgh_context_id IS NOT NULL",
            params,
        )
        counter = (("casefile_referencecounter", "prefix = 'SAFER' AND year = %(year)s"),)
        rows = (
            _RUN_ROWS + (_PARTNER_ROWS if organisation else ()) + (counter if counter_year else ())
        )
        for table, where in rows:
            cursor.execute(f"DELETE FROM {table} WHERE {where}", params)  # noqa: S608
            deleted[table] = cursor.rowcount
    return deleted


def stored_referrals(*, run: str, references: list[str]) -> tuple[int, int]:
    """(rows stored, distinct references) among the referrals a run sent: its survivors' given
    names start with ``Load<run>`` (see ``_body``)."""
    from referrals.models import Referral

    stored = Referral.objects.filter(
        case_file__survivor__given_name__startswith=f"Load{run}", reference__in=references
    )
    return stored.count(), len(set(stored.values_list("reference", flat=True)))


@contextlib.contextmanager
def bench_copy(suffix: str) -> Iterator[str]:
    """A throw-away copy of the bench database (``CREATE DATABASE … TEMPLATE``) for a run that
    writes, so the bench data does not grow; the default connection points at it inside the
    block, and it is dropped afterwards. Yields its name."""
    from django.db import connection

    from benchmarks.run import mirror_replica

    bench = str(connection.settings_dict["NAME"])
    scratch = f"{bench}{suffix}"
    connection.close()
    with connection._nodb_cursor() as cursor:  # the maintenance database: no one on the template
        cursor.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
        cursor.execute(f'CREATE DATABASE "{scratch}" TEMPLATE "{bench}"')
    try:
        connection.settings_dict["NAME"] = scratch
        mirror_replica()
        yield scratch
    finally:
        connection.close()
        connection.settings_dict["NAME"] = bench
        mirror_replica()
        with connection._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


Answer = tuple[float, int, dict[str, Any]]  # (milliseconds, status, body)


def _post_all(
    *,
    token: str,
    run: str,
    indices: range,
    each: int,
    warmed: Callable[[], object] = lambda: None,
) -> tuple[list[Answer], float]:
    """Threads ``indices`` (each its own API client and connection) post ``each`` referrals at
    once after one untimed warm-up each (``warmed`` is called once they all have, before they
    start); (their answers, the seconds from the start to the last answer)."""
    from django.db import connection
    from rest_framework.test import APIClient

    answers: list[Answer] = []
    lock = threading.Lock()
    ready = threading.Barrier(len(indices) + 1)
    start = threading.Barrier(len(indices) + 1)

    def client(index: int) -> None:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        bodies = [_body(index * each + i, run) for i in range(each)]
        try:
            api.post(
                "/api/v1/referrals/",
                _body(10**6 + index, run),
                format="json",
                HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
            )  # warm-up: connection, imports
            ready.wait()
            start.wait()
            for body in bodies:
                began = time.perf_counter()
                response = api.post(
                    "/api/v1/referrals/",
                    body,
                    format="json",
                    HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
                )
                elapsed = time.perf_counter() - began
                with lock:
                    answers.append((elapsed * 1000, response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in indices]
    for thread in threads:
        thread.start()
    ready.wait()
    warmed()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return answers, time.perf_counter() - began


def _process_main(
    database: str,
    token: str,
    run: str,
    indices: range,
    each: int,
    ready: Any,
    results: Any,
) -> None:
    """One process of a multi-process run (``spawn``: a fresh interpreter, its own GIL): set
    Django up on the same database, wait for every process to be ready, post, send the answers
    back."""
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    from benchmarks.run import mirror_replica

    setup_test_environment()
    connection.settings_dict["NAME"] = database
    mirror_replica()
    with _no_rate_limit():
        answers, _ = _post_all(
            token=token, run=run, indices=indices, each=each, warmed=lambda: ready.wait(600)
        )
    results.put(answers)


@contextlib.contextmanager
def _no_rate_limit() -> Iterator[None]:
    from django.test import override_settings

    limits = {"api-client": (10**9, 60), "api-ip": (10**9, 60)}
    with override_settings(SAFER_API_RATE_LIMITS=limits):
        yield


def _measure(*, clients: int, each: int, processes: int, token: str, run: str) -> SubmissionResult:
    if processes <= 1:
        answers, seconds = _post_all(token=token, run=run, indices=range(clients), each=each)
    else:
        answers, seconds = _post_in_processes(
            clients=clients, each=each, processes=processes, token=token, run=run
        )
    references = [str(body.get("reference")) for _, status, body in answers if status == 201]
    stored, distinct = stored_referrals(run=run, references=references)
    ordered = sorted(ms for ms, _, _ in answers)
    return SubmissionResult(
        clients=clients,
        sent=clients * each,
        accepted=len(references),
        stored=stored,
        distinct_references=distinct,
        seconds=seconds,
        p50_ms=statistics.median(ordered) if ordered else 0.0,
        p95_ms=ordered[int(0.95 * (len(ordered) - 1))] if ordered else 0.0,
        max_ms=ordered[-1] if ordered else 0.0,
        first_refusal=next((f"{st} {body}" for _, st, body in answers if st != 201), ""),
        processes=max(processes, 1),
    )


def _post_in_processes(
    *, clients: int, each: int, processes: int, token: str, run: str
) -> tuple[list[Answer], float]:
    """The clients split over ``processes`` processes (as gunicorn's workers split requests),
    started together once each has set up and warmed up; the wall time is from that start to
    the last process's last answer."""
    import multiprocessing

    from django.db import connection

    context = multiprocessing.get_context("spawn")
    database = str(connection.settings_dict["NAME"])
    ready = context.Barrier(processes + 1)
    results = context.Queue()
    bounds = [clients * p // processes for p in range(processes + 1)]
    workers = [
        context.Process(
            target=_process_main,
            args=(database, token, run, range(bounds[p], bounds[p + 1]), each, ready, results),
        )
        for p in range(processes)
    ]
    for worker in workers:
        worker.start()
    try:
        ready.wait(timeout=600)
        began = time.perf_counter()
        answers: list[Answer] = []
        for _ in workers:
            answers.extend(results.get(timeout=3600))
        seconds = time.perf_counter() - began
    finally:
        for worker in workers:
            worker.join(timeout=60)
            if worker.is_alive():
                worker.terminate()
    return answers, seconds


def report(result: SubmissionResult) -> str:
    verdict = "ok" if result.per_second >= TARGET_PER_SECOND else "under"
    return "\n".join(
        [
            "| processes | clients | submissions | seconds | per second (target >= 50) | p50 ms "
            "| p95 ms | max ms | lost | duplicated |",
            "|---|---|---|---|---|---|---|---|---|---|",
            f"| {result.processes} | {result.clients} | {result.sent} | {result.seconds:.1f} | "
            f"{result.per_second:.1f} ({verdict})"
            f" | {result.p50_ms:.0f} | {result.p95_ms:.0f} | {result.max_ms:.0f} | {result.lost} "
            f"| {result.duplicated} |",
            f"Answered 201: {result.accepted} of {result.sent}."
            + (f" First refusal: {result.first_refusal[:300]}" if result.first_refusal else ""),
        ]
    )


def table_counts() -> dict[str, int]:
    """Exact row counts of the tables a run writes (``_RUN_ROWS``)."""
    from django.db import connection

    with connection.cursor() as cursor:
        counts = {}
        for table, _ in _RUN_ROWS:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=16, help="concurrent API clients")
    parser.add_argument("--each", type=int, default=20, help="submissions per client")
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="processes the clients are split over (each with its own GIL), as gunicorn workers",
    )
    parser.add_argument(
        "--copy",
        action="store_true",
        help="submit into a throw-away copy of the bench database (CREATE DATABASE … TEMPLATE) "
        "instead of into it with the run's rows deleted afterwards; never at a million (22 GB)",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 below the target or on loss")
    add_scale_arguments(parser)  # --scale/--shape: which bench database (benchmarks.run's)
    options = parser.parse_args(argv)

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from benchmarks.data import ensure_bench_data
    from benchmarks.run import mirror_replica, use_bench_scale
    from safer.casefile.models import ReferenceCounter
    from safer.celery import app
    from safer.organisations.models import Organisation

    setup_test_environment()
    # serialize=False: the test runner's copy of every row is of no use here (minutes at 1M).
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True, serialize=False)
    mirror_replica()
    ensure_bench_data()
    use_bench_scale(options)
    bench = str(connection.settings_dict["NAME"])
    run = {"clients": options.clients, "each": options.each, "processes": options.processes}
    try:
        if options.copy:
            with bench_copy(COPY_SUFFIX) as scratch:
                result = measure_submissions(**run)
            where = f"database {scratch} (a copy of {bench})"
        else:
            before = table_counts()
            new_partner = not Organisation.objects.filter(name=PARTNER).exists()
            year = timezone.localdate().year
            new_counter = not ReferenceCounter.objects.filter(prefix="SAFER", year=year).exists()
            issued = partner_client(name="Bench submissions")
            try:
                result = measure_submissions(**run, issued=issued)
            finally:
                loaded = _load()
                deleted = submissions_delete(
                    client=issued.client,
                    organisation=new_partner,
                    counter_year=year if new_counter else None,
                )
            after = table_counts()
            changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
            where = (
                f"database {bench} (in place: {sum(deleted.values()):,} rows of the run deleted "
                + (f"but tables changed {changed})" if changed else "after, every table as before)")
            )
    finally:
        app.control.purge()  # the notifications the requests relayed to the test broker
    print(
        f"Partner-API submissions, {where}, {os.cpu_count()} CPUs, load average "
        f"{loaded if not options.copy else _load()} (at the end of the run)"
    )
    print(report(result))
    return 0 if (result.ok or not options.check) else 1


if __name__ == "__main__":
    sys.exit(main())
