"""Security jobs through the partner API: own jobs only, minimised fields, ETags, and progress
recorded by the same services as the job pages."""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from safer.api.models import ApiClient, Scope
from safer.audit.models import AccessAction, AccessLog
from safer.casefile.models import CaseEvent, Household, Perpetrator, Person, Tenure
from security_works import services
from security_works.models import InstalledMeasure, JobDocument, JobStatus, SecurityJob
from tests.api_support import RELAXED_LIMITS, api, error_shape, issue, measure
from tests.factories import PersonaWorld
from tests.test_security_works_helpers import jpeg_with_gps

JOBS = "/api/v1/jobs/"

# The documented allow-list (docs/api.md, "What a contractor receives"). A new key must be added
# here and there on purpose: this is the minimisation test.
SUMMARY_KEYS = {
    "id",
    "reference",
    "status",
    "priority",
    "district",
    "allocated_at",
    "survey_booked_for",
    "installation_booked_for",
    "next_due_at",
}
DETAIL_KEYS = SUMMARY_KEYS | {
    "status_label",
    "make_safe_due_at",
    "survey_due_at",
    "installation_due_at",
    "surveyed_at",
    "installed_at",
    "landlord_consent_required",
    "landlord_consent_given",
    "allowed_next_states",
    "address",
    "survey_measures",
    "installed_measures",
    "documents",
}
ADDRESS_KEYS = {
    "survivor_first_name",
    "address_line_1",
    "address_line_2",
    "town",
    "postcode",
    "tenure",
    "landlord_name",
    "landlord_contact",
    "access_notes",
    "safe_contact",
}
SAFE_CONTACT_KEYS = {
    "safe_channels",
    "phone",
    "voicemail_safe",
    "text_safe",
    "safe_times",
    "organisation_name_may_be_used",
}
SURVEY_LINE_KEYS = {"code", "description", "quantity", "unit_cost", "location", "is_variation"}
INSTALLED_LINE_KEYS = {"code", "description", "quantity", "actual_cost", "variation_note"}
DOCUMENT_KEYS = {"id", "kind", "content_type", "size", "uploaded_at"}


@pytest.fixture(autouse=True)
def _relaxed_limits(settings) -> None:
    settings.SAFER_API_RATE_LIMITS = RELAXED_LIMITS


@dataclass
class JobsWorld:
    world: PersonaWorld
    own_job: SecurityJob  # contractor A's (the persona world's contractor)
    other_job: SecurityJob  # contractor B's
    client: ApiClient
    token: str  # A, jobs:read + jobs:update
    read_token: str  # A, jobs:read only
    other_token: str  # B, jobs:read + jobs:update

    def url(self, job: SecurityJob, step: str = "") -> str:
        return f"{JOBS}{job.pk}/{step + '/' if step else ''}"


@pytest.fixture
def jw(world: PersonaWorld) -> JobsWorld:
    # An owner-occupier: no landlord consent, so the whole lifecycle runs through the API.
    Household.objects.filter(pk=world.own_case.household_id).update(tenure=Tenure.OWNER_OCCUPIER)
    measure("bs-mortice-lock", "85.00")
    measure("hinge-bolts", "25.00")
    own = services.security_job_allocate(
        case_file=world.own_case, priority="standard", allocated_by=None
    )
    other = services.security_job_allocate(
        case_file=world.other_org_case, priority="emergency", allocated_by=None
    )
    a, b = world.organisations["contractor"], world.organisations["other_contractor"]
    assert own.contractor == a
    assert other.contractor == b
    client, token = issue(a, Scope.JOBS_READ, Scope.JOBS_UPDATE)
    _, read_token = issue(a, Scope.JOBS_READ, name="Read-only")
    _, other_token = issue(b, Scope.JOBS_READ, Scope.JOBS_UPDATE)
    return JobsWorld(world, own, other, client, token, read_token, other_token)


