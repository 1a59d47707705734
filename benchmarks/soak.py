"""`make soak` (and the end of `make bench`): signed-in demo users working their pages against the
`make run` stack for ten minutes, over real HTTP.

It starts exactly what `make run` starts (``manage.py serve --migrate --seed-demo`` under
``safer.settings.pilot``: gunicorn, a Celery worker, beat), on a database of its own (``safer_soak``
on the embedded PostgreSQL, or on the server DATABASE_URL names; migrated and seeded on first use
and kept) and its own Redis database numbers, so a developer's data and queues are not touched.
Then ``--users`` threads (20) each sign in as a demo persona from ``safer.demo.LOGINS`` (cycled
when there are fewer: a new persona in the demo data joins the next run without a change here),
with the password and the TOTP code computed from the demo secret, and work their pages: each
starts from the service's own sections, keeps those its role may open, and follows the links it
finds there, with a pause between requests (``--think``, seconds on average).

Reported: requests; errors (a 5xx, a redirect to sign-in, a failed connection; target 0); links a
page offered that answered 4xx to the person it was shown to (with the persona: a page offering
what its reader may not open); latency p50/p95/max; the peak number of PostgreSQL connections by
process (target: at most web workers x threads + worker processes + beat); and the resident
memory of each process at the start of the load and at the end. The stack is stopped with Ctrl-C
(SIGINT) at the end, and the soak checks nothing it started is left running.

    python -m benchmarks.soak                  # 10 minutes, 20 users
    python -m benchmarks.soak --duration 60    # a quick look
    python -m benchmarks.soak --check          # exit 1 on any error or too many connections
"""

from __future__ import annotations

import argparse
import contextlib
import html
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psutil
import requests

BASE_DIR = Path(__file__).resolve().parent.parent
SOAK_DATABASE = "safer_soak"
# The soak stack's broker (the cache takes the next number): apart from a developer's (0, 1),
# the suite's (2) and the served-app tests' (11, 12).
SOAK_REDIS_DB = 8
START_SECONDS = 20 * 60  # the first run migrates and seeds a new database
# Where a persona's work starts: each keeps the sections its role may open (200), drops the rest.
SECTIONS = ["/", "/referrals/", "/cases/", "/jobs/", "/support/", "/reports/", "/audit/"]
# Links never followed: leaving (Exit this page, sign out), downloads that build files, the admin
# and API documentation (not a persona's daily work), static files.
SKIP = re.compile(
    r"^/(exit/|accounts/|admin/|api/|static/)|export|download|\.(csv|xlsx|pdf)(\?|$)", re.I
)
LINK = re.compile(r'href="(/[^"#]*)"')
MAX_PAGES_PER_USER = 150
MIB = 1024 * 1024


# --- The stack --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def soak_urls() -> tuple[str, str, bool]:
    """(DATABASE_URL, REDIS_URL) of the soak, and whether this process started embedded servers.

    The soak database is created when missing; `serve --migrate --seed-demo` fills it.
    """
    from safer import embedded
    from safer.redis_urls import with_db

    started = False
    server_url = os.environ.get("DATABASE_URL")
    if not server_url:
        started = not embedded.postgres_running()
        server_url = embedded.postgres_url()
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        started = started or not embedded.REDIS_SOCKET.exists()
        redis_url = embedded.redis_url()
    parts = urlsplit(server_url)
    database_url = urlunsplit(parts._replace(path=f"/{SOAK_DATABASE}"))
    _create_database(urlunsplit(parts._replace(path="/postgres")))
    return database_url, with_db(redis_url, SOAK_REDIS_DB), started


def _create_database(maintenance_url: str) -> None:
    import psycopg

    with psycopg.connect(_libpq(maintenance_url), autocommit=True) as db:
        if not db.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [SOAK_DATABASE]
        ).fetchone():
            db.execute(f'CREATE DATABASE "{SOAK_DATABASE}"')


def _libpq(url: str) -> str:
    # libpq understands postgresql:// URLs, including ?host=/socket/dir.
    return url.replace("postgres://", "postgresql://", 1)


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    url: str
    log: Path


