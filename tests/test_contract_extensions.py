"""Contract extensions as data: exercising one carries the contract (and the jobs, cases and
spend dated in it) past its initial term; the value and budget follow; allocating work under no
live contract warns the person allocating."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from safer.organisations.models import Contract, ServiceElement
from safer.organisations.selectors import contract_live_for
from safer.organisations.services import ContractError, contract_extension_record
from security_works.selectors import security_contract_for, security_contract_warning
from tests.factories import ContractFactory, PersonaWorld
from tests.helpers import sign_in
from tests.test_support_helpers import build_support_world, open_adult_case, open_cyp_case

pytestmark = pytest.mark.django_db

D = dt.date


def _security(world: PersonaWorld, **fields: object) -> Contract:
    """Award 23/00074 as shared/domain.md has it: £400,000 a year, 1 December 2023 to 30
    November 2025, two optional one-year extensions."""
    values: dict[str, object] = {
        "authority": world.kent,
        "provider": world.organisations["contractor"],
        "service_element": ServiceElement.SECURITY,
        "reference": "23/00074",
        "start_date": D(2023, 12, 1),
        "end_date": D(2025, 11, 30),
        "value_per_year": Decimal("400000.00"),
        "extension_options": 2,
    }
    values.update(fields)
    return Contract.objects.create(**values)


def test_an_extension_moves_the_end_and_adds_its_value(world: PersonaWorld) -> None:
    contract = _security(world)
    assert contract.current_end_date == D(2025, 11, 30)
    assert contract.total_value == Decimal("800000.00")
    assert contract.maximum_end_date == D(2027, 11, 30)
    assert not contract.is_active_on(D(2026, 12, 4))

    first = contract_extension_record(
        contract=contract, exercised_on=D(2025, 9, 1), recorded_by=world.commissioner
    )
    assert (first.new_end_date, first.value_added) == (D(2026, 11, 30), Decimal("400000.00"))
    assert first.recorded_by == world.commissioner
    assert contract.current_end_date == D(2026, 11, 30)
    assert contract.extensions_taken == 1
    assert not contract.is_active_on(D(2026, 12, 4))

    # The second: a shorter year at a lower value, as a council may negotiate.
    contract_extension_record(
        contract=contract,
        exercised_on=D(2026, 9, 1),
        new_end_date=D(2027, 5, 31),
        value_added=Decimal("200000"),
        recorded_by=world.commissioner,
    )
    assert contract.current_end_date == D(2027, 5, 31)
    assert contract.is_active_on(D(2026, 12, 4))
    assert contract.total_value == Decimal("1400000.00")
    # A period inside the second extension is budgeted from its own value over its own days.
    days = (D(2027, 5, 31) - D(2026, 12, 1)).days + 1
    assert contract.budget_between(D(2027, 1, 1), D(2027, 1, 31)) == (
        Decimal(200000) * 31 / days
    ).quantize(Decimal("0.01"))
    # Across the join of the initial term and the first extension: each side at its own rate.
    assert contract.budget_between(D(2025, 11, 1), D(2025, 12, 31)) == (
        Decimal(400000) * 30 / 365 + Decimal(400000) * 31 / 365
    ).quantize(Decimal("0.01"))
    # Nothing after the current end.
    assert contract.budget_between(D(2027, 6, 1), D(2027, 12, 31)) == Decimal("0.00")


def test_an_extension_must_be_allowed_and_later(world: PersonaWorld) -> None:
    contract = _security(world, extension_options=1)
    with pytest.raises(ContractError, match="after the contract's current end, 30 November 2025"):
        contract_extension_record(
            contract=contract,
            exercised_on=D(2025, 9, 1),
            new_end_date=D(2025, 11, 30),
            recorded_by=None,
        )
    with pytest.raises(ContractError, match="zero or more"):
        contract_extension_record(
            contract=contract,
            exercised_on=D(2025, 9, 1),
            value_added=Decimal("-1"),
            recorded_by=None,
        )
    contract_extension_record(contract=contract, exercised_on=D(2025, 9, 1), recorded_by=None)
    with pytest.raises(ContractError, match="no extension left"):
        contract_extension_record(contract=contract, exercised_on=D(2026, 9, 1), recorded_by=None)
    assert contract.extensions.count() == 1


def test_new_jobs_attach_to_the_contract_once_an_extension_is_exercised(
    world: PersonaWorld,
) -> None:
    contract = _security(world)
    contractor, kent = world.organisations["contractor"], world.kent
    after_term = D(2026, 1, 5)
    assert security_contract_for(contractor=contractor, authority=kent, on=after_term) is None
    contract_extension_record(contract=contract, exercised_on=D(2025, 9, 1), recorded_by=None)
    assert security_contract_for(contractor=contractor, authority=kent, on=after_term) == contract
    assert (
        contract_live_for(
            provider=contractor,
            authority=kent,
            service_element=ServiceElement.SECURITY,
            on=D(2026, 12, 1),
        )
        is None
    )


def test_allocating_a_job_under_no_live_contract_warns(world: PersonaWorld) -> None:
    contractor = world.organisations["contractor"]
    case_file = world.own_case
    today = D(2026, 12, 4)
    warning = security_contract_warning(case_file=case_file, contractor=contractor, on=today)
    assert "has no contract with Kent" in warning
    assert "4 December 2026" in warning
    _security(world, end_date=D(2026, 12, 31))
    assert security_contract_warning(case_file=case_file, contractor=contractor, on=today) == ""


def test_the_allocate_page_warns_when_the_provider_has_no_live_contract(
    world: PersonaWorld,
) -> None:
    sw = build_support_world(world)
    adult, cyp = open_adult_case(sw, allocate=False), open_cyp_case(sw, allocate=False)
    adult_url = reverse("support:adult-allocate", kwargs={"case_id": adult.pk})
    cyp_url = reverse("support:cyp-allocate", kwargs={"case_id": cyp.pk})
    adult_manager = sign_in(Client(), sw.adult_manager)
    page = adult_manager.get(adult_url)
    assert page.status_code == 200
    assert "has no contract with Kent County Council live on" in page.content.decode()
    ContractFactory(
        authority=world.kent,
        provider=world.organisations["adult"],
        service_element=ServiceElement.ADULT_SUPPORT,
        start_date=D(2020, 4, 1),
        end_date=D(2099, 3, 31),
    )
    assert "has no contract" not in adult_manager.get(adult_url).content.decode()
    # The CYP provider has none: its manager is warned, and can still allocate.
    cyp_manager = sign_in(Client(), sw.cyp_manager)
    assert "has no contract with" in cyp_manager.get(cyp_url).content.decode()
    response = cyp_manager.post(cyp_url, {"worker": sw.cyp_worker.pk})
    assert response.status_code == 302
    cyp.refresh_from_db()
    assert cyp.allocated_worker == sw.cyp_worker


def test_the_system_administrator_records_an_extension_in_the_admin(
    client: Client, world: PersonaWorld
) -> None:
    contract = _security(world, extension_options=1)
    sign_in(client, world.system_admin)
    url = reverse("admin:organisations_contractextension_add")
    refused = client.post(
        url, {"contract": contract.pk, "exercised_on": "2025-09-01", "new_end_date": "2025-10-01"}
    )
    assert refused.status_code == 200
    assert "after the contract&#x27;s current end, 30 November 2025" in refused.content.decode()
    done = client.post(url, {"contract": contract.pk, "exercised_on": "2025-09-01"})
    assert done.status_code == 302
    extension = contract.extensions.get()
    assert (extension.new_end_date, extension.value_added) == (
        D(2026, 11, 30),
        Decimal("400000.00"),
    )
    assert extension.recorded_by == world.system_admin
    # Recorded once, never changed or deleted.
    change = reverse("admin:organisations_contractextension_change", args=[extension.pk])
    client.post(change, {"contract": contract.pk, "exercised_on": "2020-01-01"})
    extension.refresh_from_db()
    assert extension.exercised_on == D(2025, 9, 1)
    delete = reverse("admin:organisations_contractextension_delete", args=[extension.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert contract.extensions.count() == 1


def test_the_spa_accept_page_warns_when_the_job_would_have_no_live_contract(
    client: Client, tmp_path: object
) -> None:
    import io
    from pathlib import Path

    from django.core.management import call_command

    from referrals.models import Referral
    from safer.accounts.models import User
    from safer.organisations.models import ContractExtension

    assert isinstance(tmp_path, Path)
    call_command("seed_demo", logins_file=tmp_path / "logins.txt", stdout=io.StringIO())
    referral = Referral.objects.get(reference="SAFER-DEMO-0002")  # Canterbury: East Kent
    sign_in(client, User.objects.get(email="spa.triage@example.org"))
    url = reverse("referrals:accept", kwargs={"referral_id": referral.pk})
    page = client.get(url).content.decode()
    assert "Security works:" not in page  # 23/00074 is live, in its second extension
    # Without its extensions the contract ended on 30 November 2025.
    ContractExtension.objects.filter(contract__reference="23/00074").delete()
    page = client.get(url).content.decode()
    assert "Security works: Example Secure Homes (East Kent) has no contract with Kent" in page