def _post(token: str, url: str, body: dict[str, Any], etag: str | None = None) -> Any:
    headers: dict[str, Any] = {"HTTP_IF_MATCH": etag} if etag else {}
    return api(token).post(url, body, format="json", **headers)


def _soon(days: int = 1) -> str:
    return (timezone.now() + dt.timedelta(days=days)).isoformat()


# --- Reading ------------------------------------------------------------------------------------


def test_list_holds_only_the_clients_own_open_jobs(jw: JobsWorld) -> None:
    response = api(jw.token).get(JOBS)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert [row["id"] for row in body["results"]] == [str(jw.own_job.pk)]
    assert set(body["results"][0]) == SUMMARY_KEYS
    other = api(jw.other_token).get(JOBS).json()
    assert [row["id"] for row in other["results"]] == [str(jw.other_job.pk)]


def test_list_filters_by_status_and_due_date(jw: JobsWorld) -> None:
    due = timezone.localtime(jw.own_job.next_due_at).date()
    client = api(jw.token)

    def ids(query: str) -> list[str]:
        return [row["id"] for row in client.get(f"{JOBS}?{query}").json()["results"]]

    assert ids("status=allocated") == [str(jw.own_job.pk)]
    assert ids("status=surveyed") == []
    assert ids(f"due_before={due}") == [str(jw.own_job.pk)]
    assert ids(f"due_before={due - dt.timedelta(days=1)}") == []
    assert ids(f"due_after={due}") == [str(jw.own_job.pk)]
    assert ids(f"due_after={due + dt.timedelta(days=1)}") == []
    bad = client.get(f"{JOBS}?due_before=tomorrow&status=completed")
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"due_before", "status"}


