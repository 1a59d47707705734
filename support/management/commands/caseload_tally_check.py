"""``manage.py caseload_tally_check [--rebuild]``: the caseload tallies that differ from the
count of their cases (``support.selectors.tallies.caseload_tally_drift``); with ``--rebuild``,
count them afresh (``caseload_tally_rebuild``). Exits with an error when drift was found and
not rebuilt."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from support.selectors.tallies import caseload_tally_drift
from support.services.tallies import caseload_tally_rebuild


class Command(BaseCommand):
    help = "Compare the caseload tallies (caseload per worker) with the cases."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rebuild", action="store_true", help="count them afresh")

    def handle(self, *args: Any, rebuild: bool, **options: Any) -> None:
        if rebuild:
            self.stdout.write(f"{caseload_tally_rebuild()} tally row(s) written.")
            return
        drift = caseload_tally_drift()
        for d in drift:
            self.stdout.write(
                f"{d.kind} {d.measure} {d.due_on or ''} worker {d.worker_id}: "
                f"tallied {d.tallied}, counted {d.counted}"
            )
        if drift:
            raise CommandError(f"{len(drift)} tally row(s) drifted: run with --rebuild.")
        self.stdout.write("No drift.")