def start_stack(
    database_url: str,
    redis_url: str,
    log: Path,
    *,
    arguments: Sequence[str] = ("--migrate", "--seed-demo"),
    environment: Mapping[str, str] | None = None,
    settings_module: str = "safer.settings.pilot",
) -> Stack:
    """``manage.py serve`` with ``arguments`` (the soak's: migrate and seed the demo; the HTTP
    bench's: no worker, no beat) on a free port, once it answers."""
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PYTHONUNBUFFERED": "1",
        **(environment or {}),
    }
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "serve", *arguments, f"--port={port}"],
            cwd=BASE_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    stack = Stack(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the stack exited with {process.returncode}; see {log}")
        if b"SAFER is running at" in log.read_bytes():
            return stack
        time.sleep(1)
    stop_stack(stack)
    raise SystemExit(f"the stack did not start within {START_SECONDS} s; see {log}")


def stop_stack(stack: Stack) -> list[str]:
    """Ctrl-C, as a person would; the processes still running afterwards."""
    everything = _tree(stack.process.pid)
    stack.process.send_signal(signal.SIGINT)
    try:
        stack.process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        stack.process.kill()
    time.sleep(1)
    return [f"{p.pid} {' '.join(p.cmdline()[:4])}" for p in everything if _alive(p)]


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _tree(pid: int) -> list[psutil.Process]:
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    return []


# --- Processes and their memory -------------------------------------------------------------------


def role_of(process: psutil.Process) -> str:
    command = " ".join(process.cmdline())
    parent = process.parent()
    parent_command = " ".join(parent.cmdline()) if parent else ""
    if "gunicorn" in command:
        return "web worker" if "gunicorn" in parent_command else "web master"
    if "celery" in command and " beat" in command:
        return "beat"
    if "celery" in command and " worker" in command:
        return "worker pool" if "celery" in parent_command else "worker (main)"
    if "manage.py serve" in command:
        return "coordinator"
    return "other"


def processes_by_role(stack: Stack) -> dict[int, str]:
    roles = {}
    for process in _tree(stack.process.pid):
        with contextlib.suppress(psutil.Error):
            roles[process.pid] = role_of(process)
    return roles


def rss_mib(pid: int) -> float | None:
    try:
        return psutil.Process(pid).memory_info().rss / MIB
    except psutil.Error:
        return None


# --- Database connections ----------------------------------------------------------------------


class ConnectionSampler(threading.Thread):
    """Counts the soak database's connections once a second, by application_name (the settings
    name them safer-web, safer-worker, safer-beat), and keeps the peaks."""

    def __init__(self, database_url: str) -> None:
        super().__init__(daemon=True)
        self.database_url = database_url
        self.peak_total = 0
        self.peak_by_name: Counter[str] = Counter()
        self.samples = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(
            _libpq(self.database_url), autocommit=True, application_name="soak-sampler"
        ) as db:
            while not self.stopping.wait(1.0):
                rows = db.execute(
                    "SELECT application_name, count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    " GROUP BY application_name"
                ).fetchall()
                by_name = Counter({str(name or "?"): int(count) for name, count in rows})
                self.peak_total = max(self.peak_total, sum(by_name.values()))
                for name, count in by_name.items():
                    self.peak_by_name[name] = max(self.peak_by_name[name], count)
                self.samples += 1


# --- The users --------------------------------------------------------------------------------


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    # The server failing: a 5xx, no answer, a session lost. Target: none.
    errors: Counter[str] = field(default_factory=Counter)
    # A link on a page that led to a 4xx for the person it was shown to: not the server falling
    # over, but a page offering what its reader may not open (reported, to be fixed).
    dead_links: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, milliseconds: float, error: str | None, dead_link: str | None = None) -> None:
        with self.lock:
            self.latencies_ms.append(milliseconds)
            if error:
                self.errors[error] += 1
            if dead_link:
                self.dead_links[dead_link] += 1


