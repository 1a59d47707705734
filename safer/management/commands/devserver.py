"""`make dev`: Django's autoreloading runserver (DEBUG on) with a Celery worker and beat, for
developers; Ctrl-C stops everything. See safer/management/stack.py. `make run` (``serve``) is the
production-style server.
"""

from __future__ import annotations

import sys

from safer.management.stack import HOST, StackCommand


class Command(StackCommand):
    help = "Serve SAFER with Django's autoreloading runserver, a worker and beat (`make dev`)."
    web_label = "runserver"

    def description(self) -> str:
        return "Django's development server: reloads on code changes, shows tracebacks"

    def web_command(self, port: int) -> list[str]:
        return [sys.executable, "manage.py", "runserver", f"{HOST}:{port}"]

    def web_environment(self) -> dict[str, str]:
        # runserver starts a thread per request: a connection kept past its request would stay
        # with a finished thread, so their number would grow with the requests. Closed after
        # each request, whatever DATABASE_CONN_MAX_AGE says.
        return {"DATABASE_CONN_MAX_AGE": "0"}
