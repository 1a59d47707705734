"""Submission throughput: partner-API referrals per second with N concurrent clients (issue 17).

    python -m benchmarks.submissions                    # 16 clients, 20 submissions each
    python -m benchmarks.submissions --each 40 --check  # exit 1 below 50/s or on a loss

Each client is a thread with its own API client (DRF's test client: the whole request path, the
bearer token, the serializer, the idempotency record, the service with its duplicate matching,
the outbox row; no network and no gunicorn) and its own database connection. Every submission is
a different fictional person at a "Bench Example Road" address in one of 54 Maidstone postcodes,
so duplicate matching finds candidates among them. It runs on a throw-away copy of the bench
database (``CREATE DATABASE … TEMPLATE``), dropped at the end, so the bench data does not grow.

It reports the throughput (submissions / wall time), p50/p95/max latency, and checks that every
submission got 201, that the referrals stored are exactly those sent (none lost) and that their
references are all different (none duplicated). The clients share one Python process (the GIL),
so this is a lower bound for the same database under several gunicorn processes.
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
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from benchmarks.run import add_scale_arguments

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safer.settings.test")
os.environ.setdefault("SAFER_TEST_DB_SUFFIX", "bench")

TARGET_PER_SECOND = 50
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


def measure_submissions(*, clients: int, each: int) -> SubmissionResult:
    """Submit ``clients`` x ``each`` referrals from ``clients`` threads at once, with no rate
    limit. Each request relays its outbox rows to the broker (``send_task``, as in production,
    whatever ``task_always_eager`` says); no worker runs them here, and the caller purges the
    test broker afterwards."""
    from django.test import override_settings

    limits = {"api-client": (10**9, 60), "api-ip": (10**9, 60)}
    with override_settings(SAFER_API_RATE_LIMITS=limits):
        return _measure(clients=clients, each=each)


def partner_token(*, name: str) -> str:
    """A bearer token for a new API client of the bench's partner agency (created once), with the
    submit scope, for every authority: what a police force's case system would hold."""
    from safer.api.models import Scope
    from safer.api.services import api_client_create
    from safer.organisations.models import CommissioningAuthority, Organisation, OrganisationKind

    organisation, _ = Organisation.objects.get_or_create(
        name="Bench Partner Police", defaults={"kind": OrganisationKind.REFERRING_AGENCY}
    )
    organisation.authorities.set(CommissioningAuthority.objects.all())
    return api_client_create(
        organisation=organisation,
        name=f"{name} {uuid.uuid4().hex[:8]}",
        scopes=(Scope.REFERRALS_SUBMIT,),
        created_by=None,
        valid_for=dt.timedelta(days=1),
    ).token


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


def _measure(*, clients: int, each: int) -> SubmissionResult:
    from django.db import connection
    from rest_framework.test import APIClient

    token = partner_token(name="Bench submissions")
    run = uuid.uuid4().hex[:6]
    latencies: list[float] = []
    answers: list[tuple[int, dict[str, Any]]] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client(index: int) -> None:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        bodies = [_body(index * each + i, run) for i in range(each)]
        api.post(
            "/api/v1/referrals/",
            _body(10**6 + index, run),
            format="json",
            HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
        )  # warm-up: connection, imports
        start.wait()
        try:
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
                    latencies.append(elapsed * 1000)
                    answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    references = [str(body.get("reference")) for status, body in answers if status == 201]
    stored, distinct = stored_referrals(run=run, references=references)
    ordered = sorted(latencies)
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
        first_refusal=next((f"{st} {body}" for st, body in answers if st != 201), ""),
    )


def report(result: SubmissionResult) -> str:
    verdict = "ok" if result.per_second >= TARGET_PER_SECOND else "under"
    return "\n".join(
        [
            "| clients | submissions | seconds | per second (target >= 50) | p50 ms | p95 ms "
            "| max ms | lost | duplicated |",
            "|---|---|---|---|---|---|---|---|---|",
            f"| {result.clients} | {result.sent} | {result.seconds:.1f} | "
            f"{result.per_second:.1f} ({verdict})"
            f" | {result.p50_ms:.0f} | {result.p95_ms:.0f} | {result.max_ms:.0f} | {result.lost} "
            f"| {result.duplicated} |",
            f"Answered 201: {result.accepted} of {result.sent}."
            + (f" First refusal: {result.first_refusal[:300]}" if result.first_refusal else ""),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=16, help="concurrent API clients")
    parser.add_argument("--each", type=int, default=20, help="submissions per client")
    parser.add_argument("--check", action="store_true", help="exit 1 below the target or on loss")
    add_scale_arguments(parser)  # --scale/--shape: which bench database (benchmarks.run's)
    options = parser.parse_args(argv)

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    from benchmarks.data import ensure_bench_data
    from benchmarks.run import mirror_replica, use_bench_scale

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True)
    mirror_replica()
    ensure_bench_data()
    use_bench_scale(options)
    bench = str(connection.settings_dict["NAME"])
    with bench_copy(COPY_SUFFIX) as scratch:
        result = measure_submissions(clients=options.clients, each=options.each)
    print(
        f"Partner-API submissions, database {scratch} (a copy of {bench}), "
        f"{os.cpu_count()} CPUs, load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    print(report(result))
    return 0 if (result.ok or not options.check) else 1


if __name__ == "__main__":
    sys.exit(main())
