"""An auditor reads only the trail of their own commissioning authority: Kent's auditor never sees
who looked at, or changed, Medway's records, nor Medway staff's sign-ins, on a page or in a CSV."""

from __future__ import annotations

import csv
import io
import re
import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from safer.audit.models import AccessAction, AccessLog, AuthEventKind
from safer.audit.scoping import authority_paths
from safer.audit.selectors import auditable_models
from safer.casefile.models import CaseFile, Person
from tests.factories import AccessLogFactory, AuthEventFactory, PerpetratorFactory, PersonaWorld
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db


def _csv(response: Any) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def kent_auditor(client: Client, world: PersonaWorld) -> Client:
    return sign_in(client, world.auditor)


@pytest.fixture
def trail(world: PersonaWorld) -> dict[str, AccessLog]:
    kent_case, medway_case = world.own_case, world.other_authority_case
    return {
        "kent_case": AccessLogFactory.create(
            user=world.spa_triage, record_type="casefile.casefile", record_id=str(kent_case.pk)
        ),
        "kent_person": AccessLogFactory.create(
            user=world.spa_triage,
            action=AccessAction.REVEAL_ADDRESS,
            record_type="casefile.person",
            record_id=str(kent_case.survivor_id),
        ),
        "medway_case": AccessLogFactory.create(
            user=world.medway_spa_triage,
            record_type="casefile.casefile",
            record_id=str(medway_case.pk),
        ),
        "medway_person": AccessLogFactory.create(
            user=world.medway_spa_manager,
            action=AccessAction.REVEAL_ADDRESS,
            record_type="casefile.person",
            record_id=str(medway_case.survivor_id),
        ),
        # Kent staff whose organisation also serves Medway, reading a Medway case: the record
        # decides, not the reader.
        "medway_case_by_kent_staff": AccessLogFactory.create(
            user=world.spa_manager,
            action=AccessAction.BREAK_GLASS,
            record_type="casefile.casefile",
            record_id=str(medway_case.pk),
        ),
        # Rows about no record of an authority: the reader decides.
        "kent_list": AccessLogFactory.create(
            user=world.commissioner, record_type="reporting.reportrun", record_id="list"
        ),
        "medway_list": AccessLogFactory.create(
            user=world.medway_spa_manager, record_type="reporting.reportrun", record_id="list"
        ),
    }


def test_kent_auditor_sees_only_kent_rows_in_the_access_log(
    kent_auditor: Client, trail: dict[str, AccessLog]
) -> None:
    response = kent_auditor.get(reverse("audit:access-log"))
    assert response.status_code == 200
    shown = {row.pk for row in response.context["page_obj"].object_list}
    assert shown >= {trail["kent_case"].pk, trail["kent_person"].pk, trail["kent_list"].pk}
    for hidden in ("medway_case", "medway_person", "medway_case_by_kent_staff", "medway_list"):
        assert trail[hidden].pk not in shown, hidden
    page = response.content.decode()
    assert "Medway Spa Triage Persona" not in page
    assert "Medway Spa Manager Persona" not in page


def test_kent_auditor_export_has_no_medway_rows(
    kent_auditor: Client, trail: dict[str, AccessLog], world: PersonaWorld
) -> None:
    response = kent_auditor.get(reverse("audit:access-log-export"))
    assert response.status_code == 200
    rows = _csv(response)[1:]
    exported = {(r[3], r[4]) for r in rows}
    medway_case = world.other_authority_case
    assert ("casefile.casefile", str(world.own_case.pk)) in exported
    assert ("casefile.casefile", str(medway_case.pk)) not in exported
    assert ("casefile.person", str(medway_case.survivor_id)) not in exported
    assert not any("medway" in r[1].lower() for r in rows)


@pytest.mark.parametrize(
    "name",
    [
        "audit:record-access",
        "audit:record-access-export",
        "audit:record-changes",
        "audit:record-changes-export",
    ],
)
@pytest.mark.parametrize("record", ["case", "person", "household"])
def test_another_authoritys_record_pages_are_404(
    kent_auditor: Client, world: PersonaWorld, trail: dict[str, AccessLog], name: str, record: str
) -> None:
    medway_case = world.other_authority_case
    args = {
        "case": ["casefile.casefile", str(medway_case.pk)],
        "person": ["casefile.person", str(medway_case.survivor_id)],
        "household": ["casefile.household", str(medway_case.household_id)],
    }[record]
    before = AccessLog.objects.count()
    assert kent_auditor.get(reverse(name, args=args)).status_code == 404
    assert AccessLog.objects.count() == before  # nothing was read, so nothing logged


