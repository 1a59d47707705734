"""Commissioning data: units of safe accommodation commissioned and support-contract payments,
recorded by the authority's commissioners (services, pages, who may reach them), and the
"complex needs" option of the referral form."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from pghistory.core import event_models

from reporting.commissioning.services import (
    CommissioningError,
    commissioned_units_record,
    commissioned_units_update,
    contract_spend_record,
)
from reporting.models import CommissionedUnits, ContractSpend
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.organisations.models import CommissioningAuthority, Contract
from tests.factories import (
    AdultSupportProviderFactory,
    CommissionedUnitsFactory,
    ContractFactory,
    ContractSpendFactory,
    CouncilFactory,
    CypProviderFactory,
    KentFactory,
    MedwayFactory,
    SecurityContractorFactory,
    UserFactory,
)
from tests.helpers import govuk_date, sign_in

pytestmark = pytest.mark.django_db


def commissioner_of(*authorities: CommissioningAuthority) -> User:
    council = CouncilFactory.create(authorities=list(authorities))
    return UserFactory.create(
        organisation=council, roles=[Role.COMMISSIONER], authorities=list(authorities)
    )


@pytest.fixture
def kent() -> CommissioningAuthority:
    return KentFactory.create()


@pytest.fixture
def medway() -> CommissioningAuthority:
    return MedwayFactory.create()


@pytest.fixture
def adult_contract(kent: CommissioningAuthority) -> Contract:
    provider = AdultSupportProviderFactory.create(authorities=[kent])
    return ContractFactory.create(authority=kent, provider=provider, reference="KENT-ADULT")


def _history_user(model: type[Any], obj: Any) -> list[tuple[str | None, Any]]:
    (event_model,) = event_models(tracks_model=model)
    events: Any = event_model._default_manager.filter(pgh_obj_id=obj.pk).select_related(
        "pgh_context"
    )
    return [
        (e.pgh_context.metadata.get("user") if e.pgh_context else None, e.units)
        for e in events.order_by("pgh_id")
    ]


# --- Services -----------------------------------------------------------------------------------


def test_units_recorded_and_corrected_keep_their_history(
    kent: CommissioningAuthority, adult_contract: Contract
) -> None:
    commissioner = commissioner_of(kent)
    record = commissioned_units_record(
        authority=kent,
        financial_year="2025-26",
        accommodation_type="refuge",
        units=12,
        contract=adult_contract,
        recorded_by=commissioner,
    )
    assert record.provider == adult_contract.provider  # taken from the contract
    other = commissioner_of(kent)
    commissioned_units_update(
        record=record, accommodation_type="refuge", units=14, updated_by=other, note="Recount"
    )
    record.refresh_from_db()
    assert (record.units, record.note) == (14, "Recount")
    # Both writes are in the change history, each with its own author.
    assert _history_user(CommissionedUnits, record) == [
        (str(commissioner.pk), 12),
        (str(other.pk), 14),
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"financial_year": "2025-26-Q1"}, "not a quarter"),
        ({"financial_year": "2025"}, "financial year"),
        ({"accommodation_type": "bed_and_breakfast"}, "type of safe accommodation"),
        ({"units": -1}, "negative"),
    ],
)
def test_units_refuse_what_is_not_a_yearly_count(
    kent: CommissioningAuthority, changes: dict[str, Any], message: str
) -> None:
    values: dict[str, Any] = {
        "authority": kent,
        "financial_year": "2025-26",
        "accommodation_type": "refuge",
        "units": 3,
        "recorded_by": None,
        **changes,
    }
    with pytest.raises(CommissioningError, match=message):
        commissioned_units_record(**values)
    assert not CommissionedUnits.objects.exists()


def test_units_refuse_another_authoritys_contract(
    medway: CommissioningAuthority, adult_contract: Contract
) -> None:
    with pytest.raises(CommissioningError, match="another authority"):
        commissioned_units_record(
            authority=medway,
            financial_year="2025-26",
            accommodation_type="refuge",
            units=3,
            contract=adult_contract,
            recorded_by=None,
        )


def test_a_payment_and_its_correction_are_separate_entries(adult_contract: Contract) -> None:
    commissioner = commissioner_of(adult_contract.authority)
    april = contract_spend_record(
        contract=adult_contract,
        period_start=dt.date(2025, 4, 1),
        period_end=dt.date(2025, 4, 30),
        amount=Decimal("30000"),
        reference=" INV-1 ",
        recorded_by=commissioner,
    )
    fix = contract_spend_record(
        contract=adult_contract,
        period_start=dt.date(2025, 4, 1),
        period_end=dt.date(2025, 4, 30),
        amount=Decimal("-500"),
        reference="INV-1",
        note="Credit note for a duplicated line",
        corrects=april,
        recorded_by=commissioner,
    )
    april.refresh_from_db()
    assert (april.amount, april.reference) == (Decimal("30000.00"), "INV-1")  # never changed
    assert list(april.corrections.all()) == [fix]
    (event_model,) = event_models(tracks_model=ContractSpend)
    event: Any = event_model._default_manager.get(pgh_obj_id=fix.pk)
    assert event.pgh_context.metadata["user"] == str(commissioner.pk)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"period_start": dt.date(2025, 4, 2)}, "whole month"),
        ({"period_end": dt.date(2025, 4, 29)}, "whole month"),
        ({"period_end": dt.date(2025, 7, 31)}, "three whole months"),  # four months
        ({"period_start": dt.date(2027, 4, 1), "period_end": dt.date(2027, 4, 30)}, "term"),
        ({"amount": Decimal("0")}, "other than zero"),
        ({"amount": Decimal("-10")}, "correction"),
        ({"reference": "  "}, "reference"),
    ],
)
def test_payments_refuse_what_cannot_be_a_monthly_or_quarterly_payment(
    adult_contract: Contract, changes: dict[str, Any], message: str
) -> None:
    values: dict[str, Any] = {
        "contract": adult_contract,
        "period_start": dt.date(2025, 4, 1),
        "period_end": dt.date(2025, 4, 30),
        "amount": Decimal("100"),
        "reference": "INV-9",
        "recorded_by": None,
        **changes,
    }
    with pytest.raises(CommissioningError, match=message):
        contract_spend_record(**values)
    assert not ContractSpend.objects.exists()


def test_security_spend_is_not_recorded_as_payments(kent: CommissioningAuthority) -> None:
    security = ContractFactory.create(
        authority=kent, provider=SecurityContractorFactory.create(), service_element="security"
    )
    with pytest.raises(CommissioningError, match="measures installed"):
        contract_spend_record(
            contract=security,
            period_start=dt.date(2025, 4, 1),
            period_end=dt.date(2025, 6, 30),
            amount=Decimal("100"),
            reference="INV-S",
            recorded_by=None,
        )


def test_a_correction_needs_a_reason_and_the_same_contract(
    kent: CommissioningAuthority, adult_contract: Contract
) -> None:
    entry = ContractSpendFactory.create(contract=adult_contract)
    other = ContractFactory.create(authority=kent, provider=CypProviderFactory.create())
    base: dict[str, Any] = {
        "period_start": dt.date(2025, 4, 1),
        "period_end": dt.date(2025, 4, 30),
        "amount": Decimal("-10"),
        "reference": "X",
        "recorded_by": None,
        "corrects": entry,
    }
    with pytest.raises(CommissioningError, match="Say why"):
        contract_spend_record(contract=adult_contract, **base)
    with pytest.raises(CommissioningError, match="another contract"):
        contract_spend_record(contract=other, note="Wrong contract", **base)
    correction = contract_spend_record(contract=adult_contract, note="Overpaid", **base)
    with pytest.raises(CommissioningError, match="itself a correction"):
        contract_spend_record(
            contract=adult_contract, note="Again", **{**base, "corrects": correction}
        )


# --- Pages --------------------------------------------------------------------------------------


def test_commissioner_records_units_on_the_page_and_sees_the_years_totals(
    client: Client, kent: CommissioningAuthority
) -> None:
    commissioner = commissioner_of(kent)
    sign_in(client, commissioner)
    response = client.post(
        reverse("reporting:commissioned-units-add"),
        {
            "authority": kent.pk,
            "financial_year": "2025-26",
            "accommodation_type": "dispersed",
            "units": "7",
            "provider": "",
            "contract": "",
            "note": "Two new homes in Dover",
        },
    )
    assert response.status_code == 302
    record = CommissionedUnits.objects.get()
    assert (record.units, record.recorded_by) == (7, commissioner)
    CommissionedUnitsFactory.create(authority=kent, accommodation_type="dispersed", units=3)
    CommissionedUnitsFactory.create(authority=kent, financial_year="2024-25", units=99)
    page = client.get(response["Location"]).content.decode()
    assert _row(page, "units-by-type", "Dispersed accommodation") == ["10"]
    assert _row(page, "units-by-type", "Refuge") == ["0"]  # 2024-25's 99 are another year
    assert _row(page, "units-by-type", "Total") == ["10"]
    assert "Two new homes in Dover" in page


def test_the_units_form_shows_errors_with_a_summary(
    client: Client, kent: CommissioningAuthority
) -> None:
    sign_in(client, commissioner_of(kent))
    response = client.post(
        reverse("reporting:commissioned-units-add"),
        {"authority": kent.pk, "financial_year": "2025-26", "units": "-2"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in page
    assert '<a href="#id_units">' in page
    assert not CommissionedUnits.objects.exists()


def test_commissioner_corrects_units_on_the_edit_page(
    client: Client, kent: CommissioningAuthority
) -> None:
    record = CommissionedUnitsFactory.create(authority=kent, units=10)
    sign_in(client, commissioner_of(kent))
    url = reverse("reporting:commissioned-units-edit", args=[record.pk])
    assert 'value="10"' in client.get(url).content.decode()
    response = client.post(
        url, {"accommodation_type": "refuge", "units": "12", "provider": "", "contract": ""}
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.units == 12


def test_commissioner_records_a_payment_spanning_two_quarters(
    client: Client, adult_contract: Contract
) -> None:
    sign_in(client, commissioner_of(adult_contract.authority))
    response = client.post(
        reverse("reporting:contract-spend-add", args=[adult_contract.pk]),
        {
            **govuk_date("period_start", "2025-05-01"),
            **govuk_date("period_end", "2025-07-31"),
            "amount": "92000.00",
            "reference": "INV-MAY-JUL",
            "note": "",
        },
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    # 61 of its 92 days fall in the first quarter, 31 in the second; listed under both.
    assert "spend £61,000.00, budget £91,000.00" in page
    assert "spend £31,000.00, budget £92,000.00" in page
    assert page.count('<td class="govuk-table__cell">INV-MAY-JUL') == 2
    listing = client.get(reverse("reporting:contract-spend") + "?period=2025-26-Q2")
    assert _row(listing.content.decode(), "contract-spend", "KENT-ADULT") == [
        "£31,000.00",
        "£92,000.00",
        "£92,000.00",  # year to date: the whole payment
        "£183,000.00",
    ]


def test_correcting_a_payment_adds_an_adjusting_entry(
    client: Client, adult_contract: Contract
) -> None:
    entry = ContractSpendFactory.create(contract=adult_contract, amount=30_000, reference="INV-A")
    sign_in(client, commissioner_of(adult_contract.authority))
    url = reverse("reporting:contract-spend-add", args=[adult_contract.pk])
    form = client.get(f"{url}?corrects={entry.pk}").content.decode()
    assert "Correcting INV-A" in form
    # The corrected entry's cover, filled in.
    assert 'name="period_start_1" type="text" value="4"' in form
    assert 'name="period_start_2" type="text" value="2025"' in form
    response = client.post(
        url,
        {
            "corrects": str(entry.pk),
            **govuk_date("period_start", "2025-04-01"),
            **govuk_date("period_end", "2025-04-30"),
            "amount": "-1500",
            "reference": "CN-1",
            "note": "Credit note",
        },
    )
    assert response.status_code == 302
    fix = ContractSpend.objects.get(reference="CN-1")
    assert (fix.corrects, fix.amount) == (entry, Decimal("-1500.00"))
    page = client.get(response["Location"]).content.decode()
    assert "spend £28,500.00" in page


# --- Who may reach the pages --------------------------------------------------------------------


def _urls(units: CommissionedUnits, contract: Contract, entry: ContractSpend) -> list[str]:
    return [
        reverse("reporting:commissioned-units-edit", args=[units.pk]),
        reverse("reporting:contract-spend-detail", args=[contract.pk]),
        reverse("reporting:contract-spend-add", args=[contract.pk]),
        reverse("reporting:contract-spend-add", args=[contract.pk]) + f"?corrects={entry.pk}",
    ]


def test_another_authoritys_commissioner_gets_404_for_every_record(
    client: Client, kent: CommissioningAuthority, medway: CommissioningAuthority
) -> None:
    units = CommissionedUnitsFactory.create(authority=kent)
    contract = ContractFactory.create(authority=kent)
    entry = ContractSpendFactory.create(contract=contract)
    sign_in(client, commissioner_of(medway))
    for url in _urls(units, contract, entry):
        assert client.get(url).status_code == 404, url
    # Nor does Medway's list show Kent's rows, or Kent's contracts.
    assert "KENT" not in client.get(reverse("reporting:contract-spend")).content.decode()
    response = client.post(
        reverse("reporting:commissioned-units-add"),
        {
            "authority": kent.pk,
            "financial_year": "2025-26",
            "accommodation_type": "refuge",
            "units": "1",
        },
    )
    assert response.status_code == 200  # the form refuses an authority not offered
    assert CommissionedUnits.objects.count() == 1


def test_a_security_contract_has_no_payment_pages(
    client: Client, kent: CommissioningAuthority
) -> None:
    security = ContractFactory.create(
        authority=kent, provider=SecurityContractorFactory.create(), service_element="security"
    )
    sign_in(client, commissioner_of(kent))
    url = reverse("reporting:contract-spend-add", args=[security.pk])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "role",
    [
        Role.PROVIDER_MANAGER,
        Role.ADULT_SUPPORT_WORKER,
        Role.CYP_WORKER,
        Role.CONTRACTOR,
        Role.SPA_MANAGER,
        Role.AUDITOR,
    ],
)
def test_provider_and_other_roles_are_refused(
    client: Client, kent: CommissioningAuthority, role: Role
) -> None:
    units = CommissionedUnitsFactory.create(authority=kent)
    contract = ContractFactory.create(authority=kent)
    entry = ContractSpendFactory.create(contract=contract)
    user = UserFactory.create(organisation=contract.provider, roles=[role], authorities=[kent])
    sign_in(client, user)
    urls = [
        reverse("reporting:commissioned-units"),
        reverse("reporting:commissioned-units-add"),
        reverse("reporting:contract-spend"),
        *_urls(units, contract, entry),
    ]
    for url in urls:
        assert client.get(url).status_code == 403, url


# --- Query counts -------------------------------------------------------------------------------


def test_the_lists_take_a_fixed_number_of_queries(
    client: Client,
    kent: CommissioningAuthority,
    django_assert_max_num_queries: Any,
) -> None:
    commissioner = commissioner_of(kent)
    contracts = [
        ContractFactory.create(authority=kent, provider=AdultSupportProviderFactory.create())
        for _ in range(4)
    ]
    for contract in contracts:
        for month in (4, 5, 6):
            ContractSpendFactory.create(
                contract=contract,
                period_start=dt.date(2025, month, 1),
                period_end=dt.date(2025, month + 1, 1) - dt.timedelta(days=1),
                recorded_by=commissioner,
            )
        CommissionedUnitsFactory.create(
            authority=kent, contract=contract, provider=contract.provider, recorded_by=commissioner
        )
    sign_in(client, commissioner)
    for url in (
        reverse("reporting:commissioned-units") + "?year=2025-26",
        reverse("reporting:contract-spend") + "?period=2025-26-Q1",
        reverse("reporting:contract-spend-detail", args=[contracts[0].pk]) + "?year=2025-26",
    ):
        with django_assert_max_num_queries(16):
            response = client.get(url)
        assert response.status_code == 200, url


# --- Complex needs on the referral form ---------------------------------------------------------


def test_the_referral_form_offers_complex_needs() -> None:
    from referrals.forms.public import RiskForm
    from referrals.templatetags.referrals_govuk import govuk_field

    # The public form's own field tag: the checkbox comes from the choices, no template change.
    html = render_to_string("referrals/includes/field.html", govuk_field(RiskForm()["other_risks"]))
    assert 'value="complex_needs"' in html
    assert "Complex or multiple needs" in html


def _row(html: str, table_id: str, label: str) -> list[str]:
    match = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert match, table_id
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", match.group(0), re.S):
        header = re.search(r'<th scope="row"[^>]*>(.*?)</th>', row, re.S)
        if header and label in re.sub(r"<[^>]+>", "", header.group(1)):
            return [
                re.sub(r"<[^>]+>", "", c).strip()
                for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
            ]
    raise AssertionError(f"no row {label!r} in {table_id}")


# --- Demo data ----------------------------------------------------------------------------------


def test_demo_has_commissioned_units_and_quarterly_payments_for_kent_and_medway(
    tmp_path: Any,
) -> None:
    import time_machine

    from safer.demo import seed

    with time_machine.travel(dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC), tick=False):
        lines = list(seed(logins_path=tmp_path / "logins.txt"))
    assert any("commissioned-units rows" in line for line in lines)
    # 2025-26 and 2026-27: Kent 510 units a year, Medway 134.
    totals = {
        (code, year): sum(
            CommissionedUnits.objects.filter(authority__code=code, financial_year=year).values_list(
                "units", flat=True
            )
        )
        for code in ("kent", "medway")
        for year in ("2025-26", "2026-27")
    }
    assert totals == {
        ("kent", "2025-26"): 510,
        ("kent", "2026-27"): 510,
        ("medway", "2025-26"): 134,
        ("medway", "2026-27"): 134,
    }
    # Every complete quarter from April 2025 to September 2026 (six), for each of the five
    # support contracts (three Kent, two Medway); none for the security contracts.
    assert ContractSpend.objects.count() == 30
    assert not ContractSpend.objects.filter(contract__service_element="security").exists()
    assert set(
        ContractSpend.objects.values_list("contract__authority__code", flat=True).distinct()
    ) == {"kent", "medway"}


# --- The admin ----------------------------------------------------------------------------------


def test_admin_records_units_through_the_service_and_spend_is_read_only(
    client: Client, kent: CommissioningAuthority, adult_contract: Contract
) -> None:
    admin_user = UserFactory.create(is_superuser=True, is_staff=True)
    sign_in(client, admin_user)
    response = client.post(
        reverse("admin:reporting_commissionedunits_add"),
        {
            "authority": kent.pk,
            "financial_year": "2025-26",
            "accommodation_type": "move_on",
            "units": "5",
            "provider": "",
            "contract": adult_contract.pk,
            "note": "",
        },
    )
    assert response.status_code == 302
    record = CommissionedUnits.objects.get()
    # Through the service: the contract's provider is filled in and the history names the admin.
    assert (record.units, record.provider, record.recorded_by) == (
        5,
        adult_contract.provider,
        admin_user,
    )
    assert _history_user(CommissionedUnits, record) == [(str(admin_user.pk), 5)]
    # An edit (authority and year read-only) goes through the service too; no delete.
    edited = client.post(
        reverse("admin:reporting_commissionedunits_change", args=[record.pk]),
        {
            "accommodation_type": "move_on",
            "units": "7",
            "provider": adult_contract.provider.pk,
            "contract": adult_contract.pk,
            "note": "Two more flats",
        },
    )
    assert edited.status_code == 302
    record.refresh_from_db()
    assert (record.units, record.authority, record.financial_year) == (7, kent, "2025-26")
    delete_url = reverse("admin:reporting_commissionedunits_delete", args=[record.pk])
    assert client.get(delete_url).status_code == 403
    # A year written as a quarter is refused with a message, not a server error.
    refused = client.post(
        reverse("admin:reporting_commissionedunits_add"),
        {
            "authority": kent.pk,
            "financial_year": "2025-2",
            "accommodation_type": "refuge",
            "units": "1",
        },
    )
    assert refused.status_code == 200
    assert "financial year" in refused.content.decode()
    entry = ContractSpendFactory.create(contract=adult_contract)
    assert client.get(reverse("admin:reporting_contractspend_add")).status_code == 403
    change = client.get(reverse("admin:reporting_contractspend_change", args=[entry.pk]))
    assert change.status_code == 200
    assert 'name="amount"' not in change.content.decode()  # shown, not editable
