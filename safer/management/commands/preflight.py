"""`manage.py preflight`: wait briefly for the database and broker, or fail with one line.

Run before the web server, the worker and beat start (make run, the Docker entrypoint), so that
an unreachable dependency is one clear line and exit status 2, not a traceback from the first
request or a worker that retries for ever.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from safer.health import preflight


class Command(BaseCommand):
    help = "Check that the database and the broker answer (exit status 2 with one line if not)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--wait",
            type=float,
            default=None,
            help="seconds to keep trying (default: SAFER_STARTUP_WAIT, 10)",
        )

    def handle(self, *args: Any, wait: float | None, **options: Any) -> None:
        problem = preflight(wait=wait)
        if problem:
            self.stderr.write(f"SAFER cannot start: {problem}.")
            raise SystemExit(2)
        if options["verbosity"] > 1:
            self.stdout.write("database and broker are reachable")
