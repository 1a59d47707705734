"""Staff pages and the partner API over real HTTP, under gunicorn with production settings, each
page's throughput and p95 next to ``/healthz``'s in the same run (issue 17: ratio <= 3x).

    python -m benchmarks.http_load                        # 60 s of pages, 16 users; 16 x 10 posts
    python -m benchmarks.http_load --duration 20 --check  # exit 1 on any error, loss or duplicate
    python -m benchmarks.http_load --database test_safer_bench_100_county

The bench database (``test_safer_bench``, or ``--database``; built by ``benchmarks.data`` on first
use) is copied to a throw-away database (``CREATE DATABASE … TEMPLATE``, dropped at the end):
page views write access-log rows and the intake writes referrals, and the bench data must not
grow. ``--in-place`` (what ``make bench BENCH_SCALE=…`` uses: a copy of a million-referral
database is 22 GB) serves the database itself and deletes the intake's rows after (``in_place``).
On the copy the bench personas get a password and a confirmed TOTP device (the builder
leaves them without: the in-process bench signs in with ``force_login``). Then ``manage.py serve
--no-worker --no-beat`` starts gunicorn as `make run` does, under ``benchmarks.settings_http``
(``safer.settings.pilot``, DEBUG off, with the partner API's per-address rate limit lifted: every
client here shares one address), with ``--workers`` processes (2 x cores + 1) of ``--threads``.

Two phases, one server:

1. **Staff pages**: ``--users`` threads (16) sign in over HTTP as the bench personas, cycled (the
   sign-in form with its CSRF token, the password, then the TOTP code: ``benchmarks.soak``'s
   ``sign_in``; a persona's second sign-in waits for the next 30-second TOTP step), open each of
   their pages once, then request them round-robin, with no pause, for ``--duration`` seconds.
2. **Partner intake**: ``--clients`` threads (16), each an API client of its own with a bearer
   token, post ``--each`` referrals (``benchmarks.submissions``'s body: fictional people sharing
   54 postcodes, so duplicate matching finds candidates). Every answer must be 201; afterwards
   the rows are counted (none lost) and their references compared (none duplicated).

Throughout both, one more thread requests ``/healthz`` (anonymous; a database cursor and a
broker ping) a few times a second: the floor a page is compared with, under the same load.

Reported per page: requests, req/s, p50, p95, p95 / ``/healthz`` p95 of the same phase (target
<= 3), errors (a 5xx, a redirect — to sign-in or elsewhere —, any status but the expected one, a
failed connection). ``--check`` exits 1 on any error, a failed sign-in, a lost or duplicated
referral; the ratio is reported, not enforced (a loaded two-core machine puts pages over it).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import itertools
import json
import os
import re
import secrets
import statistics
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safer.settings.test")
os.environ.setdefault("SAFER_TEST_DB_SUFFIX", "bench")

COPY_SUFFIX = "_http"
INTAKE_CLIENT = "Bench HTTP client"  # the intake's API clients: "<this> <n> <hex>"
# The served stack's broker (the cache takes the next number): apart from a developer's (0, 1),
# the suite's (2), the soak's (8, 9) and the served-app tests' (11, 12).
HTTP_REDIS_DB = 6
SETTINGS_MODULE = "benchmarks.settings_http"
BENCH_PASSWORD = "bench http load 2026 correct horse"  # noqa: S105 (a throw-away copy's personas)
TARGET_RATIO = 3.0
HEALTHZ = "/healthz"
HEALTHZ_PAUSE = 0.2  # seconds between the floor's requests: a probe, not a 17th user
DETAIL_RECORDS = 20  # referral and job detail pages: rotated over this many records
STAFF, INTAKE = "staff pages", "partner intake"
SUBMIT = "partner API: submit a referral"

# Each persona's pages (issue 17's list: triage queue, referral detail, caseload, team overview,
# job list, job detail, access log, role homes, search). REFERRALS and JOBS stand for detail
# pages over records the persona may open, found in the database before the run.
REFERRALS, JOBS = "{referral}", "{job}"
PAGES: dict[str, list[tuple[str, str]]] = {
    "spa_triage": [
        ("home (triage worker)", "/"),
        ("triage queue (triage worker)", "/referrals/"),
        ("referral detail (triage worker)", REFERRALS),
        ("search by postcode (triage worker)", "/search/?q=zz50+5zz"),
        ("search by name, every survivor (triage worker)", "/search/?q=Survivor"),
    ],
    "spa_manager": [
        ("home (SPA manager)", "/"),
        ("triage queue (SPA manager)", "/referrals/"),
        ("referral detail (SPA manager)", REFERRALS),
    ],
    "contractor": [
        ("home (contractor)", "/"),
        ("job list (contractor)", "/jobs/"),
        ("job detail (contractor)", JOBS),
        ("search by postcode (contractor)", "/search/?q=zz50+5zz"),
    ],
    "adult_support_worker": [
        ("home (adult support worker)", "/"),
        ("caseload (adult support worker)", "/support/"),
        ("search by name (adult support worker)", "/search/?q=Survivor"),
    ],
    "cyp_worker": [
        ("home (CYP worker)", "/"),
        ("caseload (CYP worker)", "/support/"),
    ],
    "provider_manager": [
        ("home (provider manager)", "/"),
        ("team overview (provider manager)", "/support/team/"),
    ],
    "commissioner": [
        ("home (commissioner)", "/"),
        ("reports index (commissioner)", "/reports/"),
    ],
    "auditor": [
        ("home (auditor)", "/"),
        ("access log (auditor)", "/audit/access/"),
    ],
}


# --- The database and the personas -----------------------------------------------------------


@dataclass(frozen=True)
class Login:
    """What ``benchmarks.soak.sign_in`` needs of a person."""

    key: str
    email: str
    password: str
    totp_key_hex: str


def database_url(settings_dict: dict[str, Any]) -> str:
    """The default connection's database as a URL for the served stack's settings."""
    credentials = quote(settings_dict["USER"] or "", safe="")
    if settings_dict["PASSWORD"]:
        credentials += ":" + quote(settings_dict["PASSWORD"], safe="")
    host = str(settings_dict["HOST"] or "")
    name = quote(settings_dict["NAME"], safe="")
    if host.startswith("/"):  # a Unix socket directory (the embedded PostgreSQL)
        return f"postgresql://{credentials}@/{name}?host={quote(host, safe='/')}"
    port = f":{settings_dict['PORT']}" if settings_dict["PORT"] else ""
    return f"postgresql://{credentials}@{host}{port}/{name}"


def prepare_logins() -> dict[str, Login]:
    """A password (hashed as the served settings hash, PBKDF2) and a confirmed TOTP device for
    each bench persona, on the database the default connection points at."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from benchmarks.data import PERSONAS, persona

    logins = {}
    hashed = make_password(BENCH_PASSWORD, hasher=PBKDF2PasswordHasher())
    for key in PERSONAS:
        user = persona(key)
        user.password = hashed
        user.save(update_fields=["password"])
        device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
        logins[key] = Login(key, user.email, BENCH_PASSWORD, device.key)
    return logins


