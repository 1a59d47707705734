"""The contractor's allow-list (``security_works.contractor_view``): the job page, the job sheet PDF
and the API show a contractor exactly the allow-listed fields of an open job, and no address once
it is closed. Every personal field of the case carries a marker; only the allowed ones may appear.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from django.test import Client
from django.urls import reverse

from safer.api.models import Scope
from safer.casefile.models import ContactChannel, Household, Person, SafeContactRules
from security_works import services
from security_works.api.serializers import JobAddressSerializer, SafeContactSerializer
from security_works.contractor_view import ADDRESS_FIELDS, VISIT_CONTACT_FIELDS
from security_works.models import JobPriority, SecurityJob
from tests.api_support import RELAXED_LIMITS, api, issue
from tests.helpers import sign_in
from tests.test_security_works_helpers import World, build_world, case_file

pytestmark = pytest.mark.django_db

ALLOWED = {
    "address": "MARKERADDR 1 Sanctuary Road",
    "access_notes": "MARKERACCESS ring the side bell; dog in the garden",
    "phone": "07700 900987",
    "safe_times": "MARKERTIMES weekdays 10am to 12pm",
    "first_name": "MarkerAlex",
}
FORBIDDEN = {
    "safe email": "marker-email@example.org",
    "contact notes": "MARKERNOTES her sister knows",
    "alternative contact": "MARKERALT friend on 07700 900111",
    "perpetrator": "MARKERPERP",
    "child": "MARKERCHILD",
}


@pytest.fixture(autouse=True)
def _relaxed_limits(settings) -> None:
    settings.SAFER_API_RATE_LIMITS = RELAXED_LIMITS


@pytest.fixture
def world() -> World:
    return build_world()


@pytest.fixture
def job(world: World) -> SecurityJob:
    case = case_file(world.kent, world.thanet)
    Household.objects.filter(pk=case.household_id).update(address_line_1=ALLOWED["address"])
    Person.objects.filter(pk=case.survivor_id).update(given_name=ALLOWED["first_name"])
    Person.objects.filter(household_id=case.household_id, household_role="child").update(
        given_name=FORBIDDEN["child"]
    )
    case.perpetrators.update(name=FORBIDDEN["perpetrator"])
    SafeContactRules.objects.filter(case_file=case).update(
        phone=ALLOWED["phone"],
        email=FORBIDDEN["safe email"],
        # Email is safe for the SPA but never a contractor's channel; texts are listed but not
        # marked safe, so they are left out too.
        safe_channels=[ContactChannel.PHONE, ContactChannel.EMAIL, ContactChannel.TEXT],
        text_safe=False,
        voicemail_safe=False,
        safe_times=ALLOWED["safe_times"],
        alternative_contact=FORBIDDEN["alternative contact"],
        notes=FORBIDDEN["contact notes"],
    )
    job = services.security_job_allocate(
        case_file=case, priority=JobPriority.STANDARD, allocated_by=world.spa_worker
    )
    return services.security_job_access_notes_update(
        job=job, actor=world.spa_worker, access_notes=ALLOWED["access_notes"]
    )


def _page(world: World, job: SecurityJob) -> str:
    client = sign_in(Client(), world.acme_user)
    response = client.get(reverse("security_works:job-detail", kwargs={"job_id": job.pk}))
    assert response.status_code == 200
    return response.content.decode()


def _pdf_text(world: World, job: SecurityJob, tmp_path) -> str:
    client = sign_in(Client(), world.acme_user)
    response = client.get(reverse("security_works:job-sheet", kwargs={"job_id": job.pk}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pdf = tmp_path / "sheet.pdf"
    pdf.write_bytes(response.content)
    return subprocess.run(  # noqa: S603
        ["pdftotext", "-layout", str(pdf), "-"],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def _api(world: World, job: SecurityJob) -> dict:
    _, token = issue(world.acme, Scope.JOBS_READ)
    response = api(token).get(f"/api/v1/jobs/{job.pk}/")
    assert response.status_code == 200
    return response.json()


def _close(world: World, job: SecurityJob) -> None:
    services.security_job_cancel(job=job, actor=world.spa_worker, reason="duplicate")


needs_pdftotext = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="needs poppler-utils (pdftotext)"
)


def test_the_api_serializers_declare_exactly_the_allow_list() -> None:
    assert tuple(JobAddressSerializer().fields) == ADDRESS_FIELDS
    assert tuple(SafeContactSerializer().fields) == VISIT_CONTACT_FIELDS


def test_the_page_shows_the_allowed_fields_of_an_open_job_and_nothing_else(
    world: World, job: SecurityJob
) -> None:
    html = _page(world, job)
    for name, value in ALLOWED.items():
        assert value.replace("'", "&#x27;") in html, name
    assert "Phone call" in html
    for name, value in FORBIDDEN.items():
        assert value not in html, name
    assert "Safe email" not in html


@needs_pdftotext
def test_the_job_sheet_shows_the_same_allow_list(world: World, job: SecurityJob, tmp_path) -> None:
    text = " ".join(_pdf_text(world, job, tmp_path).split())
    for name, value in ALLOWED.items():
        assert value in text, name
    for name, value in FORBIDDEN.items():
        assert value not in text, name


def test_the_api_gives_the_allow_list_with_only_visit_channels(
    world: World, job: SecurityJob
) -> None:
    body = _api(world, job)
    address = body["address"]
    assert tuple(address) == ADDRESS_FIELDS
    assert tuple(address["safe_contact"]) == VISIT_CONTACT_FIELDS
    assert address["safe_contact"]["safe_channels"] == ["phone"]
    assert address["safe_contact"]["phone"] == ALLOWED["phone"]
    assert address["access_notes"] == ALLOWED["access_notes"]
    raw = json.dumps(body)
    for name, value in FORBIDDEN.items():
        assert value not in raw, name


def test_no_route_left_means_through_the_spa(world: World, job: SecurityJob) -> None:
    SafeContactRules.objects.filter(case_file=job.case_file).update(
        safe_channels=[ContactChannel.EMAIL]
    )
    body = _api(world, job)
    assert body["address"]["safe_contact"]["safe_channels"] == []
    assert body["address"]["safe_contact"]["phone"] == ""
    assert "arrange the visit through the SPA" in _page(world, job)


@needs_pdftotext
def test_once_closed_no_address_in_page_pdf_or_api(
    world: World, job: SecurityJob, tmp_path
) -> None:
    _close(world, job)
    html = _page(world, job)
    text = _pdf_text(world, job, tmp_path)
    raw = json.dumps(_api(world, job))
    for output in (html, text, raw):
        for value in (*ALLOWED.values(), *FORBIDDEN.values()):
            assert value not in output
    assert "not shown: the job is closed" in text
