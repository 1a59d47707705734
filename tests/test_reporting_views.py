"""Reporting's pages: the commissioner dashboard (aggregates, suppressed, never a person), the
joint board, the provider dashboard (exact), and who may reach which run."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from reporting.models import DashboardSnapshot, ReportKind, ReportRun
from reporting.periods import Period
from reporting.services import report_run_request
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.organisations.models import CommissioningAuthority, OrganisationKind
from tests.factories import CouncilFactory, MedwayFactory, OrganisationFactory, UserFactory
from tests.helpers import sign_in
from tests.test_reporting_data import Dataset, at, build_dataset

Q1 = Period.parse("2025-26-Q1")
NOW = at(2026, 4, 10)


@pytest.fixture
def dataset(db: None) -> Dataset:
    """The hand-built dataset of tests/test_reporting_data.py."""
    return build_dataset()


def commissioner_of(*authorities: CommissioningAuthority) -> User:
    council = CouncilFactory.create(authorities=list(authorities))
    return UserFactory.create(
        organisation=council, roles=[Role.COMMISSIONER], authorities=list(authorities)
    )


def provider_manager_of(data: Dataset, organisation_key: str) -> User:
    return UserFactory.create(
        organisation=data.organisations[organisation_key],
        roles=[Role.PROVIDER_MANAGER],
        authorities=[data.kent],
    )


def table_rows(html: str, table_id: str) -> dict[str, list[str]]:
    """{row label: [cell texts]} of one table of the page."""
    match = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert match, table_id
    rows: dict[str, list[str]] = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", match.group(0), re.S):
        header = re.search(r'<th scope="row"[^>]*>(.*?)</th>', row, re.S)
        if not header:
            continue
        label = re.sub(r"<[^>]+>", "", header.group(1)).strip()
        rows[label] = [
            re.sub(r"<[^>]+>", "", c).strip().replace("&lt;", "<")
            for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
    return rows


@pytest.fixture
def frozen() -> object:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_dashboard_hides_a_district_with_three_referrals_and_what_would_reveal_it(
    client: Client, dataset: Dataset, frozen: object
) -> None:
    sign_in(client, commissioner_of(dataset.kent))
    response = client.get(reverse("reporting:dashboard"), {"period": Q1.code})
    assert response.status_code == 200
    html = response.content.decode()
    equity = table_rows(html, "table-equity")
    # Columns: residents, referrals, per 10,000, installations, median days, spend.
    assert equity["Dover"][:3] == ["116,400", "<5", "[c]"]
    # Dover's 3 alone would be 17 - 7 - 7: Ashford (the first of the two 7s) is hidden with it.
    assert equity["Ashford"][1:3] == ["[c]", "[c]"]
    assert equity["Canterbury"][1:3] == ["7", "0.44"]
    assert equity["All districts"][1:3] == ["17", "0.42"]
    # Installations: Ashford 2 (J1 22 days, J2 50), Canterbury 1 (J3 32 days): all hidden, and
    # the medians of hidden counts with them; spend backed by fewer than five households is
    # hidden too (one household's job cost must not show), the county's three included, and the
    # district average with it (it is the county's total divided by the districts).
    assert equity["Ashford"][3:] == ["<5", "[c]", "[c]"]
    assert equity["Canterbury"][3:] == ["<5", "[c]", "[c]"]
    assert equity["Dover"][3:] == ["0", "—", "£0.00"]
    assert equity["All districts"][3:] == ["<5", "[c]", "[c]"]
    assert equity["District average"][5] == "[c]"
    # Never a person: no name, reference or case number of the dataset reaches the page.
    for marker in ("Dataset", "REF-", "JOB-", "CASE-", "SAFER-T-", "Test Road"):
        assert marker not in html
    assert "as at" in html


def test_dashboard_charts_each_have_a_table_and_kpis_a_rag(
    client: Client, dataset: Dataset, frozen: object
) -> None:
    sign_in(client, commissioner_of(dataset.kent))
    html = client.get(reverse("reporting:dashboard"), {"period": Q1.code}).content.decode()
    # Referrals, accepted, open jobs, spend, open cases, people; and district equity.
    # Each chart is described by its own <desc> and by the table holding its figures.
    assert html.count('aria-describedby="chart-') == 7
    assert 'aria-describedby="chart-equity-desc table-equity"' in html
    for chart in ("referrals", "accepted", "open_jobs", "spend", "open_cases", "individuals"):
        assert f'id="chart-{chart}-table"' in html
        assert f'aria-describedby="chart-{chart}-desc chart-{chart}-table"' in html
    kpis = table_rows(html, "table-kpis")
    # The triage KPI: 15 of 16 (both shown), 93.8% against 95: amber.
    assert kpis["Referrals triaged within 2 working days"] == [
        "15",
        "16",
        "93.8%",
        "95.0%",
        "Amber",
    ]
    # Emergency make-safe: 0 of 1; the 1 is hidden and so is the percentage.
    assert kpis["Emergency make-safe within 24 hours"][:3] == ["0", "<5", "[c]"]


def test_dashboard_is_computed_once_then_read_from_its_snapshot(
    client: Client, dataset: Dataset, frozen: object
) -> None:
    sign_in(client, commissioner_of(dataset.kent))
    client.get(reverse("reporting:dashboard"), {"period": Q1.code})
    snapshot = DashboardSnapshot.objects.get()
    assert snapshot.computed_at == NOW
    client.get(reverse("reporting:dashboard"), {"period": Q1.code})
    assert DashboardSnapshot.objects.get().computed_at == NOW


def test_dashboard_filters_by_district_and_service_element(
    client: Client, dataset: Dataset, frozen: object
) -> None:
    sign_in(client, commissioner_of(dataset.kent))
    html = client.get(
        reverse("reporting:dashboard"),
        {
            "period": Q1.code,
            "district": str(dataset.districts["canterbury"].pk),
            "service_element": "spa",
        },
    ).content.decode()
    equity = table_rows(html, "table-equity")
    assert list(equity) == ["Canterbury", "All districts", "District average"]
    assert equity["Canterbury"][1] == "7"
    kpis = table_rows(html, "table-kpis")
    assert "Referrals triaged within 2 working days" in kpis  # the SPA's KPIs only
    assert "Survey within 5 working days of allocation" not in kpis
    assert "Open security jobs" not in html


def test_provider_dashboard_shows_its_own_work_exactly(
    client: Client, dataset: Dataset, frozen: object
) -> None:
    sign_in(client, provider_manager_of(dataset, "contractor"))
    html = client.get(reverse("reporting:provider-dashboard"), {"period": Q1.code}).content.decode()
    kpis = table_rows(html, "table-kpis")
    assert kpis["Survey within 5 working days of allocation"][:3] == ["3", "5", "60.0%"]
    assert kpis["Emergency make-safe within 24 hours"][:3] == ["0", "1", "0.0%"]
    equity = table_rows(html, "table-equity")
    assert equity["Ashford"][3:] == ["2", "36.0", "£1,950.00"]  # median of 22 and 50 days
    assert "Exact figures" in html


def test_joint_board_shows_authorities_side_by_side_with_their_sum(
    client: Client, dataset: Dataset, frozen: object
) -> None:
    medway = MedwayFactory.create()
    sign_in(client, commissioner_of(dataset.kent, medway))
    html = client.get(reverse("reporting:joint-board"), {"period": Q1.code}).content.decode()
    rows = table_rows(html, "table-joint")
    # Kent, Medway, Total. Medway has nothing, so Kent's figures are the total's.
    assert rows["Referrals received"] == ["17", "0", "17"]
    # Kent's 8 "not supported": shown, as is Medway's 0 and the total.
    assert rows["Households that could not be supported"] == ["8", "0", "8"]
    # Households in sanctuary: Kent 4 → hidden; the total would reveal it, so it goes too.
    assert rows["Households supported in a sanctuary scheme"] == ["<5", "0", "<5"]
    # Kent's spend is three households' measures: hidden, as on the dashboard, and the total
    # (the same three) with it; Medway's nothing is shown.
    assert rows["Spend on security measures"] == ["[c]", "£0.00", "[c]"]


def test_joint_board_spend_of_one_household_cannot_come_back_by_subtraction() -> None:
    """Canterbury-style: one authority's £96.50 is one household's job. Hidden; the total is
    shown (eleven households), so the other authority's spend is hidden with it."""
    from decimal import Decimal

    from reporting.dashboards import protect_joint_spend
    from reporting.tables import MONEY, Cell, Row

    row = Row(
        "spend",
        "Spend on security measures",
        [
            Cell(Decimal("5000.00"), MONEY),
            Cell(Decimal("96.50"), MONEY),
            Cell(Decimal("5096.50"), MONEY),
        ],
    )
    protect_joint_spend(row, [10, 1], threshold=5)
    assert [c.display(5) for c in row.cells] == ["[c]", "[c]", "£5,096.50"]
    # Both backed by five or more households: nothing hidden.
    row = Row("spend", "", [Cell(Decimal("10"), MONEY), Cell(Decimal("20"), MONEY)])
    row.cells.append(Cell(Decimal("30"), MONEY))
    protect_joint_spend(row, [5, 6], threshold=5)
    assert not any(c.suppressed for c in row.cells)
    # Three households in all: every non-zero spend hidden, the total too.
    row = Row("spend", "", [Cell(Decimal("10"), MONEY), Cell(Decimal("0"), MONEY)])
    row.cells.append(Cell(Decimal("10"), MONEY))
    protect_joint_spend(row, [3, 0], threshold=5)
    assert [c.display(5) for c in row.cells] == ["[c]", "£0.00", "[c]"]


