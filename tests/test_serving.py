"""The served app, for real: `make run`'s gunicorn and `make dev`'s runserver as subprocesses.

Not the test client: these start ``manage.py serve`` (gunicorn, ``safer.settings.pilot``) and
``manage.py devserver`` (runserver, development settings) against the test database, sign in over
HTTP with a TOTP code, send a few hundred requests over several threads, and count the PostgreSQL
connections in ``pg_stat_activity``. The incident behind them (issue 12): runserver kept a
connection per request thread until PostgreSQL refused clients, and DEBUG then showed visitors
tracebacks and the URLconf.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from safer.accounts.models import User
from safer.redis_urls import with_db
from tests.factories import PersonaWorld, build_persona_world
from tests.helpers import TEST_PASSWORD, add_totp_device, totp_code
from tests.test_worker import database_url_of_this_test

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

# The served app's broker and cache (the next number): apart from a developer's (0 and 1), the
# suite's (2) and the worker tests' (13 and 14).
SERVED_REDIS_DB = 11
WEB_WORKERS = 2
WEB_THREADS = 2
CLIENT_THREADS = 8
REQUESTS = 300
START_SECONDS = 120  # a cold start on a busy two-core machine
# What an error page must never show: a traceback, the URLconf, the exception or the database.
LEAKS = (
    "Traceback",
    "urlpatterns",
    "URLconf",
    "DEBUG",
    "secret-survivor",
    "Django",
    "psycopg",
    "Error:",
    "relation",
    "django_session",
    "accepting connections",
)
HASHED_STYLESHEET = re.compile(r"/static/build/safer\.[0-9a-f]{12}\.css")


# --- Starting and stopping the stack --------------------------------------------------------------


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def served(
    command: str, settings_module: str, log: Path, *, database_url: str | None = None
) -> Iterator[Served]:
    """``manage.py <command>`` (serve or devserver) without worker and beat, as `make` runs it.

    Stopped with SIGINT (Ctrl-C); afterwards none of the processes it started may be left.
    """
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DATABASE_URL": database_url or database_url_of_this_test(),
        "REDIS_URL": with_db(settings.REDIS_URL, SERVED_REDIS_DB),
        "SECRET_KEY": "served-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG",
        "SAFER_WEB_WORKERS": str(WEB_WORKERS),
        "SAFER_WEB_THREADS": str(WEB_THREADS),
        "SAFER_STARTUP_WAIT": "0",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DATABASE_CONN_MAX_AGE", None)
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", command, f"--port={port}", "--no-worker", "--no-beat"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    stack = Served(process, f"http://127.0.0.1:{port}", log)
    started: list[psutil.Process] = []
    try:
        _wait_until_running(stack)
        started = psutil.Process(process.pid).children(recursive=True)
        yield stack
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            for child in started:
                with contextlib.suppress(psutil.Error):
                    child.kill()
            pytest.fail(f"{command} did not stop on Ctrl-C:\n{stack.tail()}")
    lingering = [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert lingering == [], f"left running after Ctrl-C: {lingering}"


def _wait_until_running(stack: Served) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if stack.process.poll() is not None:
            pytest.fail(f"the server exited with {stack.process.returncode}:\n{stack.tail()}")
        if b"SAFER is running at" in stack.log.read_bytes():
            return
        time.sleep(0.3)
    pytest.fail(f"the server did not start within {START_SECONDS}s:\n{stack.tail()}")


# --- Signing in over HTTP -------------------------------------------------------------------------


def _csrf_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in_over_http(base_url: str, user: User, device: TOTPDevice) -> requests.Session:
    """The real sign-in: email and password, then the authenticator's code."""
    # The suite hashes with MD5 for speed; the served settings accept only the real hashers.
    hashed = PBKDF2PasswordHasher().encode(TEST_PASSWORD, PBKDF2PasswordHasher().salt(), 1000)
    User.objects.filter(pk=user.pk).update(password=hashed)
    session = requests.Session()
    page = session.get(f"{base_url}/accounts/login/", timeout=30)
    response = session.post(
        f"{base_url}/accounts/login/",
        data={
            "email": user.email,
            "password": TEST_PASSWORD,
            "csrfmiddlewaretoken": _csrf_token(page.text),
        },
        timeout=30,
    )
    assert "/accounts/two-factor/verify/" in response.url, response.text[:2000]
    response = session.post(
        response.url,
        data={"code": totp_code(device), "csrfmiddlewaretoken": _csrf_token(response.text)},
        timeout=30,
    )
    assert response.status_code == 200, response.text[:2000]
    assert "Signed in as" in response.text, response.text[:2000]
    return session


