"""Register a partner system and print its token, once.

    manage.py api_client_create --organisation "Example Police" --name "Case system" \
        --scope referrals:submit [--days 365]

The token is printed on standard output and stored only as a hash: copy it to the partner by a
secure channel now. A lost token cannot be shown again; revoke it (admin) and issue a new one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from safer.api.models import Scope
from safer.api.services import DEFAULT_VALIDITY, api_client_create
from safer.organisations.models import Organisation


class Command(BaseCommand):
    help = "Register a partner API client and print its token (shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--organisation", required=True, help="The organisation's name (exact) or id."
        )
        parser.add_argument("--name", required=True, help="What the client is, e.g. 'Case system'.")
        parser.add_argument(
            "--scope",
            action="append",
            required=True,
            choices=Scope.values,
            help="Repeat for several scopes.",
        )
        parser.add_argument(
            "--days", type=int, default=DEFAULT_VALIDITY.days, help="Days the token is valid."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organisation = _organisation(options["organisation"])
        try:
            issued = api_client_create(
                organisation=organisation,
                name=options["name"],
                scopes=options["scope"],
                created_by=None,
                valid_for=dt.timedelta(days=options["days"]),
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        client = issued.client
        self.stderr.write(
            f"Client {client.name} for {organisation} ({', '.join(client.scopes)}), "
            f"valid until {client.expires_at:%Y-%m-%d}. The token follows; it is not stored "
            "and cannot be shown again."
        )
        self.stdout.write(issued.token)


def _organisation(value: str) -> Organisation:
    matches = Organisation.objects.filter(name=value)
    if not matches.exists():
        try:
            matches = Organisation.objects.filter(pk=value)
            if not matches.exists():
                raise Organisation.DoesNotExist
        except (ValidationError, ValueError, Organisation.DoesNotExist):
            raise CommandError(f"No organisation called (or with the id) {value!r}.") from None
    return matches.get()
