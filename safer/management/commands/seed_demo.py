"""Placeholder replaced by the demo-data builder (see issue: identity and roles)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Load realistic, obviously fictional demo data (idempotent). Refuses to run in production."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.SAFER_ENVIRONMENT == "production":
            raise CommandError("seed_demo refuses to run under production settings.")
        from safer.demo import seed

        for line in seed():
            self.stdout.write(line)