class TotpSteps:
    """django-otp refuses a code already used in its 30-second step: the second sign-in of the
    same persona waits for the next step."""

    def __init__(self) -> None:
        self.last: dict[str, int] = {}
        self.lock = threading.Lock()

    def code(self, email: str, key_hex: str) -> str:
        from django_otp.oath import TOTP

        with self.lock:
            while True:
                totp = TOTP(bytes.fromhex(key_hex), step=30, t0=0, digits=6, drift=0)
                step = totp.t()
                if self.last.get(email) != step:
                    self.last[email] = step
                    return f"{totp.token():06d}"
                time.sleep(0.5)


def _csrf(page: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not match:
        raise RuntimeError("no CSRF token on the sign-in page")
    return match.group(1)


def sign_in(base_url: str, login: Any, steps: TotpSteps) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base_url}/accounts/login/", timeout=60)
    response = session.post(
        f"{base_url}/accounts/login/",
        data={
            "email": login.email,
            "password": login.password,
            "csrfmiddlewaretoken": _csrf(page.text),
        },
        timeout=60,
    )
    if "/accounts/two-factor/verify/" not in response.url:
        raise RuntimeError(f"{login.email}: the password was refused ({response.status_code})")
    response = session.post(
        response.url,
        data={
            "code": steps.code(login.email, login.totp_key_hex),
            "csrfmiddlewaretoken": _csrf(response.text),
        },
        timeout=60,
    )
    if "/accounts/" in urlsplit(response.url).path or response.status_code != 200:
        raise RuntimeError(f"{login.email}: the TOTP code was refused ({response.status_code})")
    return session


class User(threading.Thread):
    def __init__(
        self, number: int, login: Any, base_url: str, steps: TotpSteps, tally: Tally, think: float
    ) -> None:
        super().__init__(daemon=True, name=f"user-{number}-{login.key}")
        self.login = login
        self.base_url = base_url
        self.steps = steps
        self.tally = tally
        self.think = think
        self.random = random.Random(number)  # the load's shape, not security
        self.pages: list[str] = []
        self.seen: set[str] = set()
        self.ready = threading.Event()
        self.working = threading.Event()
        self.stopping = threading.Event()
        self.failed: str | None = None

    def run(self) -> None:
        try:
            self.session = sign_in(self.base_url, self.login, self.steps)
            for section in SECTIONS:  # which sections this role may open (not counted)
                response = self.session.get(f"{self.base_url}{section}", timeout=60)
                if response.status_code == 200 and "/accounts/login" not in response.url:
                    self._learn(section, response.text)
        except Exception as error:  # a sign-in that fails is the soak's first finding
            self.failed = f"{type(error).__name__}: {error}"
            return
        finally:
            self.ready.set()
        self.working.wait()
        while not self.stopping.is_set():
            path = self.random.choice(self.pages)
            self._visit(path)
            self.stopping.wait(self.random.uniform(0.5, 1.5) * self.think)

    def _learn(self, path: str, page: str) -> None:
        if path not in self.seen:
            self.seen.add(path)
            self.pages.append(path)
        for link in LINK.findall(page):
            link = html.unescape(link)
            if len(self.seen) >= MAX_PAGES_PER_USER or link in self.seen or SKIP.search(link):
                continue
            self.seen.add(link)
            self.pages.append(link)

    def _visit(self, path: str) -> None:
        began = time.perf_counter()
        error = dead_link = None
        try:
            response = self.session.get(f"{self.base_url}{path}", timeout=60)
            if "/accounts/login" in response.url:
                error = "signed out (sent to sign in)"
            elif response.status_code >= 500:
                error = f"{response.status_code} {_shape(path)}"
            elif response.status_code >= 400:
                dead_link = f"{response.status_code} {_shape(path)} ({self.login.key})"
            elif "text/html" in response.headers.get("Content-Type", ""):
                self._learn(path, response.text)
        except requests.RequestException as failure:
            reason = re.sub(r"0x[0-9a-f]+", "", str(failure))[:90]
            error = f"{type(failure).__name__} {_shape(path)}: {reason}"
        self.tally.add((time.perf_counter() - began) * 1000, error, dead_link)


