"""Time every SQL statement of a block and attribute it to the reporting function that ran it.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test_safer_bench_1000000_county \\
        python -m benchmarks.statements annual_return

builds the bench's return (Kent; the templates' year, or its last quarter) once with
``build_return``, no suppression, writing nothing, every read in turn on one connection, and
prints each statement's time with the innermost ``reporting.*`` frame on the stack that issued
it, then the totals per frame (issue 17: where a return's time goes at a million referrals).
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safer.settings.test")


@dataclass
class Statements:
    rows: list[tuple[str, float, str]] = field(default_factory=list)  # (where, seconds, sql)

    def by_where(self) -> list[tuple[str, int, float]]:
        totals: dict[str, list[float]] = defaultdict(list)
        for where, seconds, _ in self.rows:
            totals[where].append(seconds)
        return sorted(
            ((w, len(s), sum(s)) for w, s in totals.items()), key=lambda r: r[2], reverse=True
        )


def _where() -> str:
    """The innermost frame of ``reporting`` (not this module) on the stack."""
    for frame in reversed(traceback.extract_stack()):
        if "/reporting/" in frame.filename:
            module = frame.filename.rsplit("/reporting/", 1)[1].removesuffix(".py")
            return f"{module.replace('/', '.')}.{frame.name}"
    return "?"


@contextmanager
def timed_statements(alias: str = "default") -> Iterator[Statements]:
    from django.db import connections

    found = Statements()

    def wrapper(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            found.rows.append((_where(), time.perf_counter() - start, sql))

    with connections[alias].execute_wrapper(wrapper):
        yield found


def main(kind: str) -> None:
    import django

    django.setup()
    from django.test import override_settings
    from django.utils import timezone

    from benchmarks.targets import _report_period_start_year
    from reporting.metrics import Scope
    from reporting.periods import Period
    from reporting.returns import build_return, template_for
    from safer.organisations.models import CommissioningAuthority

    year = _report_period_start_year()
    period = (
        Period.financial_year(year)
        if kind == "annual_return"
        else Period.financial_quarter(year, 4)
    )
    template = template_for(kind, period)
    kent = CommissioningAuthority.objects.get(code="kent")
    start = time.perf_counter()
    # Every read in turn on this connection, so each statement is timed and attributed (a
    # document built side by side reads on other connections: reporting.metrics.alongside).
    with override_settings(SAFER_REPORT_READ_CONNECTIONS=0), timed_statements() as found:
        build_return(
            template=template,
            scope=Scope(authority_ids=(kent.pk,)),
            period=period,
            as_of=timezone.now(),
            parameters=[],
        )
    total = time.perf_counter() - start
    for where, seconds, sql in found.rows:
        if seconds >= 0.2:
            print(f"{seconds:7.2f} s  {where}  {' '.join(sql.split())[:140]}")
    print()
    for where, n, seconds in found.by_where():
        print(f"{seconds:7.2f} s  {n:3d}  {where}")
    sql_s = sum(s for _, s, _ in found.rows)
    print(f"\n{kind}: {total:.1f} s, {len(found.rows)} statements, {sql_s:.1f} s of SQL")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "annual_return")
