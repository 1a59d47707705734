"""``manage.py restore ARCHIVE``: restore a ``manage.py backup`` archive and check its counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from safer.backup import BackupError, backup_restore, conninfo_from_settings, conninfo_from_url
from safer.management.commands.backup import media_root as private_media_root


class Command(BaseCommand):
    help = (
        "Restore a backup archive into an empty database (this one, or --database-url) and the "
        "private media folder, then check every table's row count against the manifest."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path)
        parser.add_argument("--database-url", help="restore into this database instead")
        parser.add_argument(
            "--media-root", type=Path, help="unpack the files here (default: the private storage)"
        )
        parser.add_argument(
            "--force", action="store_true", help="overwrite a database that already has tables"
        )

    def handle(
        self,
        *args: Any,
        archive: Path,
        database_url: str | None,
        media_root: Path | None,
        force: bool,
        **options: Any,
    ) -> None:
        if database_url:
            params = conninfo_from_url(database_url)
        else:
            connections["default"].close()  # pg_restore --clean must not wait on our own lock
            params = conninfo_from_settings(connections["default"].settings_dict)
        try:
            result = backup_restore(
                archive=archive,
                params=params,
                media_root=media_root or private_media_root(),
                force=force,
            )
        except BackupError as error:
            raise CommandError(str(error)) from error
        if result.mismatches:
            lines = [
                f"{t}: {want} in the backup, {got} restored"
                for t, (want, got) in result.mismatches.items()
            ]
            raise CommandError("restored, but the counts differ:\n" + "\n".join(lines))
        self.stdout.write(
            f"restored {result.tables} tables, {result.rows} rows, {result.media_files} files; "
            "every count matches the manifest"
        )