@pytest.mark.parametrize(
    "role",
    [Role.SPA_TRIAGE, Role.CONTRACTOR, Role.ADULT_SUPPORT_WORKER, Role.AUDITOR, Role.REFERRER],
)
def test_roles_without_reports_are_refused(client: Client, db: None, role: Role) -> None:
    user = UserFactory.create(roles=[role])
    sign_in(client, user)
    for name in ("run-list", "run-request", "dashboard", "joint-board"):
        assert client.get(reverse(f"reporting:{name}")).status_code == 403


def test_commissioner_cannot_open_a_provider_copy_with_case_references(
    client: Client, dataset: Dataset
) -> None:
    manager = provider_manager_of(dataset, "contractor")
    run = report_run_request(
        kind=ReportKind.CONTRACT_KPI,
        period=Q1,
        authorities=[dataset.kent],
        contract=dataset.contracts["security"],
        requested_by=manager,
        includes_case_references=True,
    )
    commissioner = commissioner_of(dataset.kent)
    sign_in(client, commissioner)
    assert client.get(reverse("reporting:run-detail", args=[run.pk])).status_code == 404
    sign_in(client, manager)
    assert client.get(reverse("reporting:run-detail", args=[run.pk])).status_code == 200


def test_provider_manager_sees_only_their_own_contracts_reports(
    client: Client, dataset: Dataset
) -> None:
    other = OrganisationFactory.create(
        kind=OrganisationKind.ADULT_SUPPORT, authorities=[dataset.kent]
    )
    stranger = UserFactory.create(
        organisation=other, roles=[Role.PROVIDER_MANAGER], authorities=[dataset.kent]
    )
    run = report_run_request(
        kind=ReportKind.CONTRACT_KPI,
        period=Q1,
        authorities=[dataset.kent],
        contract=dataset.contracts["adult"],
        requested_by=commissioner_of(dataset.kent),
    )
    assert not ReportRun.objects.visible_to(stranger).filter(pk=run.pk).exists()
    assert (
        ReportRun.objects.visible_to(provider_manager_of(dataset, "adult"))
        .filter(pk=run.pk)
        .exists()
    )
    sign_in(client, stranger)
    assert client.get(reverse("reporting:run-detail", args=[run.pk])).status_code == 404


def test_commissioner_of_another_authority_sees_no_kent_run(
    client: Client, dataset: Dataset
) -> None:
    run = report_run_request(
        kind=ReportKind.QUARTERLY_GRANT,
        period=Q1,
        authorities=[dataset.kent],
        requested_by=commissioner_of(dataset.kent),
    )
    medway_commissioner = commissioner_of(MedwayFactory.create())
    sign_in(client, medway_commissioner)
    assert client.get(reverse("reporting:run-detail", args=[run.pk])).status_code == 404
    assert client.get(reverse("reporting:run-list")).status_code == 200
