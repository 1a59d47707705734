"""``manage.py backup``: one archive of the database and the private media (safer/backup.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from safer.backup import BackupError, backup_create, conninfo_from_settings, manifest_read

DEFAULT_OUTPUT = Path(settings.BASE_DIR) / "var" / "backups"


def media_root() -> Path:
    storage = cast(dict[str, Any], settings.STORAGES["default"])
    options: dict[str, Any] = storage.get("OPTIONS", {})
    return Path(str(options.get("location") or settings.MEDIA_ROOT))


class Command(BaseCommand):
    help = "Back up the database and the private media folder into one archive (mode 0600)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            default=DEFAULT_OUTPUT,
            help=f"folder for the archive (default {DEFAULT_OUTPUT}; created with mode 0700)",
        )

    def handle(self, *args: Any, output: Path, **options: Any) -> None:
        params = conninfo_from_settings(connections["default"].settings_dict)
        try:
            archive = backup_create(params=params, media_root=media_root(), output_dir=output)
        except BackupError as error:
            raise CommandError(str(error)) from error
        manifest = manifest_read(archive)
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            f"{archive}: {len(manifest['tables'])} tables, {rows} rows, "
            f"{manifest['media_files']} files"
        )
