"""`make bench`: request each target N times with the Django test client and print p50/p95.

Runs against a database of its own (``test_safer_bench`` on the embedded PostgreSQL, or on the
server DATABASE_URL names), created and migrated on first use and kept for the next run.

    python -m benchmarks.run                      # every target, 200 requests each
    python -m benchmarks.run --requests 1000 --only healthz
    python -m benchmarks.run --check              # exit 1 when a p95 exceeds its budget
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safer.settings.test")
os.environ.setdefault("SAFER_TEST_DB_SUFFIX", "bench")

WARM_UP_REQUESTS = 20


@dataclass(frozen=True)
class Measurement:
    name: str
    requests: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    queries: int
    budget_p95_ms: float

    @property
    def within_budget(self) -> bool:
        return self.p95_ms <= self.budget_p95_ms


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per target")
    parser.add_argument("--only", help="run only targets whose name contains this text")
    parser.add_argument("--check", action="store_true", help="exit 1 if a budget is exceeded")
    options = parser.parse_args(argv)
    if options.requests < 20:
        parser.error("--requests must be at least 20 for a meaningful 95th percentile")

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    from benchmarks.targets import TARGETS

    setup_test_environment()  # the test client's host, in-memory email
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True)
    targets = [t for t in TARGETS if not options.only or options.only in t.name]
    if not targets:
        parser.error(f"no target matches {options.only!r}")

    results = [measure(target, options.requests) for target in targets]
    print(table(results, database=str(connection.settings_dict["NAME"])))
    if options.check and not all(result.within_budget for result in results):
        print("\nA 95th percentile is over its budget (see benchmarks/targets.py).")
        return 1
    return 0


def measure(target: object, requests: int) -> Measurement:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from benchmarks.targets import Target

    assert isinstance(target, Target)
    client = target.prepare()
    for _ in range(WARM_UP_REQUESTS):  # connections, template caches, lazy imports
        response = client.get(target.path)
        if response.status_code != target.expected_status:
            raise SystemExit(
                f"{target.name}: {target.path} answered {response.status_code}, "
                f"not {target.expected_status}"
            )
    with CaptureQueriesContext(connection) as captured:
        client.get(target.path)
    # Counted now: the next request's request_started signal empties the query log.
    queries = len(captured)
    timings = []
    for _ in range(requests):
        began = time.perf_counter()
        client.get(target.path)
        timings.append((time.perf_counter() - began) * 1000)
    percentiles = statistics.quantiles(timings, n=100, method="inclusive")
    return Measurement(
        name=target.name,
        requests=requests,
        p50_ms=percentiles[49],
        p95_ms=percentiles[94],
        max_ms=max(timings),
        queries=queries,
        budget_p95_ms=target.budget_p95_ms,
    )


def table(results: list[Measurement], *, database: str) -> str:
    header = "| target | requests | p50 ms | p95 ms | max ms | queries | p95 budget |"
    lines = [
        f"Django test client, database {database}, {os.cpu_count()} CPUs, Python "
        f"{sys.version.split()[0]}",
        "",
        header,
        "|" + "|".join("---" for _ in range(header.count("|") - 1)) + "|",
    ]
    for r in results:
        verdict = "ok" if r.within_budget else "OVER"
        lines.append(
            f"| {r.name} | {r.requests} | {r.p50_ms:.1f} | {r.p95_ms:.1f} | {r.max_ms:.1f} "
            f"| {r.queries} | {r.budget_p95_ms:.0f} ({verdict}) |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