def persona_paths() -> dict[str, list[tuple[str, list[str]]]]:
    """Each persona's pages with their paths: a detail page rotates over records its persona
    may open (the newest referrals its triage scope holds; the contractor's open jobs)."""
    from benchmarks.data import persona
    from referrals.models import Referral
    from security_works.models import SecurityJob

    def referrals(key: str) -> list[str]:
        ids = Referral.objects.visible_to(persona(key)).order_by("-received_at")
        return [f"/referrals/{pk}/" for pk in ids.values_list("pk", flat=True)[:DETAIL_RECORDS]]

    jobs = SecurityJob.objects.visible_to(persona("contractor")).open().order_by("-allocated_at")
    job_paths = [f"/jobs/{pk}/" for pk in jobs.values_list("pk", flat=True)[:DETAIL_RECORDS]]
    walks: dict[str, list[tuple[str, list[str]]]] = {}
    for key, pages in PAGES.items():
        walks[key] = []
        for name, path in pages:
            paths = referrals(key) if path == REFERRALS else job_paths if path == JOBS else [path]
            if not paths:
                raise SystemExit(f"{name}: the bench data holds no record for it")
            walks[key].append((name, paths))
    return walks


# --- Measuring ----------------------------------------------------------------------------------


@dataclass
class Tally:
    """Latencies and errors by (phase, row), from every thread."""

    latencies_ms: dict[tuple[str, str], list[float]] = field(
        default_factory=lambda: defaultdict(list)
    )
    errors: dict[tuple[str, str], Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, phase: str, row: str, milliseconds: float, error: str | None) -> None:
        with self.lock:
            self.latencies_ms[(phase, row)].append(milliseconds)
            if error:
                self.errors[(phase, row)][error] += 1


