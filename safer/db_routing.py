"""Reads that may go to a read replica (issue 17; docs/decisions/0013-read-replica-and-pooling.md).

When ``DATABASE_REPLICA_URL`` is set, ``DATABASES`` has a ``replica`` alias and
``ReplicaRouter`` sends reads there, but only inside ``replica_reads()``: the aggregate figures
of the dashboards and of a return's document, which tolerate a replica a moment behind. Every
other read stays on the primary, so nothing that must read its own writes (a form saved then
shown, the access log, a claimed report run, a lock) can see a lagging copy; every write goes to
the primary whatever the scope. Inside a transaction on the primary, reads stay there too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"

_replica_scope: ContextVar[bool] = ContextVar("safer_replica_reads", default=False)


def replica_configured() -> bool:
    # SAFER_REPLICA_READS off keeps every read on the primary with the alias still defined: the
    # suite's default, as a test may open only the primary (tests/test_db_routing.py turns it on).
    return REPLICA in connections.settings and getattr(settings, "SAFER_REPLICA_READS", True)


@contextmanager
def replica_reads() -> Iterator[None]:
    """Route this block's reads to the replica, when there is one (a no-op otherwise)."""
    token = _replica_scope.set(True)
    try:
        yield
    finally:
        _replica_scope.reset(token)


class ReplicaRouter:
    """Reads inside ``replica_reads()`` to the replica; everything else to the primary."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str | None:
        if not _replica_scope.get() or not replica_configured():
            return None
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return None  # read-your-writes: the transaction's own rows are only on the primary
        return REPLICA

    def db_for_write(self, model: type[Any], **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the replica is a copy of the primary: the same rows

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS  # the replica follows the primary's schema by replication
