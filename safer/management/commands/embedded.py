from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from safer import embedded


class Command(BaseCommand):
    help = "Start, stop or reset the embedded PostgreSQL and Redis used when no *_URL is set."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["start", "stop", "status", "reset"])

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "start":
            # Settings already started whatever this environment needs; report it.
            self.stdout.write(f"postgres: {embedded.postgres_url()}")
            self.stdout.write(f"redis: {embedded.redis_url()}")
        elif action == "status":
            self.stdout.write(f"postgres running: {embedded.postgres_running()}")
            self.stdout.write(f"redis socket: {embedded.REDIS_SOCKET.exists()}")
        elif action == "stop":
            stopped = embedded.stop_all()
            self.stdout.write(f"stopped: {', '.join(stopped) or 'nothing was running'}")
        else:
            embedded.reset()
            self.stdout.write("embedded services stopped and their data deleted")
