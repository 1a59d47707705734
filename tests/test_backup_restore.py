"""The backup and restore drill (safer/backup.py, ``manage.py backup`` / ``manage.py restore``):
a case with a job and a photo is backed up, restored into a scratch database on the same server
and a scratch media folder, and the restored copy holds the same rows, the same records and the
same file bytes. Plus: the archive is private, and a damaged archive and a non-empty database
are refused."""

from __future__ import annotations

import io
import json
import stat
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from psycopg import sql
from psycopg.conninfo import make_conninfo

from safer.backup import conninfo_from_settings
from safer.casefile.models import CaseFile
from security_works.documents import job_document_upload
from security_works.models import JobDocument
from tests.factories import build_persona_world
from tests.test_dataprotection_retention import OPENED
from tests.test_leak_markers import _marker_case
from tests.test_support_helpers import reference_data
from tests.test_uploads import png

# pg_dump reads from its own connection, so the world must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def private_storage(tmp_path: Path, settings: Any) -> Path:
    root = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


@pytest.fixture
def scratch_database() -> Iterator[dict[str, str]]:
    """An empty database with a unique name on the test database's server, dropped after."""
    name = f"test_safer_restore_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    params = {**conninfo_from_settings(connection.settings_dict), "dbname": name}
    try:
        yield params
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _rows(params: dict[str, str], query: sql.Composed) -> list[tuple[Any, ...]]:
    with psycopg.connect(make_conninfo(**params)) as db:
        return db.execute(query).fetchall()


def _world_with_a_photo() -> JobDocument:
    reference_data()
    world = build_persona_world()
    with time_machine.travel(OPENED, tick=True):
        made = _marker_case(world)
        return job_document_upload(
            job=made["job"],
            uploaded_by=world.contractor,
            kind="installation_photo",
            upload=SimpleUploadedFile("front door.png", png(20, 20), "image/png"),
        )


def test_a_backup_restores_into_a_scratch_database_with_its_rows_records_and_files(
    private_storage: Path, scratch_database: dict[str, str], tmp_path: Path
) -> None:
    document = _world_with_a_photo()
    with default_storage.open(document.file.name, "rb") as handle:
        photo = handle.read()
    source = conninfo_from_settings(connection.settings_dict)

    output = tmp_path / "backups"
    out = io.StringIO()
    call_command("backup", output=output, stdout=out)
    (archive,) = output.glob("safer-backup-*.tar")
    # Survivors' addresses: nobody else on the machine may read the archive or list the folder.
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert stat.S_IMODE(output.stat().st_mode) == 0o700
    with tarfile.open(archive) as bundle:
        assert sorted(bundle.getnames()) == ["database.dump", "manifest.json", "media.tar"]
        manifest = json.load(bundle.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert manifest["tables"]["public.casefile_casefile"] == CaseFile.objects.count() >= 1
    assert manifest["tables"]["public.security_works_jobdocument"] == 1
    assert manifest["media_files"] == 1
    assert str(archive) in out.getvalue()

    # A damaged archive is refused before anything is written.
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive) as bundle, tarfile.open(damaged, "w") as copy:
        for member in bundle.getmembers():
            data = bundle.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "database.dump":
                data = data[:-1] + bytes([data[-1] ^ 1])
            copy.addfile(member, io.BytesIO(data))
    with pytest.raises(CommandError, match="does not match its manifest"):
        call_command(
            "restore",
            str(damaged),
            database_url=make_conninfo(**scratch_database),
            media_root=tmp_path / "unused",
            stdout=io.StringIO(),
        )

    restored_media = tmp_path / "restored-private"
    out = io.StringIO()
    call_command(
        "restore",
        str(archive),
        database_url=make_conninfo(**scratch_database),
        media_root=restored_media,
        stdout=out,
    )
    assert "every count matches the manifest" in out.getvalue()

    # Every table holds as many rows as the source (not only as the manifest says).
    for table, count in manifest["tables"].items():
        schema, name = table.split(".")
        count_query = sql.SQL("SELECT count(*) FROM {}.{}").format(
            sql.Identifier(schema), sql.Identifier(name)
        )
        (restored,) = _rows(scratch_database, count_query)
        (original,) = _rows(source, count_query)
        assert restored == original == (count,), table

    # A sample of records, column for column: the case file, the job and the photo's row.
    for table in ("casefile_casefile", "security_works_securityjob", "security_works_jobdocument"):
        query = sql.SQL("SELECT * FROM {} ORDER BY 1").format(sql.Identifier(table))
        assert _rows(scratch_database, query) == _rows(source, query), table

    # The photo's bytes, where its row says.
    assert (restored_media / document.file.name).read_bytes() == photo


def test_restore_refuses_a_database_that_has_tables_without_force(
    private_storage: Path, tmp_path: Path
) -> None:
    reference_data()
    call_command("backup", output=tmp_path, stdout=io.StringIO())
    (archive,) = tmp_path.glob("safer-backup-*.tar")
    with pytest.raises(CommandError, match="already has tables"):
        call_command("restore", str(archive), media_root=tmp_path / "m", stdout=io.StringIO())
