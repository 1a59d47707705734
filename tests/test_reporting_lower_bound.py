"""The bench's lower bound (benchmarks/lower_bound.py) against the app, on the hand-built
dataset of tests/test_reporting_data.py: one hand-written statement per return must give every
figure the app gives. A disagreement is a bug in one of them: the metric definitions of
domain.md §8 decide which."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.lower_bound import (
    app_kpi_report_figures,
    app_return_figures,
    kpi_periods,
    kpi_report_figures,
    return_figures,
    return_periods,
    template_families,
)
from reporting.metrics import policy_for
from reporting.models import ReportKind
from reporting.periods import Period
from reporting.returns import template_for
from tests.test_reporting_data import Dataset, at, build_dataset


@pytest.fixture
def dataset(db: None) -> Dataset:
    return build_dataset()


def _differences(app: dict[Any, Any], sql: dict[Any, Any]) -> list[tuple[Any, Any, Any]]:
    """Keys whose figures differ (a figure one side leaves out is zero)."""
    return [
        (key, app.get(key, 0), sql.get(key, 0))
        for key in sorted(set(app) | set(sql))
        if app.get(key, 0) != sql.get(key, 0)
    ]


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        (ReportKind.ANNUAL_RETURN, "2025-26"),
        (ReportKind.QUARTERLY_GRANT, "2025-26-Q1"),
        (ReportKind.QUARTERLY_GRANT, "2025-26-Q2"),
    ],
)
def test_hand_written_sql_gives_every_figure_of_the_return(
    dataset: Dataset, kind: str, code: str
) -> None:
    period = Period.parse(code)
    template = template_for(kind, period)
    periods = return_periods(kind, period)
    authorities = (dataset.kent.pk,)
    app = app_return_figures(template=template, authority_ids=authorities, periods=periods)
    sql = return_figures(
        template_id=template.pk,
        authority_ids=authorities,
        periods=periods,
        policy=policy_for(authorities),
        families=template_families(template),
    )
    assert _differences(app, sql) == []
    # Not vacuous: the dataset gives the statement figures in every family the template uses
    # and in the district and spend sections.
    used = {family for (_, family, _, _), value in sql.items() if value}
    lines = {line.metric for s in template.sections.all() for line in s.lines.all()}
    assert lines <= used
    assert {"referrals_by_district", "spend_by_contract_district"} <= used


@pytest.mark.parametrize("code", ["2025-26-Q1", "2025-26-Q2", "2025-26-Q4"])
def test_hand_written_sql_gives_every_figure_of_the_security_kpi_report(
    dataset: Dataset, code: str
) -> None:
    period = Period.parse(code)
    contract = dataset.contracts["security"]
    as_of = at(2026, 4, 10)
    app = app_kpi_report_figures(contract=contract, period=period, as_of=as_of)
    sql = kpi_report_figures(contract=contract, period=period, as_of=as_of)
    shown = {period.code, kpi_periods(period, contract.start_date)[-1].code}
    # The statement gives the spend of every period it reads; the report shows two of them.
    sql = {
        key: value for key, value in sql.items() if key[1:] != ("spend", "total") or key[0] in shown
    }
    assert _differences(app, sql) == []
    assert any(value for (_, kpi, _), value in sql.items() if kpi == "security_survey")