def test_own_authoritys_record_page_leaves_out_rows_about_other_records(
    kent_auditor: Client, world: PersonaWorld, trail: dict[str, AccessLog]
) -> None:
    response = kent_auditor.get(
        reverse("audit:record-access", args=["casefile.casefile", str(world.own_case.pk)])
    )
    assert response.status_code == 200
    rows = response.context["page_obj"].object_list
    shown = {row.pk for row in rows if row.user_id != world.auditor.pk}  # not the page's own row
    assert shown == {trail["kent_case"].pk, trail["kent_person"].pk}


def test_looking_up_another_authoritys_case_says_not_found(
    kent_auditor: Client, world: PersonaWorld
) -> None:
    medway_case = world.other_authority_case
    by_reference = kent_auditor.get(reverse("audit:home"), {"reference": medway_case.reference})
    assert by_reference.status_code == 200
    assert "No case has this reference" in by_reference.content.decode()
    by_id = kent_auditor.get(
        reverse("audit:home"),
        {"record_type": "casefile.person", "record_id": str(medway_case.survivor_id)},
    )
    assert by_id.status_code == 200
    assert "This is not a valid ID for that record type" in by_id.content.decode()


def test_medway_auditor_sees_medway_and_not_kent(
    client: Client, world: PersonaWorld, trail: dict[str, AccessLog]
) -> None:
    medway_auditor = world.auditor
    medway_auditor.authorities.set([world.medway])
    assert medway_auditor.organisation is not None
    medway_auditor.organisation.authorities.add(world.medway)
    sign_in(client, medway_auditor)
    rows = _csv(client.get(reverse("audit:access-log-export")))[1:]
    exported = {(r[3], r[4]) for r in rows}
    assert ("casefile.casefile", str(world.other_authority_case.pk)) in exported
    assert ("casefile.casefile", str(world.own_case.pk)) not in exported
    medway_case_url = reverse(
        "audit:record-access", args=["casefile.casefile", str(world.other_authority_case.pk)]
    )
    assert client.get(medway_case_url).status_code == 200


def test_sign_in_events_are_only_of_the_auditors_authority_staff(
    kent_auditor: Client, world: PersonaWorld
) -> None:
    kent = AuthEventFactory.create(user=world.spa_triage, kind=AuthEventKind.SIGN_IN)
    medway = AuthEventFactory.create(user=world.medway_spa_triage, kind=AuthEventKind.SIGN_IN)
    kent_failed = AuthEventFactory.create(
        user=None,
        kind=AuthEventKind.SIGN_IN_FAILED,
        attempted_username=world.spa_triage.email.upper(),
    )
    medway_failed = AuthEventFactory.create(
        user=None,
        kind=AuthEventKind.SIGN_IN_FAILED,
        attempted_username=world.medway_spa_triage.email,
    )

    page = kent_auditor.get(reverse("audit:sign-ins"))
    shown = {row.pk for row in page.context["page_obj"].object_list}
    assert {kent.pk, kent_failed.pk} <= shown
    assert not {medway.pk, medway_failed.pk} & shown

    rows = _csv(kent_auditor.get(reverse("audit:sign-ins-export")))[1:]
    people = {r[2] or r[3].lower() for r in rows}
    assert world.spa_triage.email in people
    assert world.medway_spa_triage.email not in people


def test_an_auditor_with_no_authority_sees_nothing(
    client: Client, world: PersonaWorld, trail: dict[str, AccessLog]
) -> None:
    world.auditor.authorities.clear()
    sign_in(client, world.auditor)
    assert _csv(client.get(reverse("audit:access-log-export")))[1:] == []
    url = reverse("audit:record-access", args=["casefile.casefile", str(world.own_case.pk)])
    assert client.get(url).status_code == 404


def test_records_belong_to_an_authority_through_their_parents() -> None:
    assert authority_paths(CaseFile) == ("authority",)
    assert authority_paths(Person) == ("household__authority",)
    from support.models import ContactAttempt

    # A row that hangs off one of two parents belongs through either.
    assert authority_paths(ContactAttempt) == (
        "adult_case__case_file__authority",
        "cyp_case__case_file__authority",
    )


