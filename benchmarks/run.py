"""`make bench`: request each page target N times with the Django test client, time each task
target (report generation, dashboard pre-compute) a few times, and print p50/p95.

Runs against a database of its own (``test_safer_bench`` on the embedded PostgreSQL, or on the
server DATABASE_URL names), created and migrated on first use and kept for the next run, with the
county-sized dataset of ``benchmarks.data`` built into it once (a few minutes, the first time).

    python -m benchmarks.run                      # every target, 200 requests each
    python -m benchmarks.run --requests 1000 --only healthz
    python -m benchmarks.run --only report --runs 10
    python -m benchmarks.run --check              # exit 1 when a p95 or a peak exceeds its budget
    python -m benchmarks.run --rebuild-data       # drop the bench database and build it afresh
    python -m benchmarks.run --scale 1000000 --shape national   # a million referrals (issue 17)

``--scale N`` (more than the county build's 3,000 referrals) copies the bench database to one of
its own per scale and shape (``test_safer_bench_1000000_county``) and multiplies it there inside
PostgreSQL (``benchmarks.data.scale``): a few minutes the first time, kept for the next run.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import resource
import statistics
import sys
import time
import tracemalloc
from dataclasses import dataclass
from typing import Any, TypeVar

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safer.settings.test")
os.environ.setdefault("SAFER_TEST_DB_SUFFIX", "bench")

MIB = 1024 * 1024
# A page this many times over its budget when warm is reported after its warm-up, not timed.
HOPELESS = 20


@dataclass(frozen=True)
class Measurement:
    name: str
    requests: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    queries: int
    budget_p95_ms: float
    # Where a request's time goes, so that a figure taken on a loaded machine can still be read:
    # this process's CPU (the app: Django, templates) and the wall time spent waiting on SQL.
    app_cpu_p50_ms: float = 0.0
    sql_p50_ms: float = 0.0

    @property
    def within_budget(self) -> bool:
        return self.p95_ms <= self.budget_p95_ms


@dataclass(frozen=True)
class TaskMeasurement:
    name: str
    runs: int
    p50_s: float
    p95_s: float
    max_s: float
    queries: int
    peak_mib: float  # tracemalloc's peak of Python allocations during one run
    rss_growth_mib: float  # how far the process's maximum resident set grew (warm-up and runs)
    budget_p95_s: float
    budget_peak_mib: float

    @property
    def within_budget(self) -> bool:
        return self.p95_s <= self.budget_p95_s and self.peak_mib <= self.budget_peak_mib


@dataclass(frozen=True)
class LowerBoundMeasurement:
    name: str
    runs: int
    app_p50_s: float
    sql_p50_s: float
    max_ratio: float
    max_app_s: float

    @property
    def ratio(self) -> float:
        return self.app_p50_s / self.sql_p50_s if self.sql_p50_s else float("inf")

    @property
    def within_budget(self) -> bool:
        return self.ratio <= self.max_ratio and self.app_p50_s < self.max_app_s


Result = TypeVar("Result", Measurement, TaskMeasurement, LowerBoundMeasurement)


def mirror_replica() -> None:
    """Point the read-replica alias (the test settings' mirror) at the bench database, as the
    test runner does for the suite, so the router's reads hit the data measured."""
    from django.db import DEFAULT_DB_ALIAS, connections

    from safer.db_routing import REPLICA, replica_configured

    if replica_configured():
        connections[REPLICA].close()
        connections[REPLICA].creation.set_as_test_mirror(
            connections[DEFAULT_DB_ALIAS].settings_dict
        )


def add_scale_arguments(parser: argparse.ArgumentParser) -> None:
    """``--scale`` and ``--shape``: which bench database to run against (also
    ``benchmarks.submissions``'s)."""
    parser.add_argument(
        "--scale",
        type=int,
        help="referrals in the bench data (default: the county build's, 3,000)",
    )
    parser.add_argument(
        "--shape",
        choices=("county", "national"),  # benchmarks.data.scale.SHAPES (read before setup)
        default="county",
        help="county: Kent's staff see Nx more; national: Nx more authorities the size of Kent",
    )


def use_bench_scale(options: argparse.Namespace) -> None:
    """After ``ensure_bench_data``: switch to the database of ``--scale``/``--shape``, built
    from the base the first time, and point the replica alias at it."""
    from benchmarks.data.scale import Scale, use_scaled_database

    if options.scale is None:
        return
    use_scaled_database(
        Scale(options.scale, options.shape), rebuild=getattr(options, "rebuild_data", False)
    )
    mirror_replica()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument("--runs", type=int, help="timed runs per task (default: the task's own)")
    parser.add_argument("--only", help="run only targets whose name contains this text")
    parser.add_argument("--exclude", help="leave out targets whose name contains this text")
    parser.add_argument("--check", action="store_true", help="exit 1 if a budget is exceeded")
    parser.add_argument(
        "--rebuild-data", action="store_true", help="drop and rebuild the bench database"
    )
    add_scale_arguments(parser)
    options = parser.parse_args(argv)
    if options.requests < 20:
        parser.error("--requests must be at least 20 for a meaningful 95th percentile")
    if options.runs is not None and options.runs < 2:
        parser.error("--runs must be at least 2")

    import django

    django.setup()
    for noisy in ("weasyprint", "fontTools", "axes"):  # progress chatter, not results
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from django.db import connection
    from django.test.utils import setup_test_environment

    from benchmarks.data import ensure_bench_data
    from benchmarks.targets import LOWER_BOUNDS, TARGETS, TASKS

    setup_test_environment()  # the test client's host, in-memory email
    connection.creation.create_test_db(
        verbosity=0, autoclobber=True, keepdb=not options.rebuild_data, serialize=False
    )
    mirror_replica()
    ensure_bench_data()
    use_bench_scale(options)
    # As ``safer.wsgi`` does in each web process once the application is built (``safer.heap``):
    # what start-up left alive is frozen, out of the cyclic collector's full collections.
    from safer.heap import settle_heap

    settle_heap()

    def chosen(name: str) -> bool:
        wanted = not options.only or options.only in name
        return wanted and not (options.exclude and options.exclude in name)

    pages = [t for t in TARGETS if chosen(t.name)]
    tasks = [t for t in TASKS if chosen(t.name)]
    bounds = [t for t in LOWER_BOUNDS if chosen(t.name)]
    if not pages and not tasks and not bounds:
        parser.error(f"no target matches {options.only!r}")

    results = [_progress(measure(target, options.requests)) for target in pages]
    task_results = [_progress(measure_task(task, options.runs)) for task in tasks]
    bound_results = [_progress(measure_lower_bound(b, options.runs)) for b in bounds]
    print(header(database=str(connection.settings_dict["NAME"])))
    if results:
        print("\n" + table(results))
    if task_results:
        print("\n" + task_table(task_results))
    if bound_results:
        print("\n" + lower_bound_table(bound_results))
    over = [r.name for r in results if not r.within_budget]
    over += [r.name for r in task_results if not r.within_budget]
    over += [r.name for r in bound_results if not r.within_budget]
    if options.check and over:
        print(f"\nOver budget (see benchmarks/targets.py): {', '.join(over)}.")
        return 1
    return 0


def _progress(result: Result) -> Result:
    print(f"measured {result.name}", file=sys.stderr, flush=True)
    return result


def measure(target: object, requests: int) -> Measurement:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from benchmarks.targets import Target

    assert isinstance(target, Target)
    client = target.prepare()
    url = target.url()
    before = target.before_each or (lambda: None)
    warm: list[float] = []
    for n in range(target.warm_up):  # connections, template caches, lazy imports
        before()
        began = time.perf_counter()
        response = client.get(url)
        warm.append((time.perf_counter() - began) * 1000)
        if response.status_code != target.expected_status:
            raise SystemExit(
                f"{target.name}: {url} answered {response.status_code}, "
                f"not {target.expected_status}"
            )
        if n > 0 and warm[-1] > HOPELESS * target.budget_p95_ms:
            break  # far over budget even when warm: report it without hours of timing
    before()
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    # Counted now: the next request's request_started signal empties the query log.
    queries = len(captured)
    timings = []
    if warm[-1] > HOPELESS * target.budget_p95_ms:
        print(f"{target.name}: {warm[-1]:.0f} ms when warm, not timed further", file=sys.stderr)
        timings = warm[1:]
    cpu: list[float] = []
    sql: list[float] = []
    waited = [0.0]

    def sql_timer(execute: Any, sql_text: str, params: Any, many: bool, context: Any) -> Any:
        began = time.perf_counter()
        try:
            return execute(sql_text, params, many, context)
        finally:
            waited[0] += time.perf_counter() - began

    for _ in range(0 if timings else min(requests, target.max_requests or requests)):
        before()
        waited[0] = 0.0
        began, began_cpu = time.perf_counter(), time.process_time()
        with connection.execute_wrapper(sql_timer):
            client.get(url)
        timings.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
        sql.append(waited[0] * 1000)
    if len(timings) < 2:
        timings = warm
    percentiles = statistics.quantiles(timings, n=100, method="inclusive")
    return Measurement(
        name=target.name,
        requests=len(timings),
        p50_ms=percentiles[49],
        p95_ms=percentiles[94],
        max_ms=max(timings),
        queries=queries,
        budget_p95_ms=target.budget_p95_ms,
        app_cpu_p50_ms=statistics.median(cpu) if cpu else 0.0,
        sql_p50_ms=statistics.median(sql) if sql else 0.0,
    )


def measure_task(task: object, runs: int | None) -> TaskMeasurement:
    """Warm up, time ``runs`` calls, then one more under tracemalloc for the peak memory (kept
    apart: tracing slows Python down and would inflate the timings)."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from benchmarks.targets import Task

    assert isinstance(task, Task)
    work = task.prepare()
    rss_before = _max_rss_mib()
    for _ in range(task.warm_up):
        work()
    timings = []
    for _ in range(runs or task.runs):
        gc.collect()
        began = time.perf_counter()
        work()
        timings.append(time.perf_counter() - began)
    rss_growth = _max_rss_mib() - rss_before
    reset_queries()
    gc.collect()
    tracemalloc.start()
    with CaptureQueriesContext(connection) as captured:
        work()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    percentiles = statistics.quantiles(timings, n=100, method="inclusive")
    return TaskMeasurement(
        name=task.name,
        runs=len(timings),
        p50_s=percentiles[49],
        p95_s=percentiles[94],
        max_s=max(timings),
        queries=len(captured),
        peak_mib=peak / MIB,
        rss_growth_mib=rss_growth,
        budget_p95_s=task.budget_p95_s,
        budget_peak_mib=task.budget_peak_mib,
    )


def measure_lower_bound(bound: object, runs: int | None) -> LowerBoundMeasurement:
    """Warm both up once, then time them in turns (app, statement, app, …) so that the load
    of a shared machine falls on both alike."""
    from benchmarks.targets import LowerBound

    assert isinstance(bound, LowerBound)
    app, sql = bound.prepare()
    app()
    sql()
    app_timings: list[float] = []
    sql_timings: list[float] = []
    for _ in range(runs or bound.runs):
        for work, timings in ((app, app_timings), (sql, sql_timings)):
            gc.collect()
            began = time.perf_counter()
            work()
            timings.append(time.perf_counter() - began)
    return LowerBoundMeasurement(
        name=bound.name,
        runs=len(app_timings),
        app_p50_s=statistics.median(app_timings),
        sql_p50_s=statistics.median(sql_timings),
        max_ratio=bound.max_ratio,
        max_app_s=bound.max_app_s,
    )


def lower_bound_table(results: list[LowerBoundMeasurement]) -> str:
    head = "| figures | runs | app p50 s | hand-written SQL p50 s | ratio | target |"
    lines = [head, _separator(head)]
    for r in results:
        flags = []
        if r.ratio > r.max_ratio:
            flags.append(f"OVER {r.max_ratio:g}x")
        if r.app_p50_s >= r.max_app_s:
            flags.append(f"OVER {r.max_app_s:g} s")
        verdict = ", ".join(flags) or "ok"
        lines.append(
            f"| {r.name} | {r.runs} | {r.app_p50_s:.3f} | {r.sql_p50_s:.3f} | {r.ratio:.1f}x "
            f"| <= {r.max_ratio:g}x, < {r.max_app_s:g} s ({verdict}) |"
        )
    return "\n".join(lines)


def _max_rss_mib() -> float:
    # Linux reports kilobytes.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def header(*, database: str) -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"Django test client, database {database}, {os.cpu_count()} CPUs, Python "
        f"{sys.version.split()[0]}, load average {load}, process peak RSS {_max_rss_mib():.0f} MiB"
    )


def _separator(head: str) -> str:
    return "|" + "|".join("---" for _ in range(head.count("|") - 1)) + "|"


def table(results: list[Measurement]) -> str:
    head = (
        "| target | requests | p50 ms | p95 ms | max ms | queries | app CPU p50 ms "
        "| SQL p50 ms | p95 budget |"
    )
    lines = [head, _separator(head)]
    for r in results:
        verdict = "ok" if r.within_budget else "OVER"
        lines.append(
            f"| {r.name} | {r.requests} | {r.p50_ms:.1f} | {r.p95_ms:.1f} | {r.max_ms:.1f} "
            f"| {r.queries} | {r.app_cpu_p50_ms:.1f} | {r.sql_p50_ms:.1f} "
            f"| {r.budget_p95_ms:.0f} ({verdict}) |"
        )
    return "\n".join(lines)


def task_table(results: list[TaskMeasurement]) -> str:
    head = (
        "| task | runs | p50 s | p95 s | max s | queries | peak MiB | max RSS growth MiB "
        "| budget (p95 s, peak MiB) |"
    )
    lines = [head, _separator(head)]
    for r in results:
        verdict = "ok" if r.within_budget else "OVER"
        lines.append(
            f"| {r.name} | {r.runs} | {r.p50_s:.2f} | {r.p95_s:.2f} | {r.max_s:.2f} "
            f"| {r.queries} | {r.peak_mib:.1f} | {r.rss_growth_mib:.0f} "
            f"| {r.budget_p95_s:g}, {r.budget_peak_mib:g} ({verdict}) |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