def _shape(path: str) -> str:
    """A path with its ids as {id}, so errors group by page."""
    path = path.split("?")[0]
    return re.sub(r"/(\d+|[0-9a-f]{8}-[0-9a-f-]{27})(?=/|$)", "/{id}", path)


# --- The run ----------------------------------------------------------------------------------


@dataclass
class ProcessMemory:
    pid: int
    role: str
    start_mib: float
    end_mib: float | None
    peak_mib: float


@dataclass
class Result:
    date: str
    duration_s: int
    users: int
    personas: int
    sign_in_failures: list[str]
    requests: int
    errors: int
    error_kinds: dict[str, int]
    dead_links: int
    dead_link_kinds: dict[str, int]
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    max_ms: float
    peak_connections: int
    peak_connections_by_process: dict[str, int]
    connection_bound: int
    memory: list[ProcessMemory]
    left_running: list[str]
    machine: str

    @property
    def passed(self) -> bool:
        return (
            self.errors == 0
            and not self.sign_in_failures
            and self.peak_connections <= self.connection_bound
            and not self.left_running
        )


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def machine() -> str:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {psutil.virtual_memory().total / 2**30:.0f} GiB, "
        f"Python {sys.version.split()[0]}, load average at the end {load[0]:.1f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=int, default=600, help="seconds of load (600)")
    parser.add_argument("--users", type=int, default=20, help="signed-in users at once (20)")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between requests")
    parser.add_argument("--check", action="store_true", help="exit 1 unless every target is met")
    parser.add_argument("--json", type=Path, help="also write the result here")
    options = parser.parse_args(argv)

    os.environ["DJANGO_SETTINGS_MODULE"] = "safer.settings.pilot"
    database_url, redis_url, started_embedded = soak_urls()
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = redis_url
    import django

    django.setup()
    from django.conf import settings

    from safer.demo import LOGINS

    log = Path(settings.VAR_DIR) / "soak" / "serve.log"
    print(f"Starting the make run stack on {SOAK_DATABASE} (log: {log}) ...", file=sys.stderr)
    stack = start_stack(database_url, redis_url, log)
    bound = (
        settings.SAFER_WEB_WORKERS * settings.SAFER_WEB_THREADS
        # a worker building a return reads on up to SAFER_REPORT_READ_CONNECTIONS more (ADR 0015)
        + settings.SAFER_WORKER_CONCURRENCY * (1 + settings.SAFER_REPORT_READ_CONNECTIONS)
        + 1  # beat (which opens none)
    )
    left_running: list[str] = []
    try:
        sampler = ConnectionSampler(database_url)
        sampler.start()
        steps, tally = TotpSteps(), Tally()
        users = [
            User(n, LOGINS[n % len(LOGINS)], stack.url, steps, tally, options.think)
            for n in range(options.users)
        ]
        print(
            f"Signing in {len(users)} users as {min(len(LOGINS), len(users))} personas ...",
            file=sys.stderr,
        )
        for user in users:
            user.start()
        for user in users:
            user.ready.wait(timeout=300)
        failures = [f"{u.login.email}: {u.failed}" for u in users if u.failed]
        roles = processes_by_role(stack)
        start_memory = {pid: rss_mib(pid) or 0.0 for pid in roles}
        peak_memory = dict(start_memory)
        print(f"Working for {options.duration} s ...", file=sys.stderr)
        began = time.monotonic()
        for user in users:
            user.working.set()
        while time.monotonic() - began < options.duration:
            time.sleep(5)
            for pid in list(roles):
                now = rss_mib(pid)
                if now is not None:
                    peak_memory[pid] = max(peak_memory[pid], now)
            for pid, role in processes_by_role(stack).items():  # a replaced worker child
                if pid not in roles:
                    roles[pid] = role
                    start_memory[pid] = peak_memory[pid] = rss_mib(pid) or 0.0
        elapsed = time.monotonic() - began
        for user in users:
            user.stopping.set()
        for user in users:
            user.join(timeout=90)
        end_memory = {pid: rss_mib(pid) for pid in roles}
        sampler.stopping.set()
        sampler.join(timeout=10)
    finally:
        left_running = stop_stack(stack)
        if started_embedded:
            from safer import embedded

            embedded.stop_all()

    latencies = tally.latencies_ms
    result = Result(
        date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        duration_s=round(elapsed),
        users=len(users),
        personas=min(len(LOGINS), len(users)),
        sign_in_failures=failures,
        requests=len(latencies),
        errors=sum(tally.errors.values()),
        error_kinds=dict(tally.errors.most_common(10)),
        dead_links=sum(tally.dead_links.values()),
        dead_link_kinds=dict(tally.dead_links.most_common(20)),
        requests_per_second=round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        p50_ms=round(statistics.median(latencies), 1) if latencies else 0.0,
        p95_ms=round(percentile(latencies, 0.95), 1),
        max_ms=round(max(latencies, default=0.0), 1),
        peak_connections=sampler.peak_total,
        peak_connections_by_process=dict(sampler.peak_by_name),
        connection_bound=bound,
        memory=[
            ProcessMemory(
                pid=pid,
                role=roles[pid],
                start_mib=round(start_memory[pid], 1),
                end_mib=None if end_memory[pid] is None else round(end_memory[pid] or 0.0, 1),
                peak_mib=round(peak_memory[pid], 1),
            )
            for pid in sorted(roles, key=lambda pid: (roles[pid], pid))
        ],
        left_running=left_running,
        machine=machine(),
    )
    print(report(result))
    if options.json:
        options.json.write_text(json.dumps(asdict(result), indent=2) + "\n", encoding="utf-8")
    return 1 if options.check and not result.passed else 0