def test_list_etag_gives_304_until_something_changes(jw: JobsWorld) -> None:
    client = api(jw.token)
    first = client.get(JOBS)
    etag = first["ETag"]
    unchanged = client.get(JOBS, HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    services.security_job_book_survey(
        job=jw.own_job, actor=None, booked_for=timezone.now() + dt.timedelta(days=1)
    )
    changed = client.get(JOBS, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_list_is_paginated(jw: JobsWorld) -> None:
    body = api(jw.token).get(f"{JOBS}?page_size=1").json()
    assert (body["count"], body["next"], body["previous"]) == (1, None, None)
    beyond = api(jw.token).get(f"{JOBS}?page=9")
    assert beyond.status_code == 404
    assert error_shape(beyond.json())


def test_open_job_detail_keys_are_exactly_the_allow_list(jw: JobsWorld) -> None:
    response = api(jw.token).get(jw.url(jw.own_job))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == DETAIL_KEYS
    assert set(body["address"]) == ADDRESS_KEYS
    assert set(body["address"]["safe_contact"]) == SAFE_CONTACT_KEYS
    household = jw.world.own_case.household
    assert body["address"]["address_line_1"] == household.address_line_1
    assert body["address"]["survivor_first_name"] == jw.world.own_case.survivor.given_name
    assert body["allowed_next_states"] == ["cancelled", "on_hold", "survey_booked"]
    assert response["ETag"]


def test_a_contractor_never_receives_perpetrator_risk_or_children(jw: JobsWorld) -> None:
    case = jw.world.own_case
    services.security_job_record_survey(
        job=services.security_job_book_survey(
            job=jw.own_job, actor=None, booked_for=timezone.now()
        ),
        actor=None,
        lines=[services.MeasureLine(measure=jw_measure("hinge-bolts"), quantity=Decimal(1))],
        survivor_consents=True,
    )
    text = api(jw.token).get(jw.url(jw.own_job)).content.decode()
    perpetrator = Perpetrator.objects.get(case_file=case)
    children = Person.objects.filter(household=case.household, household_role="child")
    assert children.exists()
    forbidden = [perpetrator.name, *[c.given_name for c in children]]
    assert all(value and value not in text for value in forbidden)
    for word in ("perpetrator", "risk", "dash", "marac", "child"):
        assert word not in json.dumps(sorted(_all_keys(json.loads(text))))


def jw_measure(code: str) -> Any:
    from security_works.models import Measure

    return Measure.objects.get(code=code)


def _all_keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _all_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _all_keys(v)}
    return set()


def test_reading_a_job_logs_the_view_and_the_address_under_the_client(jw: JobsWorld) -> None:
    api(jw.token).get(jw.url(jw.own_job))
    rows = AccessLog.objects.filter(user=jw.client.user).order_by("id")
    assert [(r.action, r.record_type) for r in rows] == [
        (AccessAction.VIEW, "security_works.securityjob"),
        (AccessAction.REVEAL_ADDRESS, "casefile.casefile"),
    ]
    assert jw.client.name in rows[0].user_label


def test_detail_etag_gives_304_without_reading_the_address(jw: JobsWorld) -> None:
    etag = api(jw.token).get(jw.url(jw.own_job))["ETag"]
    reveals = AccessLog.objects.filter(action=AccessAction.REVEAL_ADDRESS).count()
    response = api(jw.token).get(jw.url(jw.own_job), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert AccessLog.objects.filter(action=AccessAction.REVEAL_ADDRESS).count() == reveals


def test_closed_job_has_no_address_and_leaves_the_list(jw: JobsWorld) -> None:
    job = jw.own_job
    services.security_job_cancel(job=job, actor=None, reason="survivor_declined")
    body = api(jw.token).get(jw.url(job)).json()
    assert set(body) == DETAIL_KEYS
    assert body["status"] == "cancelled"
    assert body["address"] is None
    assert body["documents"] == []
    assert body["allowed_next_states"] == []
    assert api(jw.token).get(JOBS).json()["count"] == 0


# --- Contractor A and contractor B --------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "body"),
    [
        ("", None),
        ("survey-booking", {"booked_for": _soon()}),
        (
            "survey",
            {"survivor_consents": True, "measures": [{"code": "hinge-bolts", "quantity": "1"}]},
        ),
        ("installation-booking", {"booked_for": _soon()}),
        (
            "installation",
            {"measures": [{"code": "hinge-bolts", "quantity": "1", "actual_cost": "25.00"}]},
        ),
    ],
)
def test_a_token_of_contractor_a_cannot_read_or_update_bs_job(
    jw: JobsWorld, step: str, body: dict[str, Any] | None
) -> None:
    before = SecurityJob.objects.get(pk=jw.other_job.pk)
    url = jw.url(jw.other_job, step)
    client = api(jw.token)
    response = client.get(url) if body is None else client.post(url, body, format="json")
    assert response.status_code == 404
    assert response.json() == {"message": "No record found.", "errors": {}}
    after = SecurityJob.objects.get(pk=jw.other_job.pk)
    assert (after.status, after.survey_booked_for) == (before.status, before.survey_booked_for)


def test_b_cannot_upload_to_as_job(jw: JobsWorld) -> None:
    upload = SimpleUploadedFile("p.jpg", jpeg_with_gps(), content_type="image/jpeg")
    response = api(jw.other_token).post(
        jw.url(jw.own_job, "documents"),
        {"kind": "survey_photo", "file": upload},
        format="multipart",
    )
    assert response.status_code == 404
    assert not JobDocument.objects.exists()


# --- Recording progress -------------------------------------------------------------------------


def test_the_whole_job_through_the_api(jw: JobsWorld) -> None:
    job, token = jw.own_job, jw.token
    etag = api(token).get(jw.url(job))["ETag"]

    booked = _post(token, jw.url(job, "survey-booking"), {"booked_for": _soon()}, etag)
    assert booked.status_code == 200, booked.json()
    assert booked.json()["status"] == "survey_booked"
    assert booked["ETag"] != etag

    # A stale ETag: refused, nothing recorded.
    stale = _post(token, jw.url(job, "survey-booking"), {"booked_for": _soon(2)}, etag)
    assert stale.status_code == 412
    assert error_shape(stale.json())

    survey = {
        "survivor_consents": True,
        "measures": [
            {"code": "bs-mortice-lock", "quantity": "1", "location": "Front door"},
            {"code": "hinge-bolts", "quantity": "2"},
        ],
    }
    surveyed = _post(token, jw.url(job, "survey"), survey, booked["ETag"])
    assert surveyed.status_code == 200, surveyed.json()
    assert surveyed.json()["status"] == "surveyed"

    install_booked = _post(token, jw.url(job, "installation-booking"), {"booked_for": _soon()})
    assert install_booked.json()["status"] == "installation_booked"

    fitted = {
        "measures": [
            {"code": "bs-mortice-lock", "quantity": "1", "actual_cost": "85.00"},
            {"code": "hinge-bolts", "quantity": "2", "actual_cost": "48.00", "variation_note": ""},
        ]
    }
    installed = _post(token, jw.url(job, "installation"), fitted, install_booked["ETag"])
    assert installed.status_code == 200, installed.json()
    assert installed.json() == {
        "id": str(job.pk),
        "reference": job.reference,
        "status": "installed",
        "allowed_next_states": ["cancelled", "checked", "on_hold"],
    }

    job.refresh_from_db()
    assert job.status == JobStatus.INSTALLED
    assert sorted(
        InstalledMeasure.objects.filter(job=job).values_list("measure__code", "actual_cost")
    ) == [("bs-mortice-lock", 85), ("hinge-bolts", 48)]
    # The same services as the web: a case event per step, by the client's account.
    kinds = list(
        CaseEvent.objects.filter(case_file=job.case_file, actor=jw.client.user)
        .order_by("occurred_at")
        .values_list("kind", flat=True)
    )
    assert kinds == [
        "security_job.survey_booked",
        "security_job.survey_recorded",
        "security_job.installation_booked",
        "security_job.installed",
    ]
    detail = api(token).get(jw.url(job)).json()
    assert {tuple(sorted(line)) for line in detail["survey_measures"]} == {
        tuple(sorted(SURVEY_LINE_KEYS))
    }
    assert {tuple(sorted(line)) for line in detail["installed_measures"]} == {
        tuple(sorted(INSTALLED_LINE_KEYS))
    }


def test_an_illegal_step_is_409_with_the_allowed_next_states(jw: JobsWorld) -> None:
    fitted = {"measures": [{"code": "hinge-bolts", "quantity": "1", "actual_cost": "25.00"}]}
    response = _post(jw.token, jw.url(jw.own_job, "installation"), fitted)
    assert response.status_code == 409
    body = response.json()
    assert body["allowed_next_states"] == ["cancelled", "on_hold", "survey_booked"]
    assert body["message"].startswith("This job is allocated, so it cannot be")
    assert SecurityJob.objects.get(pk=jw.own_job.pk).status == JobStatus.ALLOCATED


def test_a_step_blocked_by_the_service_is_409(jw: JobsWorld) -> None:
    services.security_job_book_survey(job=jw.own_job, actor=None, booked_for=timezone.now())
    survey = {"survivor_consents": False, "measures": [{"code": "hinge-bolts", "quantity": "1"}]}
    response = _post(jw.token, jw.url(jw.own_job, "survey"), survey)
    assert response.status_code == 409
    assert "consent" in response.json()["message"]
    assert "surveyed" in response.json()["allowed_next_states"]


def test_unknown_measure_codes_are_422_by_path(jw: JobsWorld) -> None:
    services.security_job_book_survey(job=jw.own_job, actor=None, booked_for=timezone.now())
    survey = {
        "survivor_consents": True,
        "measures": [{"code": "hinge-bolts", "quantity": "1"}, {"code": "moat", "quantity": "1"}],
    }
    response = _post(jw.token, jw.url(jw.own_job, "survey"), survey)
    assert response.status_code == 422  # the body matches the schema; the code breaks a rule
    assert list(response.json()["errors"]) == ["measures.1.code"]


def test_members_the_schema_does_not_name_are_refused_not_dropped(jw: JobsWorld) -> None:
    services.security_job_book_survey(job=jw.own_job, actor=None, booked_for=timezone.now())
    survey = {
        "survivor_consents": True,
        "measures": [{"code": "hinge-bolts", "quantity": "1", "colour": "red"}],
        "notes": "side gate sticks",
    }
    response = _post(jw.token, jw.url(jw.own_job, "survey"), survey)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"notes", "measures.0.colour"}
    number = {"survivor_consents": True, "measures": [{"code": "hinge-bolts", "quantity": 1}]}
    response = _post(jw.token, jw.url(jw.own_job, "survey"), number)
    assert response.status_code == 400  # amounts are patterned strings, as the schema says
    assert list(response.json()["errors"]) == ["measures.0.quantity"]
    assert SecurityJob.objects.get(pk=jw.own_job.pk).status == JobStatus.SURVEY_BOOKED


