"""Independent reads of one document run side by side, each on a database connection of its own
(issue 17).

A return's big statements are independent: a period's pass over its referrals, its support
cases ended, its security spend, and the supported-people breakdowns. PostgreSQL runs each
statement on one core (those that read the document's temporary tables cannot use parallel
workers at all), so one connection issuing them in turn leaves a two-core server half idle for
most of a return. ``run_alongside`` issues the independent ones from worker threads while the
caller issues its own, and returns their results.

The workers read with their own connections, so they see only committed rows. Inside a
transaction on the caller's connection (a test's, or a caller that has written something it
wants counted) they would not see what that transaction wrote, so there, and when
``SAFER_REPORT_READ_CONNECTIONS`` is 0, everything runs in turn on the caller's connection,
exactly as before.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from django.conf import settings
from django.db import connections

from reporting.metrics.common import side_by_side

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")


def extra_connections() -> int:
    """How many more connections a document may read with, beside the caller's: 0 inside a
    transaction on the caller's connection, whose writes the others could not see."""
    if any(connections[alias].in_atomic_block for alias in connections):
        return 0
    return max(0, int(getattr(settings, "SAFER_REPORT_READ_CONNECTIONS", 2)))


def run_alongside(
    reads: Mapping[Key, Callable[[], Value]], *, meanwhile: Callable[[], None]
) -> dict[Key, Value]:
    """Run ``reads`` on up to ``extra_connections()`` worker threads, each read on a connection
    of its own, while this thread runs ``meanwhile``; then their results by key. With no extra
    connection: ``meanwhile``, then each read, in turn, on this thread's connection.

    Each read runs in a copy of this thread's context as it is now (so a ``replica_reads()``
    block still routes its reads to the replica), taken before ``meanwhile`` starts: what
    ``meanwhile`` sets in its own context (the document's temporary tables, which exist on
    this thread's connection only) is not seen by the reads. An exception in a read is raised
    here, after ``meanwhile`` has finished and every other read has."""
    workers = min(extra_connections(), len(reads))
    if not workers:
        meanwhile()
        return {key: read() for key, read in reads.items()}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="report-read") as pool:
        futures: dict[Key, Future[Value]] = {
            key: pool.submit(_side_by_side_context().run, _on_own_connection, read)
            for key, read in reads.items()
        }
        meanwhile()
    return {key: future.result() for key, future in futures.items()}


def _side_by_side_context() -> contextvars.Context:
    """A copy of this thread's context, marked as a read side by side (``common.side_by_side``)."""
    context = contextvars.copy_context()
    context.run(side_by_side.set, True)
    return context


def _on_own_connection(read: Callable[[], Value]) -> Value:
    """``read`` on this worker thread's connections, closed after it (a thread's connections are
    its own and would otherwise stay open until the process ends)."""
    try:
        return read()
    finally:
        connections.close_all()
