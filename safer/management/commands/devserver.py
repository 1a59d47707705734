"""`make run`: the web server, a Celery worker and beat together, in the foreground.

Ctrl-C stops all three and then the embedded PostgreSQL and Redis (when they are embedded).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from safer import embedded


class Command(BaseCommand):
    help = "Serve SAFER with a real Celery worker and beat (development)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-beat", action="store_true")

    def handle(self, *args: Any, port: int, no_beat: bool, **options: Any) -> None:
        python = sys.executable
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get(
                "DJANGO_SETTINGS_MODULE", "safer.settings.development"
            ),
        }
        commands = {
            "web": [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "safer",
                "worker",
                "--loglevel=INFO",
                "--concurrency=2",
                "--hostname=safer-dev@%h",
            ],
        }
        if not no_beat:
            commands["beat"] = [
                python,
                "-m",
                "celery",
                "-A",
                "safer",
                "beat",
                "--loglevel=INFO",
                f"--schedule={settings.CELERY_BEAT_SCHEDULE_FILENAME}",
            ]
        processes = {
            name: subprocess.Popen(command, env=env, cwd=settings.BASE_DIR)  # noqa: S603
            for name, command in commands.items()
        }
        self._announce(port)
        stopping = False

        def stop(*_: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(
                            f"{name} exited with status {process.returncode}; stopping."
                        )
                        stopping = True
                time.sleep(0.5)
        finally:
            self._shutdown(processes)

    def _announce(self, port: int) -> None:
        lines = [
            "",
            f"SAFER is running at http://127.0.0.1:{port}/",
            "(Ctrl-C stops the web server, the worker and beat)",
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
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
        stopped = ["web", "worker", "beat"]
        if not os.environ.get("REDIS_URL") and embedded.stop_redis():
            stopped.append("embedded Redis")
        if not os.environ.get("DATABASE_URL") and embedded.stop_postgres():
            stopped.append("embedded PostgreSQL")
        self.stdout.write(f"Stopped: {', '.join(stopped)}.")
