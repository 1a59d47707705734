"""The commissioner dashboard is never behind a return for staleness alone, and never shows the
spend of fewer than five households; the spend KPI follows the contract live on the job's day."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
import time_machine

from referrals.models import Referral, ReferralStatus
from reporting.dashboards import DashboardRequest, dashboard_get
from reporting.metrics import Scope
from reporting.metrics import security as security_metrics
from reporting.returns import build_return, template_for
from reporting.tables import MONEY
from tests.test_reporting_data import Dataset, at, build_dataset
from tests.test_reporting_views import NOW, Q1


@pytest.fixture
def dataset(db: None) -> Dataset:
    return build_dataset()


@pytest.fixture
def frozen() -> Iterator[object]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _row(payload: dict, table: str, code: str) -> dict:
    return next(r for r in payload["tables"][table]["rows"] if r["code"] == code)


def test_a_late_entry_makes_the_next_view_recompute_and_agree_with_the_return(
    dataset: Dataset, frozen: object
) -> None:
    request = DashboardRequest(authority_ids=(dataset.kent.pk,), period=Q1)
    first = dashboard_get(request)
    assert dashboard_get(request).computed_at == first.computed_at  # unchanged: the snapshot
    Referral.objects.create(
        reference="REF-LATE",
        case_file=dataset.case_files["H6"],
        authority_id=dataset.case_files["H6"].authority_id,
        source="professional",
        consent_given=True,
        received_at=at(2025, 5, 20),
        status=ReferralStatus.ACCEPTED,
        decided_at=at(2025, 5, 21),
    )
    second = dashboard_get(request)  # within the hour, but a counted record changed
    assert second.payload["marks"] != first.payload["marks"]
    received = _row(second.payload, "series", "referrals")["cells"][-1]
    document = build_return(
        template=template_for("quarterly_grant", Q1),
        scope=Scope((dataset.kent.pk,)),
        period=Q1,
        as_of=NOW,
        parameters=[],
    )
    assert received == document.table("referrals").cell("received").display() == "18"
    assert _row(first.payload, "series", "referrals")["cells"][-1] == "17"


def test_district_spend_of_fewer_than_five_households_is_hidden_and_not_given_back(
    dataset: Dataset, frozen: object
) -> None:
    scope = Scope((dataset.kent.pk,))
    households = security_metrics.spend_households_by_district(scope=scope, period=Q1)
    spend = security_metrics.spend_by_district(scope=scope, period=Q1)
    payload = dashboard_get(DashboardRequest(authority_ids=(dataset.kent.pk,), period=Q1)).payload
    small = [d for d, n in households.items() if 0 < n < 5 and spend.get(d)]
    assert small, "the dataset has districts with one to four households' jobs"
    for district in small:
        assert _row(payload, "equity", district)["cells"][5] == "[c]"
        amount = f"£{spend[district]:,.2f}"
        assert amount not in str(payload["tables"]["equity"])
    shown = [
        r for r in payload["tables"]["equity"]["rows"] if r["cells"][5] not in ("[c]", "£0.00")
    ]
    county = _row(payload, "equity", "county")["cells"][5]
    # One hidden district beside a shown total would come back by subtraction: never so.
    hidden = [r for r in payload["tables"]["equity"]["rows"] if r["cells"][5] == "[c]"]
    assert county == "[c]" or len([r for r in hidden if r["code"] != "average"]) != 1
    assert all(r["code"] != "average" or county != "[c]" for r in shown)


def test_spend_kpi_counts_the_spend_of_the_contract_live_on_the_installation_day(
    dataset: Dataset,
) -> None:
    """A job stored with no contract still belongs to the contractor's contract live on its
    installation day; the KPI's spend is the spend of its contracts only."""
    from reporting.kpi_report import SPEND_KPI, kpi_value
    from security_works.models import SecurityJob

    scope = Scope((dataset.kent.pk,))
    total_before = security_metrics.spend_total(scope=scope, period=Q1)
    value = kpi_value(SPEND_KPI, scope=scope, period=Q1, as_of=NOW)
    assert value is not None
    assert value.kind == MONEY
    by_contract = security_metrics.spend_by_live_contract(scope=scope, period=Q1)
    job = SecurityJob.objects.filter(installed_at__isnull=False, contract__isnull=False).first()
    assert job is not None
    contract_id = job.contract_id
    SecurityJob.objects.filter(pk=job.pk).update(contract=None)
    after = security_metrics.spend_by_live_contract(scope=scope, period=Q1)
    if job.installed_at and Q1.start <= job.installed_at.date() <= Q1.end:
        # The same contract by its dates: nothing moves to "no contract".
        assert after.get(contract_id) == by_contract.get(contract_id)
        assert after.get(None, Decimal(0)) == by_contract.get(None, Decimal(0))
    assert security_metrics.spend_total(scope=scope, period=Q1) == total_before
    live = security_metrics.contracts_in(scope=scope, period=Q1, service_element="security")
    assert value.numerator == sum((by_contract.get(c.pk, Decimal(0)) for c in live), Decimal(0))
    assert value.denominator == sum((security_metrics.budget_for(c, Q1) for c in live), Decimal(0))
