"""Reachability of the services SAFER depends on, for /healthz and the start-up preflight.

Each check answers with ``None`` when the service is reachable, or one short line saying what is
wrong. The line names the host but never a password, so it is safe in logs; /healthz shows the
result only to staff, and to anonymous callers nothing but "ok" or "unavailable".
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection
from django.db.utils import DatabaseError

from safer.env import env_int

# How long start-up waits for the database and broker before giving up (compose starts them
# together; a container may start seconds before its database accepts connections).
STARTUP_WAIT_SECONDS_DEFAULT = 10


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0].strip().rstrip(".") if lines else type(error).__name__


def database_problem() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            if cursor.fetchone() == (1,):
                return None
            return "the database answered SELECT 1 wrongly"
    except DatabaseError as error:
        # A broken connection stays broken; drop it so the next request reconnects.
        connection.close_if_unusable_or_obsolete()
        where = settings.DATABASES["default"].get("HOST") or "the local socket"
        return f"the database at {where} is unreachable ({_first_line(error)})"


def broker_problem(timeout: int = 2) -> str | None:
    from safer.celery import app

    url = app.conf.broker_url
    try:
        with app.connection_for_write(url) as conn:
            # No retries here: the caller decides whether to wait and try again.
            conn.ensure_connection(max_retries=0, timeout=timeout)
    except Exception as error:  # kombu wraps every transport failure differently
        return f"the broker at {_broker_location(url)} is unreachable ({_first_line(error)})"
    return None


def _broker_location(url: str) -> str:
    parts = urlsplit(url)
    if parts.hostname:
        return f"{parts.hostname}:{parts.port or 6379}"
    return parts.path or url.split("?")[0]


def database_ok() -> bool:
    return database_problem() is None


def broker_ok(timeout: int = 2) -> bool:
    return broker_problem(timeout) is None


def startup_wait_seconds() -> int:
    return env_int("SAFER_STARTUP_WAIT", STARTUP_WAIT_SECONDS_DEFAULT, minimum=0)


def preflight(
    *, wait: float | None = None, database: bool = True, broker: bool = True
) -> str | None:
    """Wait up to ``wait`` seconds for the database and broker; the last problem, or None."""
    deadline = time.monotonic() + (startup_wait_seconds() if wait is None else wait)
    while True:
        problem = _problem(database=database, broker=broker)
        if problem is None or time.monotonic() >= deadline:
            return problem
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))


def _problem(*, database: bool, broker: bool) -> str | None:
    if database and (problem := database_problem()):
        return problem
    if broker and (problem := broker_problem()):
        return problem
    return None
