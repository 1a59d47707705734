"""Derive the broker and cache URLs from one ``REDIS_URL``.

The broker and the cache live in separate Redis databases of the same server, so that flushing
or evicting cache keys can never touch queued tasks: the broker uses the database named in
``REDIS_URL`` (0 when none is named) and the cache the next one.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured


def redis_db(url: str) -> int:
    parts = urlsplit(url)
    try:
        if parts.scheme == "unix":
            return int(parse_qs(parts.query).get("db", ["0"])[0])
        path = parts.path.strip("/")
        return int(path) if path else 0
    except ValueError as error:
        raise ImproperlyConfigured(
            f"REDIS_URL names a database that is not a number: {url!r}"
        ) from error


def with_db(url: str, db: int) -> str:
    """The same server as ``url`` with database ``db``, as a redis-py URL."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        query = parse_qs(parts.query)
        query["db"] = [str(db)]
        # Not urlunsplit: it drops the empty authority ("unix:/path"), which redis-py refuses.
        return f"unix://{parts.path}?{urlencode(query, doseq=True)}"
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, ""))


def celery_broker(url: str) -> str:
    """Kombu spells a socket URL differently from redis-py."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"redis+socket://{parts.path}?virtual_host={redis_db(url)}"
    return with_db(url, redis_db(url))