def report(result: Result) -> str:
    lines = [
        f"Soak: {result.users} signed-in users ({result.personas} demo personas) for "
        f"{result.duration_s} s against the make run stack, {result.date}",
        f"Machine: {result.machine}",
        "",
        "| requests | req/s | errors | links to a 4xx | p50 ms | p95 ms | max ms "
        "| peak DB connections (bound) |",
        "|---|---|---|---|---|---|---|---|",
        f"| {result.requests} | {result.requests_per_second} | {result.errors} "
        f"| {result.dead_links} | {result.p50_ms} "
        f"| {result.p95_ms} | {result.max_ms} | {result.peak_connections} "
        f"({result.connection_bound}) |",
        "",
        "Peak connections by process: "
        + ", ".join(f"{k} {v}" for k, v in sorted(result.peak_connections_by_process.items())),
    ]
    if result.error_kinds:
        lines += ["", "Errors: " + "; ".join(f"{k} x{v}" for k, v in result.error_kinds.items())]
    if result.dead_link_kinds:
        lines += [
            "",
            "Links that led to a 4xx (page, persona): "
            + "; ".join(f"{k} x{v}" for k, v in result.dead_link_kinds.items()),
        ]
    if result.sign_in_failures:
        lines += ["", "Sign-ins that failed: " + "; ".join(result.sign_in_failures)]
    lines += [
        "",
        "| process | pid | RSS at start MiB | RSS at end MiB | growth MiB | peak MiB |",
        "|---|---|---|---|---|---|",
    ]
    for memory in result.memory:
        end = "ended" if memory.end_mib is None else f"{memory.end_mib}"
        growth = "" if memory.end_mib is None else f"{memory.end_mib - memory.start_mib:+.1f}"
        lines.append(
            f"| {memory.role} | {memory.pid} | {memory.start_mib} | {end} | {growth} "
            f"| {memory.peak_mib} |"
        )
    lines += [
        "",
        "Left running after Ctrl-C: " + (", ".join(result.left_running) or "nothing"),
        f"Targets (0 errors, connections <= bound, nothing left): "
        f"{'met' if result.passed else 'NOT met'}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
