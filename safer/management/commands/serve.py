"""`make run`: SAFER served as production serves it (gunicorn, DEBUG off, WhiteNoise), with a
Celery worker and beat, in the foreground; Ctrl-C stops everything. See safer/management/stack.py
and docs/decisions/0008-pilot-serving.md.
"""

from __future__ import annotations

import sys

from django.conf import settings

from safer.management.stack import HOST, StackCommand

# Seconds a request may take before gunicorn replaces its worker (a report is built by the
# worker, never in a request), and that a stopping worker has to finish the requests it holds.
REQUEST_TIMEOUT_SECONDS = 60
GRACEFUL_SECONDS = 10
KEEP_ALIVE_SECONDS = 5


def gunicorn_command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "safer.wsgi:application",
        f"--bind={HOST}:{port}",
        # A fixed number of processes, each with a fixed pool of threads: a thread keeps at most
        # one database connection, so the web holds at most workers x threads of them.
        "--worker-class=gthread",
        f"--workers={settings.SAFER_WEB_WORKERS}",
        f"--threads={settings.SAFER_WEB_THREADS}",
        f"--timeout={REQUEST_TIMEOUT_SECONDS}",
        f"--graceful-timeout={GRACEFUL_SECONDS}",
        # Browsers talk to it directly (no proxy in front): an idle keep-alive connection waits
        # in gthread's poller, not in a thread, so keeping it a little longer than gunicorn's 2 s
        # costs nothing and spares a reconnect between the clicks of someone reading a page.
        f"--keep-alive={KEEP_ALIVE_SECONDS}",
        "--access-logfile=-",
        # gunicorn 27 otherwise creates ~/.gunicorn/gunicorn.ctl.
        "--no-control-socket",
    ]


class Command(StackCommand):
    help = "Serve SAFER under gunicorn with DEBUG off, a Celery worker and beat (`make run`)."
    web_label = "gunicorn"

    def description(self) -> str:
        return (
            f"gunicorn, {settings.SAFER_WEB_WORKERS} processes x {settings.SAFER_WEB_THREADS} "
            f"threads, DEBUG {'on' if settings.DEBUG else 'off'}"
        )

    def web_command(self, port: int) -> list[str]:
        return gunicorn_command(port)
