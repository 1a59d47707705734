"""The one place SAFER reads its environment.

Every setting that comes from outside the code is read through these helpers, so that a bad value
stops the process with one clear line (``ImproperlyConfigured``) instead of a traceback later, and
so that secrets can be given either directly or as ``NAME_FILE`` (a path to a file holding the
value, as Docker and Kubernetes secrets are mounted).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_PASSWORD_IN_URL = re.compile(r"(//[^:/@]*:)[^@/]*@")


class StartupError(ImproperlyConfigured):
    """The configuration is valid but a service it names would not start (an embedded server).

    A subclass of ImproperlyConfigured so that every entry point reports it the same way.
    """


def error_line(error: ImproperlyConfigured) -> str:
    """The one line manage.py, celery and gunicorn print for a configuration error."""
    what = "cannot start" if isinstance(error, StartupError) else "is not configured correctly"
    return f"SAFER {what}: {' '.join(str(error).split())}"


def _raw(name: str) -> str | None:
    """The value of ``name``, or of the file named by ``name_FILE``; None when neither is set."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ImproperlyConfigured(
                f"{name}_FILE points at {file_name!r}, which cannot be read ({error.strerror})."
            ) from error
    return os.environ.get(name)


def env_str(name: str, default: str | None = None) -> str:
    value = _raw(name)
    if value is None or value == "":
        if default is None:
            raise ImproperlyConfigured(f"{name} must be set (or {name}_FILE).")
        return default
    return value


def env_optional(name: str) -> str | None:
    value = _raw(name)
    return value or None


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from error
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_url(name: str, *, schemes: tuple[str, ...]) -> str | None:
    """A URL whose scheme is one of ``schemes``; None when unset."""
    value = env_optional(name)
    if value is None:
        return None
    shown = _redact(value)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} is not a valid URL ({error}): {shown!r}.") from error
    if parts.scheme not in schemes:
        allowed = ", ".join(f"{scheme}://" for scheme in schemes)
        raise ImproperlyConfigured(f"{name} must start with one of {allowed} (got {shown!r}).")
    if parts.scheme == "unix" and not parts.path:
        raise ImproperlyConfigured(f"{name} must name a socket path, e.g. unix:///run/redis.sock.")
    return value


def _redact(url: str) -> str:
    """The URL with any password masked, short enough for a one-line error."""
    url = _PASSWORD_IN_URL.sub(r"\1***@", url)
    return url if len(url) <= 60 else url[:57] + "..."


def database_config(url: str) -> dict[str, object]:
    """Django's DATABASES entry for a ``postgresql://`` URL (host may be a socket directory)."""
    import environ

    try:
        config = environ.Env.db_url_config(url)
    except Exception as error:  # django-environ raises several types for a malformed URL
        raise ImproperlyConfigured(f"DATABASE_URL is malformed: {error}") from error
    if config.get("ENGINE") != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_URL must name a PostgreSQL database (postgresql://).")
    if not config.get("NAME"):
        raise ImproperlyConfigured(
            "DATABASE_URL must name a database, e.g. postgresql://host/safer."
        )
    options = dict(config.get("OPTIONS") or {})
    if not config.get("HOST") and options.get("host"):
        # ``?host=/socket/dir`` (how a socket URL names its directory) is Django's HOST.
        config["HOST"] = options.pop("host")
        config["OPTIONS"] = options
    return dict(config)