def test_a_deleted_record_keeps_its_authority_through_its_history(
    kent_auditor: Client, world: PersonaWorld
) -> None:
    medway = PerpetratorFactory.create(case_file=world.other_authority_case)
    kent = PerpetratorFactory.create(case_file=world.own_case)
    ids = {"medway": str(medway.pk), "kent": str(kent.pk)}
    for key, reader in (("medway", world.medway_spa_manager), ("kent", world.spa_manager)):
        AccessLogFactory.create(user=reader, record_type="casefile.perpetrator", record_id=ids[key])
    medway.delete()
    kent.delete()

    def url(key: str) -> str:
        return reverse("audit:record-access", args=["casefile.perpetrator", ids[key]])

    assert kent_auditor.get(url("medway")).status_code == 404
    assert kent_auditor.get(url("kent")).status_code == 200
    exported = {r[4] for r in _csv(kent_auditor.get(reverse("audit:access-log-export")))[1:]}
    assert ids["kent"] in exported
    assert ids["medway"] not in exported


# --- No existence oracle: "never existed" and "another authority's" answer alike ---------------


def _random_id(model: Any) -> str:
    field = model._meta.pk
    if field.get_internal_type() == "UUIDField":
        return str(uuid.uuid4())
    if field.get_internal_type() in {"AutoField", "BigAutoField", "IntegerField", "SmallAutoField"}:
        return "987654321"
    return "no-such-record-x9"


def _body(response: Any, record_id: str) -> str:
    """The page without what differs on every response (CSP nonce, CSRF token) and the id."""
    text = re.sub(r'nonce="[^"]*"', "", response.content.decode())
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)
    return text.replace(record_id, "ID")


@pytest.mark.parametrize(
    "name",
    [
        "audit:record-access",
        "audit:record-access-export",
        "audit:record-changes",
        "audit:record-changes-export",
    ],
)
def test_a_random_id_and_another_authoritys_case_answer_alike(
    kent_auditor: Client, world: PersonaWorld, name: str
) -> None:
    medway_id, missing_id = str(world.other_authority_case.pk), str(uuid.uuid4())
    medway = kent_auditor.get(reverse(name, args=["casefile.casefile", medway_id]))
    missing = kent_auditor.get(reverse(name, args=["casefile.casefile", missing_id]))
    assert medway.status_code == missing.status_code == 404
    assert _body(medway, medway_id) == _body(missing, missing_id)
    own = kent_auditor.get(reverse(name, args=["casefile.casefile", str(world.own_case.pk)]))
    assert own.status_code == 200


def test_an_id_that_names_nothing_is_404_for_every_record_type(
    kent_auditor: Client, world: PersonaWorld
) -> None:
    opened = []
    for model in auditable_models():
        label = model._meta.label_lower
        response = kent_auditor.get(reverse("audit:record-access", args=[label, _random_id(model)]))
        if response.status_code != 404:
            opened.append((label, response.status_code))
    assert not opened
    # The lookup says "not found" too.
    lookup = kent_auditor.get(
        reverse("audit:home"), {"record_type": "casefile.casefile", "record_id": str(uuid.uuid4())}
    )
    assert "This is not a valid ID for that record type" in lookup.content.decode()


def test_another_authoritys_staff_account_is_404_like_a_missing_one(
    kent_auditor: Client, world: PersonaWorld
) -> None:
    label = "accounts.user"
    theirs = kent_auditor.get(
        reverse("audit:record-access", args=[label, str(world.medway_spa_triage.pk)])
    )
    missing = kent_auditor.get(reverse("audit:record-access", args=[label, str(uuid.uuid4())]))
    assert theirs.status_code == missing.status_code == 404
    own = kent_auditor.get(reverse("audit:record-access", args=[label, str(world.spa_triage.pk)]))
    assert own.status_code == 200


def test_a_missing_record_with_a_row_the_auditor_may_read_still_opens(
    kent_auditor: Client, world: PersonaWorld
) -> None:
    gone = str(uuid.uuid4())
    AccessLogFactory.create(user=world.spa_triage, record_type="casefile.person", record_id=gone)
    response = kent_auditor.get(reverse("audit:record-access", args=["casefile.person", gone]))
    assert response.status_code == 200
    # The same kind of row by Medway staff is not the Kent auditor's to read: not found.
    other = str(uuid.uuid4())
    AccessLogFactory.create(
        user=world.medway_spa_triage, record_type="casefile.person", record_id=other
    )
    assert (
        kent_auditor.get(
            reverse("audit:record-access", args=["casefile.person", other])
        ).status_code
        == 404
    )
