"""The security works journeys that used to end in a dead end: the fire-safety check, variation
requests and the SPA manager's approvals queue, the steps a job offers in each state, and money
shown in words that cannot mislead."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from safer import workdays
from safer.accounts.roles import Role
from safer.casefile.models import CaseEvent
from safer.paging import CappedCount
from security_works import selectors, services, steps
from security_works.exceptions import InvalidTransition, InvalidWorks, StepBlocked
from security_works.models import (
    ApprovalKind,
    ApprovalStatus,
    CostApproval,
    DocumentKind,
    FireSafetyCheck,
    FireSafetyCheckKind,
    FireSafetyOutcome,
    JobDocument,
    JobPriority,
    JobStatus,
    SecurityJob,
    SlaPolicy,
)
from tests.helpers import govuk_date, sign_in
from tests.test_security_works_helpers import (
    World,
    build_world,
    case_file,
    fitted,
    job_reload,
    line,
)

pytestmark = pytest.mark.django_db
LONDON = workdays.LOCAL_TZ


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


def allocate(w: World) -> SecurityJob:
    return services.security_job_allocate(
        case_file=case_file(w.kent, w.thanet), priority=JobPriority.STANDARD, allocated_by=None
    )


def surveyed(w: World, *lines: services.MeasureLine) -> SecurityJob:
    job = allocate(w)
    services.security_job_book_survey(job=job, actor=w.acme_user, booked_for=job.allocated_at)
    return services.security_job_record_survey(
        job=job, actor=w.acme_user, lines=list(lines), survivor_consents=True
    )


def fire_check(
    w: World,
    job: SecurityJob,
    outcome: str,
    notes: str = "",
    *,
    carried_out_by: str = "J Patel, Kent Fire and Rescue Service",
    carried_out_on: dt.date | None = None,
    document: JobDocument | None = None,
) -> FireSafetyCheck:
    return services.security_job_record_fire_safety_check(
        job=job,
        actor=w.acme_user,
        kind=FireSafetyCheckKind.HOME_FIRE_SAFETY_VISIT,
        carried_out_by=carried_out_by,
        carried_out_on=carried_out_on or timezone.localdate(),
        outcome=outcome,
        notes=notes,
        document=document,
    )


def book(w: World, job: SecurityJob) -> SecurityJob:
    return services.security_job_book_installation(
        job=job, actor=w.acme_user, booked_for=job.allocated_at
    )


def events(job: SecurityJob) -> list[str]:
    return list(CaseEvent.objects.filter(case_file=job.case_file).values_list("kind", flat=True))


# --- Fire safety ------------------------------------------------------------------------------


class TestFireSafetyCheck:
    def test_a_job_affecting_escape_routes_is_booked_once_a_passing_check_is_recorded(
        self, world: World
    ) -> None:
        job = surveyed(world, line(world.sanctuary_door))
        with pytest.raises(StepBlocked, match="record a fire-safety check"):
            book(world, job)
        check = fire_check(world, job, FireSafetyOutcome.PASSED)
        assert book(world, job).status == JobStatus.INSTALLATION_BOOKED
        assert "security_job.fire_safety_check_recorded" in events(job)
        assert check.carried_out_by == "J Patel, Kent Fire and Rescue Service"

    def test_an_uploaded_fire_safety_document_alone_does_not_count(self, world: World) -> None:
        job = surveyed(world, line(world.sanctuary_door))
        JobDocument.objects.create(
            job=job,
            kind=DocumentKind.FIRE_SAFETY,
            file="x.pdf",
            original_name="x.pdf",
            content_type="application/pdf",
            extension=".pdf",
            size=10,
            sha256="0" * 64,
        )
        with pytest.raises(StepBlocked, match="An uploaded document is not enough"):
            book(world, job)

    def test_a_failed_check_blocks_until_a_later_one_passes(self, world: World) -> None:
        job = surveyed(world, line(world.sanctuary_door))
        fire_check(world, job, FireSafetyOutcome.FAILED, notes="Bolts on the only exit")
        with pytest.raises(StepBlocked, match="failed: the works would block a means of escape"):
            book(world, job)
        fire_check(world, job, FireSafetyOutcome.PASSED_WITH_ADVICE, notes="Thumb-turn inside")
        assert book(world, job).status == JobStatus.INSTALLATION_BOOKED

    def test_advice_and_failure_need_notes_and_who_did_it_is_required(self, world: World) -> None:
        job = surveyed(world, line(world.sanctuary_door))
        with pytest.raises(InvalidWorks, match="advice given"):
            fire_check(world, job, FireSafetyOutcome.PASSED_WITH_ADVICE)
        with pytest.raises(InvalidWorks, match="why the check failed"):
            fire_check(world, job, FireSafetyOutcome.FAILED)
        with pytest.raises(InvalidWorks, match="who carried out"):
            fire_check(world, job, FireSafetyOutcome.PASSED, carried_out_by="  ")
        with pytest.raises(InvalidWorks, match="today or in the past"):
            fire_check(
                world,
                job,
                FireSafetyOutcome.PASSED,
                carried_out_on=timezone.localdate() + dt.timedelta(days=1),
            )

    def test_the_record_of_the_check_must_be_this_jobs_document(self, world: World) -> None:
        job = surveyed(world, line(world.sanctuary_door))
        other = surveyed(world, line(world.lock))
        foreign = JobDocument.objects.create(
            job=other,
            kind=DocumentKind.FIRE_SAFETY,
            file="y.pdf",
            original_name="y.pdf",
            content_type="application/pdf",
            extension=".pdf",
            size=10,
            sha256="0" * 64,
        )
        with pytest.raises(InvalidWorks, match="this job's documents"):
            fire_check(world, job, FireSafetyOutcome.PASSED, document=foreign)

    def test_no_check_on_a_job_not_yet_booked_for_survey_or_closed(self, world: World) -> None:
        job = allocate(world)
        with pytest.raises(InvalidTransition):
            fire_check(world, job, FireSafetyOutcome.PASSED)

    def test_the_page_records_a_check_for_the_contractor(self, world: World) -> None:
        job = surveyed(world, line(world.sanctuary_door))
        url = reverse("security_works:fire-safety-check", kwargs={"job_id": job.pk})
        acme = sign_in(Client(), world.acme_user)
        detail = acme.get(reverse("security_works:job-detail", kwargs={"job_id": job.pk}))
        assert "Record a fire-safety check" in detail.content.decode()
        response = acme.post(url, {"kind": "hfsv", "outcome": "failed", "carried_out_by": "X"})
        assert response.status_code == 400
        assert "Enter why the check failed" in response.content.decode()
        assert "Enter the date of the check" in response.content.decode()
        response = acme.post(
            url,
            {
                "kind": "hfsv",
                "outcome": "passed",
                "carried_out_by": "J Patel, Kent Fire and Rescue Service",
                **govuk_date("carried_out_on", timezone.localdate()),
            },
        )
        assert response.status_code == 302, response.content.decode()
        assert job.fire_safety_checks.get().outcome == FireSafetyOutcome.PASSED


# --- Variations and approvals -----------------------------------------------------------------


class TestVariations:
    def test_a_variation_gets_a_due_date_from_the_policy_in_working_days(
        self, world: World
    ) -> None:
        SlaPolicy.objects.filter(contract__isnull=True).update(variation_working_days=3)
        job = surveyed(world, line(world.lock))
        # Thursday 2 April 2026, before Easter: Good Friday and Easter Monday do not count.
        with time_machine.travel(dt.datetime(2026, 4, 2, 10, 0, tzinfo=LONDON), tick=False):
            variation = services.security_job_request_variation(
                job=job,
                actor=world.acme_user,
                lines=[line(world.bolts, "2")],
                reason="Back door frame is weak",
            )
        assert variation.due_at is not None
        assert variation.due_at.astimezone(LONDON).date() == dt.date(2026, 4, 9)
        assert "security_job.variation_approval_requested" in events(job)

    def test_one_variation_waits_at_a_time_and_needs_a_reason(self, world: World) -> None:
        job = surveyed(world, line(world.lock))
        with pytest.raises(InvalidWorks, match="why the works need to change"):
            services.security_job_request_variation(
                job=job, actor=world.acme_user, lines=[line(world.bolts)], reason=" "
            )
        services.security_job_request_variation(
            job=job, actor=world.acme_user, lines=[line(world.bolts)], reason="Weak frame"
        )
        with pytest.raises(StepBlocked, match="already waiting"):
            services.security_job_request_variation(
                job=job, actor=world.acme_user, lines=[line(world.bolts)], reason="And more"
            )

    def test_an_approved_variation_raises_the_approved_works(self, world: World) -> None:
        job = surveyed(world, line(world.lock))
        book(world, job)
        with pytest.raises(InvalidWorks, match="Ask for a variation"):
            services.security_job_record_installation(
                job=job, actor=world.acme_user, lines=[fitted(world.lock, "2", "170")]
            )
        variation = services.security_job_request_variation(
            job=job, actor=world.acme_user, lines=[line(world.lock, "1")], reason="Second door"
        )
        assert selectors.job_money(job, selectors.planned_lines(job)).pending_variation_total == (
            Decimal("85.00")
        )
        services.security_job_approval_decide(
            approval=variation, decided_by=world.spa_manager, approve=True
        )
        plan = selectors.planned_lines(job)
        assert selectors.planned_quantities_by_code(plan)["bs-mortice-lock"] == Decimal(2)
        assert selectors.job_money(job, plan).caption == "Approved works: £170.00"
        job = services.security_job_record_installation(
            job=job, actor=world.acme_user, lines=[fitted(world.lock, "2", "170")]
        )
        assert job.status == JobStatus.INSTALLED

    def test_a_refusal_needs_reasons_and_the_contractor_reads_them(self, world: World) -> None:
        job = surveyed(world, line(world.lock))
        variation = services.security_job_request_variation(
            job=job, actor=world.acme_user, lines=[line(world.cctv)], reason="Wants CCTV"
        )
        with pytest.raises(InvalidWorks, match="reason for refusing"):
            services.security_job_approval_decide(
                approval=variation, decided_by=world.spa_manager, approve=False, note=""
            )
        services.security_job_approval_decide(
            approval=variation,
            decided_by=world.spa_manager,
            approve=False,
            note="CCTV is not in this scheme's measures",
        )
        assert "security_job.variation_rejected" in events(job)
        page = sign_in(Client(), world.acme_user).get(
            reverse("security_works:job-detail", kwargs={"job_id": job.pk})
        )
        html = page.content.decode()
        assert "Refused" in html
        assert "CCTV is not in this scheme&#x27;s measures" in html

    def test_the_contractor_asks_through_the_page(self, world: World) -> None:
        job = surveyed(world, line(world.lock))
        url = reverse("security_works:variation", kwargs={"job_id": job.pk})
        acme = sign_in(Client(), world.acme_user)
        assert acme.post(url, {"measure": str(world.bolts.pk), "quantity": "2"}).status_code == 400
        response = acme.post(
            url,
            {"measure": str(world.bolts.pk), "quantity": "2", "reason": "The frame is weak"},
        )
        assert response.status_code == 302, response.content.decode()
        variation = CostApproval.objects.get(job=job, kind=ApprovalKind.VARIATION)
        assert variation.amount == Decimal("135.00")  # 85 + 2 x 25
        assert variation.requested_by == world.acme_user


class TestApprovalsQueue:
    def test_the_queue_holds_both_kinds_most_overdue_first_and_only_in_scope(
        self, world: World
    ) -> None:
        late = surveyed(world, line(world.lock))
        with time_machine.travel(timezone.now() - dt.timedelta(days=10)):
            old = services.security_job_request_variation(
                job=late, actor=world.acme_user, lines=[line(world.bolts)], reason="Weak frame"
            )
        over = surveyed(world, line(world.cctv, "3"))  # £2,700: above the threshold
        threshold = CostApproval.objects.get(job=over, kind=ApprovalKind.THRESHOLD)
        medway_job = services.security_job_allocate(
            case_file=case_file(world.medway, world.medway_district),
            priority=JobPriority.STANDARD,
            allocated_by=None,
        )
        services.security_job_book_survey(
            job=medway_job, actor=world.medway_user, booked_for=medway_job.allocated_at
        )
        services.security_job_record_survey(
            job=medway_job,
            actor=world.medway_user,
            lines=[line(world.cctv, "3")],
            survivor_consents=True,
        )

        queue = list(selectors.approvals_pending_for_user(world.second_manager))  # Kent only
        assert [a.pk for a in queue] == [old.pk, threshold.pk]
        assert queue[0].extra == Decimal("25.00")  # type: ignore[attr-defined]
        counts = selectors.approvals_counts_for_user(world.second_manager)
        assert (counts.waiting, counts.overdue) == (CappedCount(2), CappedCount(1))
        assert selectors.approvals_counts_for_user(world.spa_manager).waiting == CappedCount(3)

        manager = sign_in(Client(), world.second_manager)
        page = manager.get(reverse("security_works:approvals"))
        html = page.content.decode()
        assert page.status_code == 200
        assert html.index(late.reference) < html.index(over.reference)
        assert medway_job.reference not in html
        assert "Overdue" in html
        assert (
            sign_in(Client(), world.spa_worker).get(reverse("security_works:approvals")).status_code
            == 403
        )

    def test_deciding_from_the_queue_returns_to_it(self, world: World) -> None:
        job = surveyed(world, line(world.cctv, "3"))
        approval = CostApproval.objects.get(job=job)
        url = reverse(
            "security_works:approval-decide", kwargs={"job_id": job.pk, "approval_id": approval.pk}
        )
        manager = sign_in(Client(), world.spa_manager)
        response = manager.post(url, {"decision": "reject", "note": ""})
        assert response.status_code == 400
        assert "Enter the reasons for refusing" in response.content.decode()
        response = manager.post(url, {"decision": "approve", "note": ""})
        assert response.status_code == 302
        assert response["Location"] == reverse("security_works:approvals")
        approval.refresh_from_db()
        assert approval.status == ApprovalStatus.APPROVED
        # Decided: the decision page sends back to the job, with no form.
        assert manager.get(url).status_code == 302


# --- State-matched actions and money ----------------------------------------------------------


def _labels(job: SecurityJob, *roles: str, due: bool = False) -> list[str]:
    return [a.label for a in steps.job_actions(job, roles=set(roles), fire_safety_check_due=due)]


class TestStateMatchedActions:
    def test_only_the_next_legal_steps_are_offered(self, world: World) -> None:
        job = allocate(world)
        assert _labels(job, Role.CONTRACTOR) == ["Book the survey", "Upload a photo or document"]
        assert _labels(job, Role.SPA_TRIAGE) == [
            "Book the survey",
            "Upload a photo or document",
            "Access and hazard notes",
            "Put on hold",
            "Cancel the job",
        ]
        job = surveyed(world, line(world.sanctuary_door))
        labels = _labels(job, Role.CONTRACTOR, due=True)
        assert labels[0] == "Record a fire-safety check"
        assert "Record the installation" not in labels
        assert "Ask for a variation" in labels

    def test_a_closed_job_offers_nothing(self, world: World) -> None:
        job = allocate(world)
        services.security_job_cancel(job=job, actor=world.spa_worker, reason="duplicate")
        job = job_reload(job)
        assert _labels(job, Role.SPA_MANAGER, Role.CONTRACTOR) == []
        for name in steps.STEPS:
            assert steps.step_refusal(job, name) == (
                "This job is cancelled: nothing more can be done on it."
            )

    def test_step_pages_of_a_completed_job_go_back_to_the_job(self, world: World) -> None:
        job = surveyed(world, line(world.lock))
        book(world, job)
        services.security_job_record_installation(
            job=job, actor=world.acme_user, lines=[fitted(world.lock, "1", "85")]
        )
        services.security_job_record_post_installation_check(
            job=job, actor=world.acme_user, checked_on=timezone.localdate(), measures_working=True
        )
        services.security_job_complete(job=job, actor=world.spa_worker)
        spa = sign_in(Client(), world.spa_worker)
        acme = sign_in(Client(), world.acme_user)
        detail = reverse("security_works:job-detail", kwargs={"job_id": job.pk})
        for name, step in steps.STEPS.items():
            url = reverse(f"security_works:{name}", kwargs={"job_id": job.pk})
            client = acme if Role.CONTRACTOR in step.roles else spa
            for method in (client.get, client.post):
                response = method(url, follow=True)
                assert response.redirect_chain == [(detail, 302)], (name, method)
                html = response.content.decode()
                assert "This job is completed" in html, name
                assert "<form" not in html.split("<main")[1], name


class TestMoney:
    def test_approved_only_once_approved(self, world: World) -> None:
        job = surveyed(world, line(world.sanctuary_door), line(world.cctv, "2"))  # £3,250
        acme = sign_in(Client(), world.acme_user)
        detail = reverse("security_works:job-detail", kwargs={"job_id": job.pk})
        text = acme.get(detail).content.decode()
        assert "Planned works, awaiting approval: £3,250.00" in text
        assert "Approved works" not in text
        approval = CostApproval.objects.get(job=job)
        services.security_job_approval_decide(
            approval=approval, decided_by=world.spa_manager, approve=True, note="Agreed"
        )
        text = acme.get(detail).content.decode()
        assert "Approved works: £3,250.00" in text
        assert "Approved: Approved" not in text
        # Once on screen (the table scroll region repeats the caption as its accessible name).
        assert text.count(">Approved works") == 1
