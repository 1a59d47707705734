"""Access checks made row by row (issue 17).

``case_file_id IN (every case file the user sees)`` is the natural way to write "this row's case
file is visible". PostgreSQL plans it as a hash semi-join whose hash side is every visible case
file, and an ``EXISTS`` correlated on the row's case file is pulled up into the same plan. For a
provider manager that set is their whole organisation (684,700 case files at a million
referrals): a page of 25 rows waited four seconds for the hash. ``PerRowExists`` is an
``EXISTS`` the planner can neither pull up into a join nor turn into a hashed sub-plan (its
sub-query has an ``OFFSET``), so the check is made for each row the plan reads, by primary key:
a list read off an index in its own order and cut by ``LIMIT`` checks the rows it keeps, not the
organisation. The rows kept are the same as with ``IN``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Exists


class PerRowExists(Exists):
    """``EXISTS (… LIMIT 1 OFFSET 0)``: evaluated once per outer row, never hashed nor joined.

    The ``OFFSET 0`` is the fence: PostgreSQL simplifies (and so pulls up or hashes) an
    ``EXISTS`` sub-query only when it has no ``OFFSET`` (``simplify_EXISTS_query``). Use it where
    the outer rows are few (a page, a capped count); over a whole table a join is cheaper.
    """

    template = "EXISTS(%(subquery)s OFFSET 0)"


@contextmanager
def capped_plan(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Plan the block's statements for reading a few rows of many: JIT compilation and bitmap
    scans off (``set_config(…, true)``, i.e. ``SET LOCAL``: in a transaction of their own, or
    the caller's). For counts capped by ``LIMIT`` over ``PerRowExists`` filters.

    - The planner costs a ``PerRowExists`` at every row the scan *could* read, not the few a
      ``LIMIT`` lets it read, so a capped count over an organisation is costed past
      ``jit_above_cost`` and compiled: 0.7 s of JIT for a 0.2 s statement, 8.4 s for the
      manager's counts per worker, at a million referrals.
    - A bitmap scan builds its whole bitmap before it returns a row: 121,000 entries of an
      organisation's open cases to count 501 of them. An index scan stops at the limit.

    (issue 17)"""
    with transaction.atomic(using=using):
        with connections[using].cursor() as cursor:
            cursor.execute(
                "SELECT set_config('jit', 'off', true),"
                " set_config('enable_bitmapscan', 'off', true)"
            )
        yield
