"""The bench harness works: its dataset builds (once) and every target can be prepared and run.

No timing here (timing belongs to `make bench`): these tests only prove that a target still
points at a page that answers, signed in as a persona who may see it, and that each report
task still runs, so the benchmark does not rot as the pages change.
"""

from __future__ import annotations

import pytest

from benchmarks.data import TINY, bench_data_present, ensure_bench_data, persona
from benchmarks.targets import LOWER_BOUNDS, TARGETS, TASKS, LowerBound, Target, Task
from referrals.models import Referral
from support.models import AdultSupportCase
from support.selectors.caseload import worker_caseload

pytestmark = pytest.mark.django_db


@pytest.fixture
def tiny_bench_data() -> None:
    assert ensure_bench_data(TINY, verbose=False) is True


def test_bench_data_builds_once_and_is_then_skipped(tiny_bench_data: None) -> None:
    referrals = Referral.objects.count()
    assert bench_data_present()
    assert referrals == TINY.referrals
    assert ensure_bench_data(TINY, verbose=False) is False
    assert Referral.objects.count() == referrals


def test_caseload_persona_sees_every_open_case_allocated_to_them(tiny_bench_data: None) -> None:
    worker = persona("adult_support_worker")
    allocated = AdultSupportCase.objects.open().filter(allocated_worker=worker)
    # The bulk-written grants make the persona's cases visible as the services' grants would.
    assert len(worker_caseload(user=worker)) == allocated.count() <= TINY.caseload


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_each_page_target_answers_for_its_persona(tiny_bench_data: None, target: Target) -> None:
    client = target.prepare()
    if target.before_each:
        target.before_each()
    assert client.get(target.url()).status_code == target.expected_status


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_each_task_target_prepares_and_runs(tiny_bench_data: None, task: Task) -> None:
    work = task.prepare()
    # Rendering a PDF takes seconds even for a tiny report: its writer is covered by the
    # reporting tests, and here by ``prepare`` (which builds the document it would render).
    if "PDF" in task.name or "all three files" in task.name:
        return
    assert work() is not None


@pytest.mark.parametrize("bound", LOWER_BOUNDS, ids=lambda b: b.name)
def test_each_lower_bound_prepares_and_both_sides_run(
    tiny_bench_data: None, bound: LowerBound
) -> None:
    app, sql = bound.prepare()
    assert app() is not None
    assert sql()  # the statement's figures (compared with the app's in test_reporting_lower_bound)
