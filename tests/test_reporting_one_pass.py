"""A return reads each period's referrals once (issue 17: ``referrals.referral_pass``), and the
declines and districts it reads from that pass equal those each referral function computes
alone (the dashboards' path; the referral lines themselves are held by the metric and
lower-bound tests); ``support_ended`` is one statement, not an ``EXISTS`` per closed case."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reporting.metrics import Metrics, Policy, Scope
from reporting.metrics import referrals as referral_metrics
from reporting.metrics.security import _installed, spend_by_contract_district, spend_total
from reporting.metrics.support import support_ended
from reporting.models import ReportKind
from reporting.periods import Period
from reporting.returns import build_return, template_for, template_mappings
from safer.db_routing import REPLICA, replica_reads
from tests.referrals_support import geography
from tests.test_reporting_data import Dataset, at, build_dataset

# The bound every read of a period's referrals starts from (``referral_pass``).
REFERRALS_READ = '"referrals_referral"."received_at" >='
PERIODS = ("2025-26", "2025-26-Q1", "2025-26-Q2", "2025-26-Q3", "2025-26-Q4")


@pytest.fixture
def dataset(db: None) -> Dataset:
    return build_dataset()


@pytest.mark.parametrize("code", PERIODS)
@pytest.mark.parametrize("mapped", [False, True])
def test_the_referral_pass_equals_each_referral_figure_alone(
    dataset: Dataset, code: str, mapped: bool
) -> None:
    period = Period.parse(code)
    scope = Scope((dataset.kent.pk,))
    mappings = template_mappings(template_for(ReportKind.ANNUAL_RETURN, period))
    mapping = mappings.get("decline_reason", {}) if mapped else None
    metrics = Metrics(scope, mappings=mappings)
    one_pass = metrics.referral_pass(period)
    policy = metrics.policy
    assert one_pass.declined_by_reason(mapping) == referral_metrics.declined_by_reason(
        scope=scope, period=period, mapping=mapping
    )
    assert one_pass.not_supported_by_reason(mapping) == referral_metrics.not_supported_by_reason(
        scope=scope, period=period, mapping=mapping
    )
    assert one_pass.by_district == referral_metrics.referrals_by_district(
        scope=scope, period=period, policy=policy
    )


def test_the_pass_is_not_vacuous(dataset: Dataset) -> None:
    period = Period.parse("2025-26")
    metrics = Metrics(Scope((dataset.kent.pk,)))
    one_pass = metrics.referral_pass(period)
    assert one_pass.totals["received"]
    assert one_pass.totals["declined"]
    assert one_pass.declined
    assert one_pass.not_supported
    assert one_pass.by_district
    assert sum(one_pass.by_district.values()) == one_pass.totals["received"]


@pytest.mark.parametrize(
    ("kind", "code", "periods"),
    [
        (ReportKind.ANNUAL_RETURN, "2025-26", 1),
        (ReportKind.QUARTERLY_GRANT, "2025-26-Q2", 2),  # the quarter and its year to date
    ],
)
def test_a_return_reads_each_periods_referrals_once(
    dataset: Dataset, kind: str, code: str, periods: int
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
    reads = [q["sql"] for q in captured if REFERRALS_READ in q["sql"]]
    assert len(reads) == periods
    assert all("GROUPING SETS" in sql for sql in reads)


@pytest.mark.parametrize("code", PERIODS)
def test_support_ended_is_one_statement(dataset: Dataset, code: str) -> None:
    period = Period.parse(code)
    with CaptureQueriesContext(connection) as captured:
        ended = support_ended(scope=Scope((dataset.kent.pk,)), period=period)
    reads = [q["sql"] for q in captured if '"support_adultsupportcase"' in q["sql"]]
    assert len(reads) == 1
    assert "EXISTS" not in reads[0]
    assert ended["all"][""] == ended["sanctuary"][""] + ended["other"][""]


@pytest.mark.parametrize("code", PERIODS)
def test_security_spend_from_the_cells_equals_the_spend_total(dataset: Dataset, code: str) -> None:
    """The document reads the period's measures once (``Metrics.spend_cells``) for its spend
    table and its spend lines; their sum is ``spend_total``."""
    period = Period.parse(code)
    scope = Scope((dataset.kent.pk,))
    metrics = Metrics(scope)
    assert metrics.security_spend(period) == spend_total(scope=scope, period=period)
    with CaptureQueriesContext(connection) as captured:
        metrics.security_spend(period)
        metrics.spend_cells(period)
    assert len(captured) == 0


@pytest.mark.parametrize("code", PERIODS)
def test_spend_cells_equal_one_grouping_with_distinct_households(
    dataset: Dataset, code: str
) -> None:
    """``spend_by_contract_district`` groups by case file first, then by contract and district
    (issue 17: no sort of every measure for a ``COUNT(DISTINCT …)``); its cells equal the one
    GROUP BY with the distinct count it replaced."""
    period = Period.parse(code)
    scope = Scope((dataset.kent.pk,))
    expected = [
        (r["live_contract"], r["job__district_id"], r["spend"], r["jobs"])
        for r in _installed(scope, period)  # type: ignore[misc]
        .order_by()
        .values("live_contract", "job__district_id")
        .annotate(spend=Sum("actual_cost"), jobs=Count("job__case_file_id", distinct=True))
        .order_by("live_contract", "job__district_id")
    ]
    cells = spend_by_contract_district(scope=scope, period=period)
    assert [(c.contract_id, c.district_id, c.spend, c.jobs) for c in cells] == expected


def test_security_spend_is_not_vacuous(dataset: Dataset) -> None:
    scope = Scope((dataset.kent.pk,))
    assert Metrics(scope).security_spend(Period.parse("2025-26")) > 0


@pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])
def test_the_one_pass_statements_read_the_replica_in_its_scope(settings: Any) -> None:
    """Their transaction-local plan settings (``aggregate_plan``) keep them where the router
    sends a read: the replica inside ``replica_reads()`` (ADR 0013)."""
    settings.SAFER_REPLICA_READS = True  # off elsewhere in the suite (safer/settings/test.py)
    kent = geography()["maidstone"].authority
    scope = Scope((kent.pk,))
    period = Period.quarter_containing(timezone.localdate())
    with CaptureQueriesContext(connections[REPLICA]) as on_replica, replica_reads():
        referral_metrics.referral_pass(scope=scope, period=period, policy=Policy())
        support_ended(scope=scope, period=period)
        spend_by_contract_district(scope=scope, period=period)
    on_replica_sql = [q["sql"] for q in on_replica.captured_queries]
    assert any("GROUPING SETS" in sql for sql in on_replica_sql)
    assert any("works_by_household" in sql for sql in on_replica_sql)
    assert any("per_household" in sql for sql in on_replica_sql)