def timed_get(
    session: requests.Session, url: str, *, expected: int = 200
) -> tuple[float, str | None, requests.Response | None]:
    """(milliseconds, the error or None, the response). No redirect is followed: a page that
    sends its reader elsewhere (sign-in above all) is an error here."""
    began = time.perf_counter()
    try:
        response = session.get(url, timeout=120, allow_redirects=False)
    except requests.RequestException as failure:
        reason = re.sub(r"0x[0-9a-f]+", "", str(failure))[:90]
        return (time.perf_counter() - began) * 1000, f"{type(failure).__name__}: {reason}", None
    elapsed = (time.perf_counter() - began) * 1000
    if response.status_code != expected:
        where = response.headers.get("Location", "")
        return elapsed, f"{response.status_code}{' to ' + where if where else ''}", response
    return elapsed, None, response


class Healthz(threading.Thread):
    """The floor: anonymous ``/healthz`` requests a few times a second, tallied under whichever
    phase is running."""

    def __init__(self, base_url: str, tally: Tally) -> None:
        super().__init__(daemon=True, name="healthz")
        self.base_url = base_url
        self.tally = tally
        self.phase = STAFF
        self.stopping = threading.Event()

    def run(self) -> None:
        session = requests.Session()
        while not self.stopping.is_set():
            phase = self.phase
            milliseconds, error, _ = timed_get(session, f"{self.base_url}{HEALTHZ}")
            self.tally.add(phase, HEALTHZ, milliseconds, error)
            self.stopping.wait(HEALTHZ_PAUSE)