def copy_of(session: requests.Session) -> requests.Session:
    """Another client with the same sign-in (one per thread: a Session is not thread-safe)."""
    copy = requests.Session()
    copy.cookies.update(session.cookies)
    return copy


# --- Load and counting ----------------------------------------------------------------------------


def web_connections() -> int:
    """Connections to the test database held by the served web app (named by its settings)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND application_name = 'safer-web'"
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def settled_web_connections() -> int:
    """The count once connections closing at the end of a request have gone (a moment)."""
    previous = web_connections()
    for _ in range(20):
        time.sleep(0.25)
        current = web_connections()
        if current == previous:
            return current
        previous = current
    return previous


def load(base_url: str, plan: list[tuple[requests.Session, str, int]]) -> Counter[str]:
    """Send every (client, path, expected status) of ``plan`` over CLIENT_THREADS threads; count
    what came back that was not expected."""

    def one(item: tuple[requests.Session, str, int]) -> str:
        client, path, expected = item
        response = client.get(f"{base_url}{path}", timeout=60, allow_redirects=False)
        return "ok" if response.status_code == expected else f"{path} {response.status_code}"

    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        return Counter(pool.map(one, plan))


@pytest.fixture
def world(transactional_db: None) -> PersonaWorld:  # committed: the server reads it
    return build_persona_world()


def request_plan(base_url: str, world: PersonaWorld, count: int) -> list[Any]:
    """Signed-in pages of three people (lists, a case file: an access-logged read) and anonymous
    pages and /healthz, interleaved."""
    signed_in = []
    for key in ("spa_triage", "spa_manager", "adult_support_worker"):
        user = world.personas[key]
        session = sign_in_over_http(base_url, user, add_totp_device(user))
        signed_in.append(session)
    case = reverse("casefile:detail", args=[world.own_case.pk])
    pages = [
        (0, "/", 200),
        (0, "/referrals/", 200),
        (1, "/cases/", 200),
        (1, case, 200),
        (2, "/", 200),
        (2, case, 200),
        (None, "/", 200),
        (None, "/healthz", 200),
        (None, "/safety/", 200),
        (None, "/accounts/login/", 200),
        (None, "/cases/", 302),  # anonymous: sent to sign in
    ]
    plan = []
    for n in range(count):
        who, path, status = pages[n % len(pages)]
        client = copy_of(signed_in[who]) if who is not None else requests.Session()
        plan.append((client, path, status))
    return plan


# --- make run: gunicorn ---------------------------------------------------------------------------


def test_make_run_holds_a_bounded_number_of_connections_whatever_the_requests(
    world: PersonaWorld, tmp_path: Path
) -> None:
    bound = WEB_WORKERS * WEB_THREADS
    with served("serve", "safer.settings.pilot", tmp_path / "serve.log") as stack:
        warm_up = load(stack.url, request_plan(stack.url, world, 150))
        after_warm_up = settled_web_connections()
        result = load(stack.url, request_plan(stack.url, world, REQUESTS))
        after = settled_web_connections()

        log = stack.tail()
    assert warm_up == Counter(ok=150), log
    assert result == Counter(ok=REQUESTS), log
    assert 0 < after <= bound, f"{after} connections, more than {WEB_WORKERS} x {WEB_THREADS}"
    assert after == after_warm_up  # no growth with the number of requests


# --- make dev: runserver --------------------------------------------------------------------------


def test_make_dev_closes_each_connection_after_its_request(
    world: PersonaWorld, tmp_path: Path
) -> None:
    with served("devserver", "safer.settings.development", tmp_path / "dev.log") as stack:
        load(stack.url, request_plan(stack.url, world, 100))
        after_warm_up = settled_web_connections()
        result = load(stack.url, request_plan(stack.url, world, REQUESTS))
        after = settled_web_connections()

        log = stack.tail()
    assert result == Counter(ok=REQUESTS), log
    # A thread per request, each connection closed with its request: none left once idle.
    assert after == after_warm_up == 0


# --- make run: error pages that reveal nothing ----------------------------------------------------


def assert_service_page(response: requests.Response, status: int, heading: str) -> None:
    html = response.text
    assert response.status_code == status, html[:2000]
    assert heading in html
    assert HASHED_STYLESHEET.search(html), "not the service's page, or static files unhashed"
    for leak in LEAKS:
        assert leak not in html, f"{leak!r} on the {status} page"


def test_make_run_shows_its_own_error_pages_and_nothing_else(
    world: PersonaWorld, tmp_path: Path
) -> None:
    user = world.personas["spa_triage"]
    with served("serve", "safer.settings.pilot", tmp_path / "serve.log") as stack:
        anonymous = requests.Session()
        not_found = anonymous.get(f"{stack.url}/safety/secret-survivor-name/", timeout=30)
        signed_in = sign_in_over_http(stack.url, user, add_totp_device(user))
        not_found_signed_in = signed_in.get(f"{stack.url}/cases/secret-survivor-name/", timeout=30)
        bad_host = anonymous.get(f"{stack.url}/", headers={"Host": "evil.example"}, timeout=30)
        # Failed sign-ins end in a 429: the per-account delay or django-axes' lockout, each
        # with its own page.
        for _ in range(settings.AXES_FAILURE_LIMIT + 1):
            page = anonymous.get(f"{stack.url}/accounts/login/", timeout=30)
            locked = anonymous.post(
                f"{stack.url}/accounts/login/",
                data={
                    "email": "nobody@example.org",
                    "password": "wrong",
                    "csrfmiddlewaretoken": _csrf_token(page.text),
                },
                timeout=30,
            )
            if locked.status_code == 429:
                break
        forged = requests.post(f"{stack.url}/exit/", timeout=30, allow_redirects=False)
        stylesheet = HASHED_STYLESHEET.search(not_found.text)
        assert stylesheet is not None
        static = anonymous.get(f"{stack.url}{stylesheet[0]}", timeout=30)

    assert_service_page(not_found, 404, "Page not found")
    assert_service_page(not_found_signed_in, 404, "Page not found")
    assert_service_page(bad_host, 400, "Sorry, there is a problem with the request")
    lockout = "You cannot sign in at the moment"
    delayed = "Wait before you try to sign in again"
    assert_service_page(locked, 429, lockout if lockout in locked.text else delayed)
    assert_service_page(forged, 403, "Sorry, your form could not be sent")
    # WhiteNoise serves the hashed file, to be cached for ever.
    assert static.status_code == 200
    assert "immutable" in static.headers["Cache-Control"]


@pytest.fixture
def empty_database(transactional_db: None) -> Iterator[tuple[str, str]]:
    """A database with no tables on the test server (name, URL): every query on it fails."""
    name = f"{connection.settings_dict['NAME']}_served_{os.getpid()}"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    url = database_url_of_this_test()
    # The test database's URL with the other name (the first path segment after the host).
    yield name, re.sub(r"/[^/?]+(\?|$)", lambda m: f"/{name}{m.group(1)}", url, count=1)
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_make_run_shows_500_then_503_pages_when_the_database_fails(
    empty_database: tuple[str, str], tmp_path: Path
) -> None:
    name, url = empty_database
    # A session cookie makes every request read the session table, which this database lacks.
    cookies = {"sessionid": "a-session-that-must-be-looked-up"}
    with served("serve", "safer.settings.pilot", tmp_path / "serve.log", database_url=url) as stack:
        broken = requests.get(f"{stack.url}/accounts/login/", cookies=cookies, timeout=30)
        with connection.cursor() as cursor:  # the database goes away under the running app
            cursor.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                [name],
            )
        down = requests.get(f"{stack.url}/accounts/login/", cookies=cookies, timeout=30)
        health = requests.get(f"{stack.url}/healthz", timeout=30)

    assert_service_page(broken, 500, "Sorry, there is a problem with the service")
    assert_service_page(down, 503, "Sorry, the service is unavailable")
    assert down.headers["Retry-After"] == "60"
    assert health.status_code == 503
    assert health.json() == {"status": "unavailable"}
