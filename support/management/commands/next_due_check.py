"""``manage.py next_due_check [--repair]``: the cases whose stored next due date differs from
their clocks (``support.selectors.caseload.next_due_drift``); with ``--repair``, fix them as the
nightly task does. Exits with an error when drift was found and not repaired."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from support.selectors.caseload import next_due_drift
from support.services.due import next_due_repair


class Command(BaseCommand):
    help = "Compare every support case's stored next due date with its clocks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--repair", action="store_true", help="store the right dates")

    def handle(self, *args: Any, repair: bool, **options: Any) -> None:
        if repair:
            self.stdout.write(f"{next_due_repair()} case(s) repaired.")
            return
        drift = next_due_drift()
        for d in drift:
            self.stdout.write(f"{d.model._meta.label} {d.case_id}: {d.stored} != {d.computed}")
        if drift:
            raise CommandError(f"{len(drift)} case(s) drifted: run with --repair.")
        self.stdout.write("No drift.")