def test_malformed_step_bodies_are_400_with_field_paths(jw: JobsWorld) -> None:
    response = _post(jw.token, jw.url(jw.own_job, "survey"), {"measures": [{"quantity": -1}]})
    assert response.status_code == 400
    assert {"survivor_consents", "measures.0.code", "measures.0.quantity"} <= set(
        response.json()["errors"]
    )


def test_a_read_only_token_cannot_record_progress(jw: JobsWorld) -> None:
    response = _post(jw.read_token, jw.url(jw.own_job, "survey-booking"), {"booked_for": _soon()})
    assert response.status_code == 403
    assert SecurityJob.objects.get(pk=jw.own_job.pk).status == JobStatus.ALLOCATED


def test_photo_upload_strips_exif_and_refuses_programs(jw: JobsWorld) -> None:
    url = jw.url(jw.own_job, "documents")
    photo = SimpleUploadedFile("front door.jpg", jpeg_with_gps(), content_type="image/jpeg")
    response = api(jw.token).post(url, {"kind": "survey_photo", "file": photo}, format="multipart")
    assert response.status_code == 201, response.json()
    assert set(response.json()) == DOCUMENT_KEYS
    document = JobDocument.objects.get(pk=response.json()["id"])
    with document.file.open("rb") as stored, Image.open(io.BytesIO(stored.read())) as image:
        assert not image.getexif()
    program = SimpleUploadedFile(
        "photo.jpg", b"MZ\x90\x00" + b"\x00" * 64, content_type="image/jpeg"
    )
    refused = api(jw.token).post(url, {"kind": "survey_photo", "file": program}, format="multipart")
    assert refused.status_code == 422
    assert "program" in refused.json()["message"]
    empty = SimpleUploadedFile("photo.jpg", b"", content_type="image/jpeg")
    refused = api(jw.token).post(url, {"kind": "survey_photo", "file": empty}, format="multipart")
    assert refused.status_code == 422
    assert list(refused.json()["errors"]) == ["file"]
    detail = api(jw.token).get(jw.url(jw.own_job)).json()
    assert [set(d) for d in detail["documents"]] == [DOCUMENT_KEYS]


def test_upload_to_a_closed_job_is_409(jw: JobsWorld) -> None:
    services.security_job_cancel(job=jw.own_job, actor=None, reason="survivor_declined")
    photo = SimpleUploadedFile("p.jpg", jpeg_with_gps(), content_type="image/jpeg")
    response = api(jw.token).post(
        jw.url(jw.own_job, "documents"), {"kind": "survey_photo", "file": photo}, format="multipart"
    )
    assert response.status_code == 409
    assert response.json()["allowed_next_states"] == []
