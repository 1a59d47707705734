"""Each access-log row is stamped with the authority of the record read, and an auditor's scope
follows the stamp; rows without one (lists, accounts, rows written before the stamp) keep the
older rules."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from safer.access.seams import record_get_for_user
from safer.audit.models import AccessAction, AccessLog
from safer.audit.scoping import record_authority_id, record_authority_ids
from safer.audit.services import access_log_record
from safer.casefile.models import CaseFile, Person
from tests.factories import AccessLogFactory, PerpetratorFactory, PersonaWorld
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db


def _rows_about(record: Any) -> Any:
    return AccessLog.objects.filter(
        record_type=record._meta.label_lower, record_id=str(record.pk)
    ).order_by("id")


# --- Writing the stamp ----------------------------------------------------------------------------


def test_reading_a_kent_case_stamps_kent_and_a_medway_case_stamps_medway(
    world: PersonaWorld,
) -> None:
    kent_case = record_get_for_user(
        source=CaseFile.objects, user=world.spa_triage, pk=world.own_case.pk
    )
    medway_case = record_get_for_user(
        source=CaseFile.objects, user=world.medway_spa_triage, pk=world.other_authority_case.pk
    )
    assert _rows_about(kent_case).get().authority_id == world.kent.pk
    assert _rows_about(medway_case).get().authority_id == world.medway.pk


def test_opening_a_case_page_stamps_its_authority(client: Client, world: PersonaWorld) -> None:
    sign_in(client, world.medway_spa_triage)
    case = world.other_authority_case
    response = client.get(reverse("casefile:detail", args=[case.pk]))
    assert response.status_code == 200
    assert _rows_about(case).filter(action=AccessAction.VIEW).get().authority == world.medway


def test_a_list_page_stamps_each_case_it_shows(client: Client, world: PersonaWorld) -> None:
    sign_in(client, world.spa_manager)
    assert client.get(reverse("casefile:list")).status_code == 200
    shown = AccessLog.objects.filter(user=world.spa_manager, action=AccessAction.SEARCH)
    assert shown.exists()
    by_case = {row.record_id: row.authority_id for row in shown}
    assert by_case[str(world.own_case.pk)] == world.kent.pk
    assert set(by_case.values()) <= {world.kent.pk, world.medway.pk}
    cases = CaseFile.objects.filter(pk__in=list(by_case)).values_list("pk", "authority_id")
    assert {str(pk): authority for pk, authority in cases} == by_case


def test_a_record_under_a_case_takes_the_cases_authority(world: PersonaWorld) -> None:
    perpetrator = PerpetratorFactory.create(case_file=world.other_authority_case)
    row = access_log_record(user=world.medway_spa_manager, action="view", record=perpetrator)
    assert row.authority_id == world.medway.pk


def test_reads_of_a_list_an_account_or_the_log_itself_have_no_authority(
    client: Client, world: PersonaWorld
) -> None:
    a_list = access_log_record(
        user=world.commissioner, action="view", record_type="reporting.reportrun", record_id="list"
    )
    an_account = access_log_record(user=world.commissioner, action="view", record=world.spa_triage)
    sign_in(client, world.auditor)
    client.get(reverse("audit:access-log"))
    audit_list = AccessLog.objects.get(user=world.auditor, record_type="audit.accesslog")
    assert a_list.authority_id is None
    assert an_account.authority_id is None
    assert audit_list.authority_id is None


def test_an_auditor_opening_a_records_trail_is_stamped_with_its_authority(
    client: Client, world: PersonaWorld
) -> None:
    sign_in(client, world.auditor)
    url = reverse("audit:record-access", args=["casefile.casefile", str(world.own_case.pk)])
    assert client.get(url).status_code == 200
    row = AccessLog.objects.get(user=world.auditor, action=AccessAction.AUDIT_VIEW)
    assert row.authority_id == world.kent.pk


def test_no_query_when_the_path_was_loaded_with_the_record(
    world: PersonaWorld, django_assert_num_queries: Any
) -> None:
    survivor = Person.objects.select_related("household").get(pk=world.own_case.survivor_id)
    with django_assert_num_queries(0):
        assert record_authority_id(survivor) == world.kent.pk
        assert record_authority_id(world.own_case) == world.kent.pk  # its own column


def test_one_small_query_when_it_was_not(
    world: PersonaWorld, django_assert_num_queries: Any
) -> None:
    survivor = Person.objects.get(pk=world.own_case.survivor_id)
    other = Person.objects.get(pk=world.other_authority_case.survivor_id)
    with django_assert_num_queries(1):
        assert record_authority_id(survivor) == world.kent.pk
    with django_assert_num_queries(1):  # a page of records: one query per model
        found = record_authority_ids([survivor, other])
    assert found == {
        ("casefile.person", str(survivor.pk)): world.kent.pk,
        ("casefile.person", str(other.pk)): world.medway.pk,
    }


def test_an_authority_is_its_own_and_an_account_belongs_to_none(world: PersonaWorld) -> None:
    assert record_authority_id(world.medway) == world.medway.pk
    assert record_authority_id(world.spa_triage) is None


# --- Reading by the stamp -------------------------------------------------------------------------


def _shown_to_kent_auditor(client: Client, world: PersonaWorld) -> set[int]:
    sign_in(client, world.auditor)
    response = client.get(reverse("audit:access-log"))
    assert response.status_code == 200
    return {row.pk for row in response.context["page_obj"].object_list}


def test_a_kent_auditor_sees_stamped_kent_rows_and_not_stamped_medway_rows(
    client: Client, world: PersonaWorld
) -> None:
    kent_case = record_get_for_user(
        source=CaseFile.objects, user=world.spa_triage, pk=world.own_case.pk
    )
    medway_case = record_get_for_user(
        source=CaseFile.objects, user=world.medway_spa_triage, pk=world.other_authority_case.pk
    )
    # Keys that match no record: only the stamp can decide these.
    kent_by_medway_reader = AccessLogFactory.create(
        user=world.medway_spa_manager, record_id="no-such-record", authority=world.kent
    )
    medway_by_kent_reader = AccessLogFactory.create(
        user=world.spa_manager, record_id="no-such-record", authority=world.medway
    )

    shown = _shown_to_kent_auditor(client, world)

    assert {_rows_about(kent_case).get().pk, kent_by_medway_reader.pk} <= shown
    assert _rows_about(medway_case).get().pk not in shown
    assert medway_by_kent_reader.pk not in shown


def test_the_page_shows_each_rows_authority(client: Client, world: PersonaWorld) -> None:
    record_get_for_user(source=CaseFile.objects, user=world.spa_triage, pk=world.own_case.pk)
    sign_in(client, world.auditor)
    page = client.get(reverse("audit:access-log")).content.decode()
    assert '<th scope="col" class="govuk-table__header">Authority</th>' in page
    assert world.kent.name in page
    assert world.medway.name not in page


def test_unstamped_rows_follow_the_older_rules(client: Client, world: PersonaWorld) -> None:
    legacy = {
        # About a record: the record's authority decides, whoever read it.
        "kent_case_by_medway": AccessLogFactory.create(
            user=world.medway_spa_manager, record_id=str(world.own_case.pk)
        ),
        "medway_case_by_kent": AccessLogFactory.create(
            user=world.spa_manager, record_id=str(world.other_authority_case.pk)
        ),
        # About no record of an authority: the reader decides.
        "kent_list": AccessLogFactory.create(
            user=world.commissioner, record_type="reporting.reportrun", record_id="list"
        ),
        "medway_list": AccessLogFactory.create(
            user=world.medway_spa_manager, record_type="reporting.reportrun", record_id="list"
        ),
    }
    assert all(row.authority_id is None for row in legacy.values())

    shown = _shown_to_kent_auditor(client, world)

    assert {legacy["kent_case_by_medway"].pk, legacy["kent_list"].pk} <= shown
    assert not {legacy["medway_case_by_kent"].pk, legacy["medway_list"].pk} & shown
