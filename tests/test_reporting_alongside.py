"""A return's independent big reads run side by side on connections of their own
(``reporting.metrics.alongside``; issue 17), and the document they make is the one made with
every read in turn on one connection; inside a transaction they run in turn, so they see its
rows."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from reporting.metrics import Scope, alongside
from reporting.metrics.alongside import extra_connections, run_alongside
from reporting.metrics.common import aggregate_plan
from reporting.models import ReportKind
from reporting.periods import Period
from reporting.returns import build_return, template_for
from reporting.tables import ReportDocument
from safer.db_routing import _replica_scope, replica_reads
from tests.test_reporting_data import build_dataset


def _where() -> tuple[str, int]:
    """This thread's name and its connection's server process."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    return threading.current_thread().name, pid


@pytest.mark.django_db
def test_inside_a_transaction_every_read_runs_in_turn_on_the_callers_connection() -> None:
    order: list[str] = []
    me = _where()

    def meanwhile() -> None:
        order.append("meanwhile")

    def read(name: str) -> Any:
        order.append(name)
        return _where()

    assert extra_connections() == 0
    found = run_alongside({"a": lambda: read("a"), "b": lambda: read("b")}, meanwhile=meanwhile)
    assert found == {"a": me, "b": me}
    assert order == ["meanwhile", "a", "b"]


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_reads_run_on_other_connections_in_the_callers_context() -> None:
    me = _where()
    seen_meanwhile: list[tuple[str, int]] = []

    def read() -> tuple[str, int, bool]:
        return (*_where(), _replica_scope.get())

    with replica_reads():
        found = run_alongside(
            {"a": read, "b": read}, meanwhile=lambda: seen_meanwhile.append(_where())
        )
    assert seen_meanwhile == [me]
    for name, pid, replica_scope in found.values():
        assert name.startswith("report-read")
        assert pid != me[1]
        assert replica_scope  # the caller's replica_reads() block reached the worker


@pytest.mark.django_db(transaction=True)
def test_a_reads_error_is_raised_to_the_caller_after_the_rest() -> None:
    finished: list[str] = []

    def fails() -> None:
        raise ValueError("no such figure")

    with pytest.raises(ValueError, match="no such figure"):
        run_alongside(
            {"fails": fails, "works": lambda: finished.append("works")},
            meanwhile=lambda: finished.append("meanwhile"),
        )
    assert sorted(finished) == ["meanwhile", "works"]


@pytest.mark.django_db(transaction=True)
def test_no_extra_connection_when_the_setting_says_none(settings: Any) -> None:
    settings.SAFER_REPORT_READ_CONNECTIONS = 0
    me = _where()
    assert run_alongside({"a": _where}, meanwhile=lambda: None) == {"a": me}


def _figures(document: ReportDocument) -> list[tuple[str, list[list[Any]]]]:
    return [
        (table.title, [[cell.value for cell in row.cells] for row in table.rows])
        for table in document.tables
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("kind", "code"),
    [(ReportKind.ANNUAL_RETURN, "2025-26"), (ReportKind.QUARTERLY_GRANT, "2025-26-Q2")],
)
def test_a_return_built_alongside_is_the_one_built_in_turn(
    settings: Any, monkeypatch: pytest.MonkeyPatch, kind: str, code: str
) -> None:
    dataset = build_dataset()
    period = Period.parse(code)
    as_of = timezone.now()

    def build() -> ReportDocument:
        return build_return(
            template=template_for(kind, period),
            scope=Scope((dataset.kent.pk,)),
            period=period,
            as_of=as_of,
            parameters=[],
        )

    read_on: list[str] = []
    own_connection = alongside._on_own_connection

    def traced(read: Any) -> Any:
        read_on.append(threading.current_thread().name)
        return own_connection(read)

    monkeypatch.setattr(alongside, "_on_own_connection", traced)
    settings.SAFER_REPORT_READ_CONNECTIONS = 2
    side_by_side = build()
    assert read_on
    assert all(name.startswith("report-read") for name in read_on)
    settings.SAFER_REPORT_READ_CONNECTIONS = 0
    in_turn = build()
    figures = _figures(side_by_side)
    assert figures == _figures(in_turn)
    assert any(value for _, rows in figures for row in rows for value in row if value)


def _parallel_workers_in_aggregate_plan() -> str:
    with aggregate_plan(), connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        (workers,) = cursor.fetchone()
    return str(workers)


@pytest.mark.django_db(transaction=True)
def test_reads_side_by_side_plan_no_parallel_workers_and_the_callers_do() -> None:
    found = run_alongside(
        {"read": _parallel_workers_in_aggregate_plan},
        meanwhile=lambda: None,
    )
    assert found == {"read": "0"}
    assert _parallel_workers_in_aggregate_plan() != "0"  # the caller's own reads: the server's