class StaffUser(threading.Thread):
    """Signs in, opens each of its pages once (not counted), then requests them in turn."""

    def __init__(
        self,
        number: int,
        login: Login,
        pages: list[tuple[str, list[str]]],
        base_url: str,
        steps: Any,
        tally: Tally,
    ) -> None:
        super().__init__(daemon=True, name=f"user-{number}-{login.key}")
        self.number = number
        self.login = login
        self.pages = pages
        self.base_url = base_url
        self.steps = steps
        self.tally = tally
        self.ready = threading.Event()
        self.working = threading.Event()
        self.stopping = threading.Event()
        self.failed: str | None = None

    def run(self) -> None:
        from benchmarks.soak import sign_in

        try:
            session = sign_in(self.base_url, self.login, self.steps)
            for name, paths in self.pages:
                _, refused, _ = timed_get(session, f"{self.base_url}{paths[0]}")
                if refused:
                    raise RuntimeError(f"{name} {paths[0]} answered {refused}")
        except Exception as failure:  # a sign-in or a page that fails is the run's first finding
            self.failed = f"{self.login.key}: {type(failure).__name__}: {failure}"
            return
        finally:
            self.ready.set()
        self.working.wait()
        # Users of one persona start at different pages and records.
        turns = itertools.count(self.number)
        while not self.stopping.is_set():
            turn = next(turns)
            name, paths = self.pages[turn % len(self.pages)]
            path = paths[(turn // len(self.pages)) % len(paths)]
            milliseconds, error, _ = timed_get(session, f"{self.base_url}{path}")
            self.tally.add(STAFF, name, milliseconds, error)


@dataclass
class Intake:
    sent: int = 0
    accepted: int = 0
    stored: int = 0
    distinct_references: int = 0
    first_refusal: str = ""

    @property
    def lost(self) -> int:
        return self.sent - self.stored

    @property
    def duplicated(self) -> int:
        return self.stored - self.distinct_references


def run_intake(base_url: str, tally: Tally, *, clients: int, each: int) -> tuple[Intake, float]:
    """``clients`` partner systems posting ``each`` referrals at once; (what was stored, the
    seconds the posting took)."""
    from benchmarks.submissions import _body, partner_token, stored_referrals

    tokens = [partner_token(name=f"{INTAKE_CLIENT} {n}") for n in range(clients)]
    run = uuid.uuid4().hex[:6]
    references: list[str] = []
    refusals: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def post(session: requests.Session, body: dict[str, Any]) -> requests.Response:
        return session.post(
            f"{base_url}/api/v1/referrals/",
            json=body,
            headers={"Idempotency-Key": str(uuid.uuid4())},
            timeout=120,
            allow_redirects=False,
        )

    def client(index: int) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {tokens[index]}"
        # A connection and a first request, untimed (as benchmarks.submissions warms up).
        with contextlib.suppress(requests.RequestException):
            post(session, _body(10**6 + index, run))
        start.wait()
        for n in range(index * each, (index + 1) * each):
            began = time.perf_counter()
            error = None
            try:
                response = post(session, _body(n, run))
                if response.status_code == 201:
                    with lock:
                        references.append(str(response.json().get("reference")))
                else:
                    error = str(response.status_code)
                    with lock:
                        refusals.append(f"{response.status_code} {response.text[:300]}")
            except requests.RequestException as failure:
                error = type(failure).__name__
            tally.add(INTAKE, SUBMIT, (time.perf_counter() - began) * 1000, error)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    stored, distinct = stored_referrals(run=run, references=references)
    intake = Intake(
        sent=clients * each,
        accepted=len(references),
        stored=stored,
        distinct_references=distinct,
        first_refusal=refusals[0] if refusals else "",
    )
    return intake, seconds


# --- The run ------------------------------------------------------------------------------------


@dataclass
class Row:
    phase: str
    page: str
    requests: int
    per_second: float
    p50_ms: float
    p95_ms: float
    ratio: float | None  # p95 / the phase's /healthz p95
    errors: int
    error_kinds: dict[str, int]


@dataclass
class Result:
    date: str
    database: str
    machine: str
    workers: int
    threads: int
    users: int
    personas: int
    sign_in_failures: list[str]
    staff_seconds: float
    intake_seconds: float
    rows: list[Row]
    intake: Intake
    left_running: list[str]

    @property
    def errors(self) -> int:
        return sum(row.errors for row in self.rows)

    @property
    def passed(self) -> bool:
        intake = self.intake
        return (
            self.errors == 0
            and not self.sign_in_failures
            and intake.accepted == intake.sent
            and intake.lost == 0
            and intake.duplicated == 0
            and not self.left_running
        )


def run_load(
    *,
    redis_url: str,
    log: Path,
    users: int,
    duration: float,
    clients: int,
    each: int,
    workers: int,
    threads: int,
) -> Result:
    """Both phases against the database the default connection points at (committed rows: the
    served processes read it), served by a stack started here and stopped at the end."""
    from django.db import connection

    from benchmarks.data import PERSONAS
    from benchmarks.soak import TotpSteps, machine, start_stack, stop_stack

    logins = prepare_logins()
    walks = persona_paths()
    url = database_url(connection.settings_dict)
    connection.close()  # the served processes' connections are the ones measured
    stack = start_stack(
        url,
        redis_url,
        log,
        arguments=("--no-worker", "--no-beat"),
        settings_module=SETTINGS_MODULE,
        environment={
            "SAFER_WEB_WORKERS": str(workers),
            "SAFER_WEB_THREADS": str(threads),
            "SECRET_KEY": secrets.token_urlsafe(64),  # sessions live as long as this run
            "DATABASE_REPLICA_URL": "",
        },
    )
    tally = Tally()
    keys = list(PERSONAS)
    left_running: list[str] = []
    try:
        steps = TotpSteps()
        people = [
            StaffUser(
                n, logins[keys[n % len(keys)]], walks[keys[n % len(keys)]], stack.url, steps, tally
            )
            for n in range(users)
        ]
        print(
            f"Signing in {len(people)} users as {min(users, len(keys))} personas ...",
            file=sys.stderr,
        )
        for person in people:
            person.start()
        for person in people:
            person.ready.wait(timeout=300)
        failures = [p.failed for p in people if p.failed]
        probe = Healthz(stack.url, tally)
        probe.start()
        print(f"Staff pages for {duration:g} s ...", file=sys.stderr)
        began = time.perf_counter()
        for person in people:
            person.working.set()
        time.sleep(duration)
        for person in people:
            person.stopping.set()
        for person in people:
            person.join(timeout=180)
        staff_seconds = time.perf_counter() - began
        probe.phase = INTAKE
        print(f"Partner intake: {clients} clients x {each} referrals ...", file=sys.stderr)
        intake, intake_seconds = run_intake(stack.url, tally, clients=clients, each=each)
        probe.stopping.set()
        probe.join(timeout=130)
    finally:
        left_running = stop_stack(stack)
        _flush_redis(redis_url)
    return Result(
        date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        database=str(connection.settings_dict["NAME"]),
        machine=machine(),
        workers=workers,
        threads=threads,
        users=users,
        personas=min(users, len(keys)),
        sign_in_failures=failures,
        staff_seconds=staff_seconds,
        intake_seconds=intake_seconds,
        rows=rows(tally, {STAFF: staff_seconds, INTAKE: intake_seconds}),
        intake=intake,
        left_running=left_running,
    )


def in_place(load: Callable[[], Result]) -> Result:
    """Run on the bench database itself, then delete what the intake stored: every API client
    the run made (``run_intake``'s "Bench HTTP client …") with its referrals, case files and
    history (``benchmarks.submissions.submissions_delete``). The staff's page views leave their
    access-log rows (a few thousand next to the ten million of a million-referral build) and
    sessions; the personas keep the password and TOTP device ``prepare_logins`` gave them."""
    from benchmarks.submissions import submissions_delete
    from safer.api.models import ApiClient

    try:
        return load()
    finally:
        for client in ApiClient.objects.filter(name__startswith=f"{INTAKE_CLIENT} "):
            submissions_delete(client=client)


def _flush_redis(redis_url: str) -> None:
    """The served stack's broker (the intake's notifications, with no worker to run them) and
    cache: this run's own Redis databases."""
    import redis

    from safer.redis_urls import redis_db, with_db

    for number in (redis_db(redis_url), redis_db(redis_url) + 1):
        client = redis.Redis.from_url(with_db(redis_url, number))
        try:
            client.flushdb()
        finally:
            client.close()


def percentile_ms(values: list[float], fraction: float) -> float:
    from benchmarks.soak import percentile

    return round(percentile(values, fraction), 1)


def rows(tally: Tally, seconds: dict[str, float]) -> list[Row]:
    """The table: each phase's /healthz first, then its pages in the order walked."""
    order = [HEALTHZ, *(name for pages in PAGES.values() for name, _ in pages), SUBMIT]
    result = []
    for phase in (STAFF, INTAKE):
        floor = percentile_ms(tally.latencies_ms.get((phase, HEALTHZ), []), 0.95)
        for name in order:
            latencies = tally.latencies_ms.get((phase, name))
            if not latencies:
                continue
            errors = tally.errors.get((phase, name), Counter())
            p95 = percentile_ms(latencies, 0.95)
            result.append(
                Row(
                    phase=phase,
                    page=name,
                    requests=len(latencies),
                    per_second=round(len(latencies) / seconds[phase], 1) if seconds[phase] else 0,
                    p50_ms=round(statistics.median(latencies), 1),
                    p95_ms=p95,
                    ratio=round(p95 / floor, 1) if floor and name != HEALTHZ else None,
                    errors=sum(errors.values()),
                    error_kinds=dict(errors.most_common(3)),
                )
            )
    return result


def report(result: Result) -> str:
    intake = result.intake
    lines = [
        f"Over HTTP: gunicorn {result.workers} processes x {result.threads} threads "
        f"({SETTINGS_MODULE}, DEBUG off), database {result.database}, {result.date}",
        f"Machine: {result.machine}",
        f"Staff pages: {result.users} signed-in users ({result.personas} bench personas), no "
        f"pause, {result.staff_seconds:.0f} s. Partner intake: {intake.sent} referrals, "
        f"{result.intake_seconds:.1f} s.",
        "",
        "| phase | page | requests | req/s | p50 ms | p95 ms | p95 / /healthz p95 (<= 3) "
        "| errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in result.rows:
        if row.ratio is None:
            ratio = "(the floor)" if row.page == HEALTHZ else ""
        else:
            ratio = f"{row.ratio:g} ({'ok' if row.ratio <= TARGET_RATIO else 'OVER'})"
        kinds = "; ".join(f"{k} x{v}" for k, v in row.error_kinds.items())
        lines.append(
            f"| {row.phase} | {row.page} | {row.requests} | {row.per_second:g} | "
            f"{row.p50_ms:g} | {row.p95_ms:g} | {ratio} | {row.errors}"
            f"{' (' + kinds + ')' if kinds else ''} |"
        )
    total = sum(r.requests for r in result.rows if r.phase == STAFF and r.page != HEALTHZ)
    lines += [
        "",
        f"Staff pages in all: {total} requests, "
        f"{total / result.staff_seconds if result.staff_seconds else 0:.1f} req/s.",
        f"Partner intake: {intake.accepted} of {intake.sent} answered 201, "
        f"{intake.sent / result.intake_seconds if result.intake_seconds else 0:.1f}/s; "
        f"stored {intake.stored}, lost {intake.lost}, duplicated {intake.duplicated}."
        + (f" First refusal: {intake.first_refusal}" if intake.first_refusal else ""),
    ]
    if result.workers * result.threads <= result.users:
        lines.append(
            f"Note: {result.workers * result.threads} server threads for {result.users} users and "
            "the /healthz probe: requests queue for a thread, /healthz with them, so the ratio "
            "measures that queue rather than each page's cost."
        )
    if result.sign_in_failures:
        lines.append("Failed to sign in or open a page: " + "; ".join(result.sign_in_failures))
    lines.append("Left running after Ctrl-C: " + (", ".join(result.left_running) or "nothing"))
    lines.append(
        f"Checks (no error, none lost or duplicated): {'met' if result.passed else 'NOT met'}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database", help="the bench database (default: test_safer_bench)")
    parser.add_argument("--duration", type=float, default=60, help="seconds of staff pages (60)")
    parser.add_argument("--users", type=int, default=16, help="signed-in staff at once (16)")
    parser.add_argument("--clients", type=int, default=16, help="partner-API clients (16)")
    parser.add_argument("--each", type=int, default=10, help="referrals per client (10)")
    cores = os.cpu_count() or 1
    parser.add_argument(
        "--workers", type=int, default=2 * cores + 1, help=f"gunicorn processes ({2 * cores + 1})"
    )
    parser.add_argument("--threads", type=int, default=4, help="threads per process (4)")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 on an error, loss or duplicate"
    )
    parser.add_argument("--json", type=Path, help="also write the result here")
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="serve the bench database itself, not a copy (a million referrals: a copy is 22 GB);"
        " the intake's rows are deleted after, the page views' access-log rows stay",
    )
    options = parser.parse_args(argv)

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    from benchmarks.data import ensure_bench_data
    from benchmarks.run import mirror_replica
    from benchmarks.submissions import bench_copy
    from safer.redis_urls import with_db

    if options.database:
        connection.settings_dict.setdefault("TEST", {})["NAME"] = options.database
    setup_test_environment()
    # serialize=False: the test runner's copy of every row (for TransactionTestCase) is of no
    # use here, and over the bench data it takes minutes.
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True, serialize=False)
    mirror_replica()
    ensure_bench_data()
    log = Path(settings.VAR_DIR) / "bench" / "http_load.log"
    served = "" if options.in_place else "a copy of "
    print(f"Serving {served}{connection.settings_dict['NAME']} (log: {log}) ...", file=sys.stderr)
    load = functools.partial(
        run_load,
        redis_url=with_db(settings.REDIS_URL, HTTP_REDIS_DB),
        log=log,
        users=options.users,
        duration=options.duration,
        clients=options.clients,
        each=options.each,
        workers=options.workers,
        threads=options.threads,
    )
    if options.in_place:
        result = in_place(load)
    else:
        with bench_copy(COPY_SUFFIX):
            result = load()
    print(report(result))
    if options.json:
        options.json.write_text(json.dumps(asdict(result), indent=2) + "\n", encoding="utf-8")
    return 1 if options.check and not result.passed else 0


if __name__ == "__main__":
    sys.exit(main())
