"""Load the demo data (see ``safer.demo``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Load realistic, obviously fictional demo data (idempotent), with one sign-in per role "
        "written to var/demo-logins.txt. Refuses to run in production."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--logins-file",
            type=Path,
            default=None,
            help="Where to write the demo sign-ins (default: var/demo-logins.txt).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.SAFER_ENVIRONMENT == "production":
            raise CommandError("seed_demo refuses to run under production settings.")
        from safer.demo import DemoRefused, seed

        try:
            for line in seed(logins_path=options["logins_file"]):
                self.stdout.write(line)
        except DemoRefused as refused:
            raise CommandError(str(refused)) from refused
