"""Security works pages: the contractor permission rows, the job list, the forms and the files."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from safer.audit.models import AccessAction, AccessLog
from safer.casefile.models import Tenure
from security_works import services
from security_works.models import (
    CancellationReason,
    DocumentKind,
    JobDocument,
    JobPriority,
    JobStatus,
    SecurityJob,
)
from tests.helpers import govuk_date, sign_in
from tests.test_security_works_helpers import (
    World,
    build_world,
    case_file,
    job_reload,
    jpeg_with_gps,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return build_world()


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path: Path) -> Path:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    return tmp_path


def allocate(w: World, *, tenure: str = Tenure.OWNER_OCCUPIER) -> SecurityJob:
    case = case_file(w.kent, w.thanet, tenure=tenure)
    return services.security_job_allocate(
        case_file=case, priority=JobPriority.STANDARD, allocated_by=w.spa_worker
    )


def client_for(user) -> Client:
    return sign_in(Client(), user)


def detail_url(job: SecurityJob) -> str:
    return reverse("security_works:job-detail", kwargs={"job_id": job.pk})


def logs(action: str, record_type: str, record_id: object) -> int:
    return AccessLog.objects.filter(
        action=action, record_type=record_type, record_id=str(record_id)
    ).count()


class TestContractorPermissionRows:
    def test_own_open_job_shows_the_address_and_safe_contact_rules(self, world: World) -> None:
        job = allocate(world)
        response = client_for(world.acme_user).get(detail_url(job))
        assert response.status_code == 200
        page = response.content.decode()
        household = job.case_file.household
        assert household.address_line_1 in page
        assert household.postcode in page
        assert "07700 900123" in page  # the safe phone number
        assert "Do not leave voicemail" in page
        # Never the perpetrator or the children.
        assert "Perry Petrator" not in page
        assert "Kimberley-Rose" not in page
        assert logs(AccessAction.VIEW, "security_works.securityjob", job.pk) == 1
        assert logs(AccessAction.REVEAL_ADDRESS, "casefile.casefile", job.case_file_id) == 1

    def test_own_closed_job_shows_only_the_reference(self, world: World) -> None:
        job = allocate(world)
        services.security_job_cancel(
            job=job, actor=world.spa_worker, reason=CancellationReason.SURVIVOR_MOVED
        )
        response = client_for(world.acme_user).get(detail_url(job))
        assert response.status_code == 200
        page = response.content.decode()
        assert job.reference in page
        household = job.case_file.household
        assert household.address_line_1 not in page
        assert household.postcode not in page
        assert "07700 900123" not in page
        assert "Alex" not in page
        assert logs(AccessAction.REVEAL_ADDRESS, "casefile.casefile", job.case_file_id) == 0

    def test_another_contractors_job_is_not_found(self, world: World) -> None:
        job = allocate(world)
        for outsider in (world.bolt_user, world.medway_user):
            client = client_for(outsider)
            assert client.get(detail_url(job)).status_code == 404
            book = reverse("security_works:book-survey", kwargs={"job_id": job.pk})
            assert (
                client.post(
                    book,
                    {**govuk_date("date", "2026-06-02"), "time": "10:00", "arranged_via": "text"},
                ).status_code
                == 404
            )
        assert job_reload(job).status == JobStatus.ALLOCATED

    def test_a_missing_job_is_the_same_404(self, world: World) -> None:
        missing = reverse(
            "security_works:job-detail", kwargs={"job_id": "00000000-0000-0000-0000-000000000000"}
        )
        assert client_for(world.acme_user).get(missing).status_code == 404

    def test_spa_staff_see_the_address(self, world: World) -> None:
        job = allocate(world)
        response = client_for(world.spa_worker).get(detail_url(job))
        assert response.status_code == 200
        assert job.case_file.household.address_line_1 in response.content.decode()

    def test_roles_without_jobs_are_refused(self, world: World) -> None:
        job = allocate(world)
        commissioner = client_for(world.commissioner)
        assert commissioner.get(reverse("security_works:job-list")).status_code == 403
        assert commissioner.get(detail_url(job)).status_code == 403

    def test_anonymous_is_sent_to_sign_in(self, world: World) -> None:
        job = allocate(world)
        response = Client().get(detail_url(job))
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


class TestJobList:
    def test_a_contractor_sees_only_its_own_jobs(self, world: World) -> None:
        mine = allocate(world)
        theirs = allocate(world)  # goes to Bolt (fewer open jobs)
        assert theirs.contractor == world.bolt
        page = client_for(world.acme_user).get(reverse("security_works:job-list"))
        assert page.status_code == 200
        assert mine.reference in page.content.decode()
        assert theirs.reference not in page.content.decode()

    def test_the_list_needs_a_fixed_number_of_queries(
        self, world: World, django_assert_max_num_queries
    ) -> None:
        client = client_for(world.spa_worker)
        url = reverse("security_works:job-list")
        for _ in range(2):
            allocate(world)
        client.get(url)  # warm the session
        with django_assert_max_num_queries(12) as few:
            client.get(url)
        for _ in range(8):
            allocate(world)
        with django_assert_max_num_queries(len(few.captured_queries)):
            response = client.get(url)
        assert response.content.decode().count("SW-") >= 10


class TestForms:
    def test_book_survey_then_record_it_with_measures(self, world: World) -> None:
        job = allocate(world)
        client = client_for(world.acme_user)
        book = reverse("security_works:book-survey", kwargs={"job_id": job.pk})
        response = client.post(
            book, {**govuk_date("date", "2099-01-02"), "time": "10:00", "arranged_via": "text"}
        )
        assert response.status_code == 302
        assert job_reload(job).status == JobStatus.SURVEY_BOOKED

        survey = reverse("security_works:record-survey", kwargs={"job_id": job.pk})
        form_page = client.get(survey)
        assert form_page.status_code == 200
        assert "bs-mortice-lock" in form_page.content.decode()
        data = {
            "survey-survivor_consents": "on",
            "lines-TOTAL_FORMS": "2",
            "lines-INITIAL_FORMS": "0",
            "lines-MIN_NUM_FORMS": "0",
            "lines-MAX_NUM_FORMS": "30",
            "lines-0-measure": str(world.lock.pk),
            "lines-0-quantity": "2",
            "lines-0-location": "front door",
            "lines-1-measure": "",
            "lines-1-quantity": "",
        }
        response = client.post(survey, data)
        assert response.status_code == 302, response.content.decode()
        job = job_reload(job)
        assert job.status == JobStatus.SURVEYED
        assert job.survey_measures.get().quantity == 2

        book_install = reverse("security_works:book-installation", kwargs={"job_id": job.pk})
        assert (
            client.post(
                book_install,
                {**govuk_date("date", "2099-01-09"), "time": "09:00", "arranged_via": "text"},
            ).status_code
            == 302
        )
        install = reverse("security_works:record-installation", kwargs={"job_id": job.pk})
        form_page = client.get(install)
        assert form_page.status_code == 200
        response = client.post(
            install,
            {
                "lines-TOTAL_FORMS": "1",
                "lines-INITIAL_FORMS": "1",
                "lines-MIN_NUM_FORMS": "0",
                "lines-MAX_NUM_FORMS": "30",
                "lines-0-measure": str(world.lock.pk),
                "lines-0-quantity": "2",
                "lines-0-actual_cost": "170.00",
                "lines-0-variation_note": "",
            },
        )
        assert response.status_code == 302, response.content.decode()
        assert job_reload(job).status == JobStatus.INSTALLED

    def test_an_illegal_step_shows_a_clear_message(self, world: World) -> None:
        job = allocate(world)
        client = client_for(world.acme_user)
        url = reverse("security_works:book-installation", kwargs={"job_id": job.pk})
        # The step is not open in this state: back to the job page with the reason (never a form
        # that can only fail). A race past this check still meets the service's 409.
        response = client.post(
            url, {**govuk_date("date", "2099-01-09"), "time": "09:00"}, follow=True
        )
        assert response.redirect_chain == [(detail_url(job), 302)]
        page = response.content.decode()
        assert "This job is allocated: it cannot be booked for installation now." in page
        assert job_reload(job).status == JobStatus.ALLOCATED

    def test_a_survey_without_the_survivors_consent_is_refused(self, world: World) -> None:
        job = allocate(world)
        services.security_job_book_survey(
            job=job, actor=world.acme_user, booked_for=job.allocated_at
        )
        url = reverse("security_works:record-survey", kwargs={"job_id": job.pk})
        response = client_for(world.acme_user).post(
            url,
            {
                "lines-TOTAL_FORMS": "1",
                "lines-INITIAL_FORMS": "0",
                "lines-MIN_NUM_FORMS": "0",
                "lines-MAX_NUM_FORMS": "30",
                "lines-0-measure": str(world.lock.pk),
                "lines-0-quantity": "1",
            },
        )
        assert response.status_code == 400
        assert "survivor&#x27;s consent" in response.content.decode()
        assert job_reload(job).status == JobStatus.SURVEY_BOOKED


class TestDocuments:
    def upload(self, client: Client, job: SecurityJob, name: str, content: bytes, kind: str):
        url = reverse("security_works:document-upload", kwargs={"job_id": job.pk})
        return client.post(
            url, {"kind": kind, "file": SimpleUploadedFile(name, content, "image/jpeg")}
        )

    def test_a_jpeg_with_gps_comes_back_without_any_exif(self, world: World) -> None:
        original = jpeg_with_gps()
        with Image.open(io.BytesIO(original)) as image:
            assert image.getexif().get_ifd(0x8825)  # the fixture does carry GPS

        job = allocate(world)
        client = client_for(world.acme_user)
        response = self.upload(client, job, "IMG_0001.jpg", original, DocumentKind.SURVEY_PHOTO)
        assert response.status_code == 302
        document = JobDocument.objects.get(job=job)
        assert document.content_type == "image/jpeg"
        assert "IMG_0001" not in document.file.name  # stored under a random name

        url = reverse(
            "security_works:document-download",
            kwargs={"job_id": job.pk, "document_id": document.pk},
        )
        download = client.get(url)
        assert download.status_code == 200
        assert download["Content-Disposition"].startswith("attachment;")
        assert "no-store" in download["Cache-Control"]
        assert download["X-Content-Type-Options"] == "nosniff"
        body = download.content
        assert b"Exif" not in body
        assert b"PhoneMaker" not in body
        with Image.open(io.BytesIO(body)) as returned:
            assert returned.format == "JPEG"
            assert returned.size == (32, 24)
            assert not returned.getexif()
            assert "exif" not in returned.info
        assert logs(AccessAction.DOWNLOAD, "security_works.jobdocument", document.pk) == 1

    def test_a_renamed_executable_is_refused_with_a_clear_message(self, world: World) -> None:
        job = allocate(world)
        program = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200
        response = self.upload(
            client_for(world.acme_user), job, "photo.jpg", program, DocumentKind.SURVEY_PHOTO
        )
        assert response.status_code == 400
        page = response.content.decode()
        assert "This file is a program, not a photo or document" in page
        assert not JobDocument.objects.exists()

    def test_a_file_that_only_claims_to_be_a_jpeg_is_refused(self, world: World) -> None:
        job = allocate(world)
        fake = b"\xff\xd8\xff\xe0" + b"not really an image" * 10
        response = self.upload(
            client_for(world.acme_user), job, "photo.jpg", fake, DocumentKind.SURVEY_PHOTO
        )
        assert response.status_code == 400
        assert "The file is not a valid JPEG photo" in response.content.decode()

    def test_files_over_the_size_limit_are_refused(self, world: World, settings) -> None:
        settings.SECURITY_WORKS_UPLOAD_MAX_BYTES = 1024 * 1024
        job = allocate(world)
        big = b"%PDF-1.7\n" + b"0" * (1024 * 1024 + 1)
        response = self.upload(
            client_for(world.acme_user), job, "letter.pdf", big, DocumentKind.LANDLORD_CONSENT
        )
        assert response.status_code == 400
        assert "smaller than 1 MB" in response.content.decode()

    def test_documents_follow_the_address_rule(self, world: World) -> None:
        job = allocate(world)
        acme = client_for(world.acme_user)
        self.upload(acme, job, "door.jpg", jpeg_with_gps(), DocumentKind.SURVEY_PHOTO)
        document = JobDocument.objects.get(job=job)
        url = reverse(
            "security_works:document-download",
            kwargs={"job_id": job.pk, "document_id": document.pk},
        )
        assert client_for(world.bolt_user).get(url).status_code == 404
        assert client_for(world.spa_worker).get(url).status_code == 200
        services.security_job_cancel(
            job=job, actor=world.spa_worker, reason=CancellationReason.NO_LONGER_NEEDED
        )
        assert acme.get(url).status_code == 404
        assert client_for(world.spa_worker).get(url).status_code == 200


class TestSpaSteps:
    def test_hold_resume_and_cancel_are_the_spas(self, world: World) -> None:
        job = allocate(world)
        hold = reverse("security_works:hold", kwargs={"job_id": job.pk})
        assert client_for(world.acme_user).post(hold, {"reason": "no_access"}).status_code == 403

        spa = client_for(world.spa_worker)
        assert spa.get(hold).status_code == 200
        assert spa.post(hold, {"reason": "no_access", "note": ""}).status_code == 302
        assert job_reload(job).status == JobStatus.ON_HOLD
        resume = reverse("security_works:resume", kwargs={"job_id": job.pk})
        assert spa.post(resume, {}).status_code == 302
        assert job_reload(job).status == JobStatus.ALLOCATED

        cancel = reverse("security_works:cancel", kwargs={"job_id": job.pk})
        assert spa.post(cancel, {"reason": "duplicate", "note": ""}).status_code == 302
        assert job_reload(job).status == JobStatus.CANCELLED
        # Closed: the step's page (GET or POST) goes back to the job with the reason, never a form.
        for method in (spa.get, spa.post):
            response = method(resume, follow=True)
            assert response.redirect_chain == [(detail_url(job), 302)]
            assert "This job is cancelled: nothing more can be done on it." in (
                response.content.decode()
            )
            assert "<form" not in response.content.decode().split("<main")[1]

    def test_landlord_consent_check_and_completion_through_the_pages(self, world: World) -> None:
        job = allocate(world, tenure=Tenure.COUNCIL)
        acme = client_for(world.acme_user)
        services.security_job_book_survey(
            job=job, actor=world.acme_user, booked_for=job.allocated_at
        )
        services.security_job_record_survey(
            job=job,
            actor=world.acme_user,
            lines=[services.MeasureLine(world.lock, Decimal(1))],
            survivor_consents=True,
        )
        consent = reverse("security_works:landlord-consent", kwargs={"job_id": job.pk})
        today = job.allocated_at.astimezone(job.allocated_at.tzinfo).date().isoformat()
        response = acme.post(
            consent,
            {
                "granted": "yes",
                "given_by": "Housing officer",
                **govuk_date("given_on", today),
                "method": "email",
            },
        )
        assert response.status_code == 302, response.content.decode()
        job = job_reload(job)
        assert job.status == JobStatus.SURVEYED
        services.security_job_book_installation(
            job=job, actor=world.acme_user, booked_for=job.allocated_at
        )
        services.security_job_record_installation(
            job=job,
            actor=world.acme_user,
            lines=[services.InstalledLine(world.lock, Decimal(1), Decimal(85))],
        )
        check = reverse("security_works:post-installation-check", kwargs={"job_id": job.pk})
        from django.utils import timezone

        response = acme.post(
            check,
            {
                **govuk_date("checked_on", timezone.localdate()),
                "measures_working": "yes",
                "feels_safer": "much_safer",
                "comments": "",
            },
        )
        assert response.status_code == 302, response.content.decode()
        assert job.__class__.objects.get(pk=job.pk).post_installation_check.feels_safer == (
            "much_safer"
        )
        complete = reverse("security_works:complete", kwargs={"job_id": job.pk})
        assert acme.post(complete, {}).status_code == 403
        assert client_for(world.spa_worker).post(complete, {}).status_code == 302
        assert job_reload(job).status == JobStatus.COMPLETED

    def test_an_spa_manager_decides_an_approval(self, world: World) -> None:
        from security_works.models import CostApproval

        job = allocate(world)
        services.security_job_book_survey(
            job=job, actor=world.acme_user, booked_for=job.allocated_at
        )
        services.security_job_record_survey(
            job=job,
            actor=world.acme_user,
            lines=[services.MeasureLine(world.cctv, Decimal(3))],
            survivor_consents=True,
        )
        approval = CostApproval.objects.get(job=job)
        url = reverse(
            "security_works:approval-decide", kwargs={"job_id": job.pk, "approval_id": approval.pk}
        )
        assert client_for(world.spa_worker).post(url, {"decision": "approve"}).status_code == 403
        manager = client_for(world.spa_manager)
        assert "Decide" in manager.get(detail_url(job)).content.decode()
        response = manager.post(url, {"decision": "approve", "note": "Within budget"})
        assert response.status_code == 302
        approval.refresh_from_db()
        assert approval.status == "approved"
        assert approval.decided_by == world.spa_manager
