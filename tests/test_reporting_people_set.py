"""A return builds each period's supported-people set once (issue 17), and the figures read from
that set equal the figures each breakdown computes alone (the dashboards' path)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from benchmarks.lower_bound import app_return_figures, return_periods
from reporting.metrics import SUPPORTED_SET_FAMILIES, Scope
from reporting.metrics.people import supported_sets_built_once
from reporting.models import ReportKind
from reporting.periods import Period
from reporting.returns import build_return, template_for
from tests.test_reporting_data import Dataset, at, build_dataset

# The supported-cases filter (``people.adult_cases_supported``: contacted before the period's
# end) as the SQL of a statement that reads the cases themselves, not the document's set.
SUPPORTED_CASES_READ = '"support_adultsupportcase"."first_contact_at" <'


@pytest.fixture
def dataset(db: None) -> Dataset:
    return build_dataset()


@pytest.mark.parametrize(
    ("kind", "code", "builds", "shared"),
    [
        # The year's cases twice: with its people, and alone for the families that read only
        # the cases (support types, sanctuary households), which a document outside a
        # transaction reads on a connection of its own (``Metrics.prefetch``).
        (ReportKind.ANNUAL_RETURN, "2025-26", 2, True),
        (ReportKind.QUARTERLY_GRANT, "2025-26-Q2", 2, False),  # the quarter and its year to date
    ],
)
def test_a_return_builds_the_supported_people_set_once_per_period(
    dataset: Dataset, kind: str, code: str, builds: int, shared: bool
) -> None:
    period = Period.parse(code)
    with CaptureQueriesContext(connection) as captured:
        build_return(
            template=template_for(kind, period),
            scope=Scope((dataset.kent.pk,)),
            period=period,
            as_of=at(2026, 4, 10),
            parameters=[],
        )
    built = [q["sql"] for q in captured if SUPPORTED_CASES_READ in q["sql"]]
    assert len(built) == builds
    readers = [
        q["sql"]
        for q in captured
        if q["sql"].startswith("WITH supported_cases AS NOT MATERIALIZED")
    ]
    if shared:
        # Built into a temporary table, which the breakdowns of people, support types and
        # sanctuary households then read.
        assert all(sql.startswith("CREATE TEMPORARY TABLE") for sql in built)
        assert len(readers) > 5
        people_built = [q["sql"] for q in captured if "_people ON COMMIT DROP" in q["sql"]]
        assert len(people_built) == 1  # the people once, by the connection that reads them
        # Each household's works once, for sanctuary households and support ended both.
        works_built = [q["sql"] for q in captured if "_works ON COMMIT DROP" in q["sql"]]
        assert len(works_built) == 1
        works_read = [q["sql"] for q in captured if "works_by_household AS" in q["sql"]]
        assert len(works_read) == 2
        assert all(f"FROM {works_built[0].split()[3]})" in sql for sql in works_read)
    else:
        # One breakdown per period (the quarterly update's individuals): its own statement.
        assert readers == []


@pytest.mark.parametrize(
    ("kind", "code"),
    [(ReportKind.ANNUAL_RETURN, "2025-26"), (ReportKind.QUARTERLY_GRANT, "2025-26-Q2")],
)
def test_figures_from_the_built_set_equal_those_of_each_breakdown_alone(
    dataset: Dataset, kind: str, code: str
) -> None:
    period = Period.parse(code)
    template = template_for(kind, period)
    periods = return_periods(kind, period)
    authorities = (dataset.kent.pk,)
    alone = app_return_figures(template=template, authority_ids=authorities, periods=periods)
    with supported_sets_built_once():
        built = app_return_figures(template=template, authority_ids=authorities, periods=periods)
    assert built == alone
    # Not vacuous: every family of the template read from the set has a figure in the dataset.
    used = {line.metric for s in template.sections.all() for line in s.lines.all()}
    from_set = {family for (_, family, _, _), value in built.items() if value}
    assert used & SUPPORTED_SET_FAMILIES <= from_set
    assert used & SUPPORTED_SET_FAMILIES
