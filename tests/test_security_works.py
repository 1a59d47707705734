"""Security works services: allocation, the lifecycle, approvals, SLA clocks and the budget."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from safer.casefile.models import (
    CaseEvent,
    CaseFile,
    Tenure,
)
from safer.organisations.services import contract_extension_record
from safer.workdays import Rag
from security_works import selectors, services
from security_works.exceptions import InvalidTransition, InvalidWorks, StepBlocked
from security_works.models import (
    ApprovalKind,
    ApprovalStatus,
    CancellationReason,
    ConsentMethod,
    CostApproval,
    FeelsSafer,
    FireSafetyCheckKind,
    FireSafetyOutcome,
    HoldReason,
    JobHold,
    JobPriority,
    JobStatus,
    SecurityJob,
    SlaPolicy,
)
from tests.test_security_works_helpers import (
    World,
    build_world,
    case_file,
    contract,
    fitted,
    job_reload,
    line,
)

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON)


@pytest.fixture
def world() -> World:
    return build_world()


def allocate(
    w: World, *, tenure: str = Tenure.OWNER_OCCUPIER, priority: str = JobPriority.STANDARD
) -> SecurityJob:
    case = case_file(w.kent, w.thanet, tenure=tenure)
    return services.security_job_allocate(
        case_file=case, priority=priority, allocated_by=w.spa_worker
    )


def address_visible_to(w_user, job: SecurityJob) -> bool:
    return CaseFile.objects.address_visible_to(w_user).filter(pk=job.case_file_id).exists()


def event_kinds(job: SecurityJob) -> list[str]:
    return list(
        CaseEvent.objects.filter(case_file_id=job.case_file_id, kind__startswith="security_job.")
        .order_by("id")
        .values_list("kind", flat=True)
    )


class TestAllocation:
    def test_suggests_the_covering_contractor_with_fewest_open_jobs(self, world: World) -> None:
        first = allocate(world)
        second = allocate(world)
        # Acme and Bolt both cover Thanet; ties go by name, then the lighter load wins.
        assert first.contractor == world.acme
        assert second.contractor == world.bolt
        assert first.suggested_contractor == world.acme
        assert first.reference.startswith("SW-")
        assert first.status == JobStatus.ALLOCATED
        # The case file's household, which the returns find works by.
        assert first.household_id == first.case_file.household_id

    def test_allocation_gives_the_contractor_organisation_the_case_and_its_address(
        self, world: World
    ) -> None:
        job = allocate(world)
        assert CaseFile.objects.visible_to(world.acme_user).filter(pk=job.case_file_id).exists()
        assert address_visible_to(world.acme_user, job)
        assert not address_visible_to(world.bolt_user, job)
        kinds = set(
            CaseEvent.objects.filter(case_file_id=job.case_file_id).values_list("kind", flat=True)
        )
        assert {"security_job.allocated", "access_granted"} <= kinds

    def test_choosing_another_contractor_needs_a_reason(self, world: World) -> None:
        case = case_file(world.kent, world.thanet)
        with pytest.raises(InvalidWorks, match="Give a reason"):
            services.security_job_allocate(
                case_file=case,
                priority=JobPriority.STANDARD,
                allocated_by=world.spa_worker,
                contractor=world.bolt,
            )
        job = services.security_job_allocate(
            case_file=case,
            priority=JobPriority.STANDARD,
            allocated_by=world.spa_worker,
            contractor=world.bolt,
            override_reason="Acme has a conflict of interest with this household",
        )
        assert job.contractor == world.bolt
        assert job.suggested_contractor == world.acme
        assert job.allocation_override_reason.startswith("Acme has")

    def test_a_contractor_of_another_authority_cannot_be_chosen(self, world: World) -> None:
        case = case_file(world.kent, world.thanet)
        with pytest.raises(InvalidWorks, match="does not work for"):
            services.security_job_allocate(
                case_file=case,
                priority=JobPriority.STANDARD,
                allocated_by=world.spa_worker,
                contractor=world.medway_contractor,
                override_reason="testing",
            )

    def test_no_covering_contractor_is_a_clear_message(self, world: World) -> None:
        from tests.test_security_works_helpers import district

        dover = district(world.kent, "Dover")
        case = case_file(world.kent, dover)
        with pytest.raises(StepBlocked, match="No active contractor covers Dover"):
            services.security_job_allocate(
                case_file=case, priority=JobPriority.STANDARD, allocated_by=world.spa_worker
            )

    def test_the_contract_in_force_is_attached(self, world: World) -> None:
        agreement = contract(world.acme, world.kent)
        with time_machine.travel(at(2026, 3, 2), tick=False):
            job = allocate(world)
        assert job.contract == agreement


class TestLifecycle:
    def test_full_lifecycle_without_landlord_consent(self, world: World) -> None:
        actor = world.acme_user
        with time_machine.travel(at(2026, 6, 1, 9), tick=False):
            job = allocate(world)
        with time_machine.travel(at(2026, 6, 1, 11), tick=False):
            services.security_job_book_survey(job=job, actor=actor, booked_for=at(2026, 6, 3))
        with time_machine.travel(at(2026, 6, 3, 12), tick=False):
            job = services.security_job_record_survey(
                job=job,
                actor=actor,
                lines=[line(world.lock, "2", "front door"), line(world.bolts, "2")],
                survivor_consents=True,
            )
            assert job.status == JobStatus.SURVEYED
            assert not job.landlord_consent_required
            services.security_job_book_installation(job=job, actor=actor, booked_for=at(2026, 6, 8))
        with time_machine.travel(at(2026, 6, 8, 15), tick=False):
            job = services.security_job_record_installation(
                job=job,
                actor=actor,
                lines=[fitted(world.lock, "2", "170.00"), fitted(world.bolts, "2", "50.00")],
            )
            assert job.status == JobStatus.INSTALLED
        with time_machine.travel(at(2026, 6, 22, 10), tick=False):
            check = services.security_job_record_post_installation_check(
                job=job,
                actor=actor,
                checked_on=dt.date(2026, 6, 22),
                measures_working=True,
                feels_safer=FeelsSafer.MUCH_SAFER,
                comments="I can sleep again.",
            )
            assert FeelsSafer.counts_as_safer(check.feels_safer)
            job = services.security_job_complete(job=job, actor=world.spa_worker)

        assert job.status == JobStatus.COMPLETED
        assert event_kinds(job) == [
            "security_job.allocated",
            "security_job.survey_booked",
            "security_job.survey_recorded",
            "security_job.installation_booked",
            "security_job.installed",
            "security_job.post_installation_checked",
            "security_job.completed",
        ]
        clocks = {c.name: c for c in selectors.job_clocks(job, policy=SlaPolicy())}
        assert clocks["survey"].met is True
        assert clocks["installation"].met is True
        assert job.next_due_at is None
        assert selectors.installed_total(job) == Decimal("220.00")
        # Closing the job withdraws the contractor's access to the case and the address.
        assert not address_visible_to(world.acme_user, job)
        assert not CaseFile.objects.visible_to(world.acme_user).filter(pk=job.case_file_id).exists()
        assert "access_revoked" in set(
            CaseEvent.objects.filter(case_file_id=job.case_file_id).values_list("kind", flat=True)
        )

    def test_full_lifecycle_with_landlord_consent(self, world: World) -> None:
        actor = world.acme_user
        with time_machine.travel(at(2026, 6, 1, 9), tick=False):
            job = allocate(world, tenure=Tenure.PRIVATE_RENTED)
            services.security_job_book_survey(job=job, actor=actor, booked_for=at(2026, 6, 2))
        with time_machine.travel(at(2026, 6, 2, 12), tick=False):
            job = services.security_job_record_survey(
                job=job, actor=actor, lines=[line(world.lock)], survivor_consents=True
            )
        assert job.status == JobStatus.AWAITING_LANDLORD_CONSENT
        assert job.landlord_consent_required
        assert job.installation_due_at is None  # the installation clock waits for consent

        with pytest.raises(InvalidTransition, match="awaiting landlord consent"):
            services.security_job_book_installation(job=job, actor=actor, booked_for=at(2026, 6, 9))

        with time_machine.travel(at(2026, 6, 4, 12), tick=False):
            services.security_job_record_landlord_consent(
                job=job,
                actor=actor,
                given_by="Coastal Homes lettings manager",
                given_on=dt.date(2026, 6, 4),
                method=ConsentMethod.EMAIL,
                granted=False,
            )
        assert job_reload(job).status == JobStatus.AWAITING_LANDLORD_CONSENT

        with time_machine.travel(at(2026, 6, 5, 16), tick=False):
            services.security_job_record_landlord_consent(
                job=job,
                actor=actor,
                given_by="Coastal Homes director",
                given_on=dt.date(2026, 6, 5),
                method=ConsentMethod.LETTER,
                granted=True,
            )
        job = job_reload(job)
        assert job.status == JobStatus.SURVEYED
        # Ten working days from Friday 5 June: Friday 19 June.
        assert job.installation_due_at is not None
        assert job.installation_due_at.astimezone(LONDON).date() == dt.date(2026, 6, 19)

        with time_machine.travel(at(2026, 6, 8, 9), tick=False):
            services.security_job_book_installation(
                job=job, actor=actor, booked_for=at(2026, 6, 10)
            )
        with time_machine.travel(at(2026, 6, 10, 15), tick=False):
            services.security_job_record_installation(
                job=job, actor=actor, lines=[fitted(world.lock, "1", "85.00")]
            )
        with time_machine.travel(at(2026, 6, 17, 15), tick=False):
            services.security_job_record_post_installation_check(
                job=job,
                actor=actor,
                checked_on=dt.date(2026, 6, 17),
                measures_working=True,
                feels_safer=FeelsSafer.A_LITTLE_SAFER,
            )
            job = services.security_job_complete(job=job, actor=world.spa_worker)
        assert job.status == JobStatus.COMPLETED
        assert event_kinds(job)[2:5] == [
            "security_job.survey_recorded",
            "security_job.landlord_consent_refused",
            "security_job.landlord_consent_granted",
        ]

    def test_the_survivor_must_consent_to_the_works(self, world: World) -> None:
        job = allocate(world)
        services.security_job_book_survey(
            job=job, actor=world.acme_user, booked_for=job.allocated_at
        )
        with pytest.raises(StepBlocked, match="survivor's consent"):
            services.security_job_record_survey(
                job=job, actor=world.acme_user, lines=[line(world.lock)], survivor_consents=False
            )

    def test_an_illegal_step_says_what_is_allowed(self, world: World) -> None:
        job = allocate(world)
        with pytest.raises(InvalidTransition) as error:
            services.security_job_record_installation(
                job=job, actor=world.acme_user, lines=[fitted(world.lock, "1", "85")]
            )
        message = error.value.message
        assert "This job is allocated, so it cannot be recorded as installed" in message
        assert "survey booked" in message
        assert "on hold" in message
        assert "cancelled" in message

    def test_a_completed_job_cannot_be_put_on_hold(self, world: World) -> None:
        job = allocate(world)
        job = services.security_job_cancel(
            job=job, actor=world.spa_worker, reason=CancellationReason.SURVIVOR_MOVED
        )
        with pytest.raises(InvalidTransition, match=r"nothing \(the job is closed\)"):
            services.security_job_put_on_hold(
                job=job, actor=world.spa_worker, reason=HoldReason.OTHER
            )


class TestHoldAndCancel:
    def test_on_hold_pauses_the_clock_and_resume_returns_to_the_previous_state(
        self, world: World
    ) -> None:
        with time_machine.travel(at(2026, 6, 1, 9), tick=False):
            job = allocate(world)
            job = services.security_job_book_survey(
                job=job, actor=world.acme_user, booked_for=at(2026, 6, 2)
            )
        assert job.survey_due_at is not None
        assert job.survey_due_at.astimezone(LONDON).date() == dt.date(2026, 6, 8)

        with time_machine.travel(at(2026, 6, 2, 10), tick=False):
            job = services.security_job_put_on_hold(
                job=job,
                actor=world.spa_worker,
                reason=HoldReason.SURVIVOR_UNAVAILABLE,
                note="In hospital this week",
            )
        assert job.status == JobStatus.ON_HOLD
        assert job.status_before_hold == JobStatus.SURVEY_BOOKED
        assert job.survey_due_at is None  # paused: no deadline
        assert job.next_due_at is None
        with pytest.raises(InvalidTransition):
            services.security_job_record_survey(
                job=job, actor=world.acme_user, lines=[line(world.lock)], survivor_consents=True
            )

        with time_machine.travel(at(2026, 6, 4, 9), tick=False):
            job = services.security_job_resume(job=job, actor=world.spa_worker)
        assert job.status == JobStatus.SURVEY_BOOKED
        # Wednesday and Thursday were on hold: due two working days later.
        assert job.survey_due_at is not None
        assert job.survey_due_at.astimezone(LONDON).date() == dt.date(2026, 6, 10)
        hold = JobHold.objects.get(job=job)
        assert hold.ended_at is not None
        assert hold.ended_by == world.spa_worker
        assert event_kinds(job)[-2:] == ["security_job.put_on_hold", "security_job.resumed"]

    def test_resuming_a_job_not_on_hold_is_refused(self, world: World) -> None:
        job = allocate(world)
        with pytest.raises(InvalidTransition, match="cannot be resumed"):
            services.security_job_resume(job=job, actor=world.spa_worker)

    def test_cancellation_records_the_reason_and_withdraws_access(self, world: World) -> None:
        job = allocate(world)
        services.security_job_put_on_hold(
            job=job, actor=world.spa_worker, reason=HoldReason.AWAITING_INFORMATION
        )
        with pytest.raises(InvalidWorks, match="Say why"):
            services.security_job_cancel(
                job=job, actor=world.spa_worker, reason=CancellationReason.OTHER
            )
        job = services.security_job_cancel(
            job=job, actor=world.spa_worker, reason=CancellationReason.PERPETRATOR_RETURNED
        )
        assert job.status == JobStatus.CANCELLED
        assert job.cancellation_reason == CancellationReason.PERPETRATOR_RETURNED
        assert JobHold.objects.get(job=job).ended_at is not None
        assert not address_visible_to(world.acme_user, job)
        with pytest.raises(InvalidTransition):
            services.security_job_book_survey(
                job=job, actor=world.acme_user, booked_for=job.allocated_at
            )

    def test_access_stays_while_another_job_of_the_contractor_is_open(self, world: World) -> None:
        job = allocate(world)
        second = services.security_job_allocate(
            case_file=job.case_file,
            priority=JobPriority.STANDARD,
            allocated_by=world.spa_worker,
            contractor=world.acme,
            override_reason="Same contractor for the second phase",
        )
        services.security_job_cancel(
            job=job, actor=world.spa_worker, reason=CancellationReason.DUPLICATE
        )
        assert address_visible_to(world.acme_user, second)
        services.security_job_cancel(
            job=second, actor=world.spa_worker, reason=CancellationReason.NO_LONGER_NEEDED
        )
        assert not address_visible_to(world.acme_user, second)


def surveyed_and_booked(world: World, *lines_: services.MeasureLine) -> SecurityJob:
    job = allocate(world)
    services.security_job_book_survey(job=job, actor=world.acme_user, booked_for=job.allocated_at)
    job = services.security_job_record_survey(
        job=job, actor=world.acme_user, lines=list(lines_), survivor_consents=True
    )
    return job


class TestApprovals:
    def test_a_variation_needs_an_spa_managers_approval_before_installation(
        self, world: World
    ) -> None:
        job = surveyed_and_booked(world, line(world.lock, "1"))
        services.security_job_book_installation(
            job=job, actor=world.acme_user, booked_for=job.allocated_at
        )
        variation = services.security_job_request_variation(
            job=job,
            actor=world.acme_user,
            lines=[line(world.bolts, "2", "back door")],
            reason="Back door frame is weak",
        )
        assert variation.kind == ApprovalKind.VARIATION
        assert variation.amount == Decimal("135.00")

        # Not yet approved: installing anything is blocked.
        with pytest.raises(StepBlocked, match="waiting for an SPA manager"):
            services.security_job_record_installation(
                job=job, actor=world.acme_user, lines=[fitted(world.lock, "1", "85")]
            )
        # Only an SPA manager, and not whoever asked.
        with pytest.raises(PermissionDenied):
            services.security_job_approval_decide(
                approval=variation, decided_by=world.acme_user, approve=True
            )
        with pytest.raises(PermissionDenied):
            services.security_job_approval_decide(
                approval=variation, decided_by=world.spa_worker, approve=True
            )
        services.security_job_approval_decide(
            approval=variation, decided_by=world.spa_manager, approve=True, note="Agreed"
        )
        with pytest.raises(StepBlocked, match="already been approved"):
            services.security_job_approval_decide(
                approval=variation, decided_by=world.second_manager, approve=False
            )

        job = services.security_job_record_installation(
            job=job,
            actor=world.acme_user,
            lines=[fitted(world.lock, "1", "85.00"), fitted(world.bolts, "2", "50.00")],
        )
        assert job.status == JobStatus.INSTALLED
        assert "security_job.variation_approved" in event_kinds(job)

    def test_a_rejected_variation_adds_nothing_to_the_approved_works(self, world: World) -> None:
        job = surveyed_and_booked(world, line(world.lock, "1"))
        services.security_job_book_installation(
            job=job, actor=world.acme_user, booked_for=job.allocated_at
        )
        variation = services.security_job_request_variation(
            job=job, actor=world.acme_user, lines=[line(world.cctv, "1")], reason="Asked for CCTV"
        )
        with pytest.raises(InvalidWorks, match="reason for refusing"):
            services.security_job_approval_decide(
                approval=variation, decided_by=world.spa_manager, approve=False
            )
        services.security_job_approval_decide(
            approval=variation, decided_by=world.spa_manager, approve=False, note="Not needed"
        )
        with pytest.raises(InvalidWorks, match="more than the approved works"):
            services.security_job_record_installation(
                job=job,
                actor=world.acme_user,
                lines=[fitted(world.lock, "1", "85"), fitted(world.cctv, "1", "900")],
            )

    def test_fitting_more_than_approved_or_at_a_higher_cost_is_refused(self, world: World) -> None:
        job = surveyed_and_booked(world, line(world.lock, "1"))
        services.security_job_book_installation(
            job=job, actor=world.acme_user, booked_for=job.allocated_at
        )
        with pytest.raises(InvalidWorks, match="more than the approved works"):
            services.security_job_record_installation(
                job=job, actor=world.acme_user, lines=[fitted(world.lock, "2", "170")]
            )
        with pytest.raises(InvalidWorks, match="fitted cost"):
            services.security_job_record_installation(
                job=job, actor=world.acme_user, lines=[fitted(world.lock, "1", "120")]
            )

    def test_a_total_above_the_threshold_needs_approval(self, world: World) -> None:
        # Sanctuary door £1,450 + CCTV 2 at £900 = £3,250 > £2,500 (the default threshold).
        job = surveyed_and_booked(world, line(world.sanctuary_door), line(world.cctv, "2"))
        approval = CostApproval.objects.get(job=job)
        assert approval.kind == ApprovalKind.THRESHOLD
        assert approval.status == ApprovalStatus.PENDING
        assert approval.amount == Decimal("3250.00")
        with pytest.raises(StepBlocked, match="waiting for an SPA manager"):
            services.security_job_book_installation(
                job=job, actor=world.acme_user, booked_for=job.allocated_at
            )
        services.security_job_approval_decide(
            approval=approval, decided_by=world.spa_manager, approve=False, note="Too costly"
        )
        with pytest.raises(StepBlocked, match="has not been approved"):
            services.security_job_book_installation(
                job=job, actor=world.acme_user, booked_for=job.allocated_at
            )
        # A revised survey within the threshold goes ahead (after the fire-safety check).
        services.security_job_record_survey(
            job=job,
            actor=world.acme_user,
            lines=[line(world.sanctuary_door), line(world.cctv, "1")],
            survivor_consents=True,
        )
        assert not CostApproval.objects.filter(job=job, status=ApprovalStatus.PENDING).exists()
        with pytest.raises(StepBlocked, match="fire-safety check"):
            services.security_job_book_installation(
                job=job, actor=world.acme_user, booked_for=job.allocated_at
            )
        services.security_job_record_fire_safety_check(
            job=job,
            actor=world.acme_user,
            kind=FireSafetyCheckKind.HOME_FIRE_SAFETY_VISIT,
            carried_out_by="A Fireofficer, Kent Fire and Rescue Service",
            carried_out_on=timezone.localdate(),
            outcome=FireSafetyOutcome.PASSED,
        )
        job = services.security_job_book_installation(
            job=job, actor=world.acme_user, booked_for=job.allocated_at
        )
        assert job.status == JobStatus.INSTALLATION_BOOKED

    def test_a_revised_survey_supersedes_a_pending_approval(self, world: World) -> None:
        job = surveyed_and_booked(world, line(world.cctv, "3"))
        approval = CostApproval.objects.get(job=job)
        services.security_job_record_survey(
            job=job, actor=world.acme_user, lines=[line(world.cctv, "1")], survivor_consents=True
        )
        approval.refresh_from_db()
        assert approval.status == ApprovalStatus.SUPERSEDED
        assert "security_job.survey_revised" in event_kinds(job)

    def test_outstanding_fire_safety_concerns_block_installation(self, world: World) -> None:
        job = surveyed_and_booked(world, line(world.sanctuary_door))
        services.security_job_record_fire_safety_check(
            job=job,
            actor=world.acme_user,
            kind=FireSafetyCheckKind.SURVEYOR_CHECK,
            carried_out_by="The surveyor",
            carried_out_on=timezone.localdate(),
            outcome=FireSafetyOutcome.FAILED,
            notes="The bolts would lock the only exit",
        )
        with pytest.raises(StepBlocked, match="failed: the works would block a means of escape"):
            services.security_job_book_installation(
                job=job, actor=world.acme_user, booked_for=job.allocated_at
            )


class TestSlaClocks:
    def test_survey_allocated_on_the_thursday_before_easter(self, world: World) -> None:
        with time_machine.travel(at(2026, 4, 2, 16, 30), tick=False):
            job = allocate(world)
        # Good Friday, the weekend and Easter Monday do not count: due Monday 13 April.
        assert job.survey_due_at is not None
        assert job.survey_due_at.astimezone(LONDON).date() == dt.date(2026, 4, 13)
        assert job.next_due_at == job.survey_due_at

        def rag_on(moment: dt.datetime) -> str:
            return selectors.job_rag(job, policy=SlaPolicy(), now=moment)

        with time_machine.travel(at(2026, 4, 9), tick=False):
            assert rag_on(at(2026, 4, 9)) == Rag.GREEN
        assert rag_on(at(2026, 4, 10)) == Rag.AMBER
        assert rag_on(at(2026, 4, 13, 17)) == Rag.AMBER
        assert rag_on(at(2026, 4, 14, 9)) == Rag.RED

        with time_machine.travel(at(2026, 4, 13, 17), tick=False):
            services.security_job_book_survey(
                job=job, actor=world.acme_user, booked_for=at(2026, 4, 13, 9)
            )
            job = services.security_job_record_survey(
                job=job, actor=world.acme_user, lines=[line(world.lock)], survivor_consents=True
            )
        clocks = selectors.job_clocks(job, policy=SlaPolicy())
        survey = next(c for c in clocks if c.name == "survey")
        assert survey.met is True
        # The installation clock now runs: ten working days from Monday 13 April.
        assert job.installation_due_at is not None
        assert job.installation_due_at.astimezone(LONDON).date() == dt.date(2026, 4, 27)

    def test_emergency_make_safe_within_24_hours(self, world: World) -> None:
        with time_machine.travel(at(2026, 12, 24, 18), tick=False):
            job = allocate(world, priority=JobPriority.EMERGENCY)
        # Hours are calendar hours: Christmas Day does not stop the clock.
        assert job.make_safe_due_at == at(2026, 12, 25, 18)
        assert job.next_due_at == job.make_safe_due_at
        assert selectors.job_rag(job, policy=SlaPolicy(), now=at(2026, 12, 25, 13)) == Rag.AMBER
        with time_machine.travel(at(2026, 12, 25, 11), tick=False):
            job = services.security_job_record_make_safe(job=job, actor=world.acme_user)
        clocks = selectors.job_clocks(job, policy=SlaPolicy())
        clock = next(c for c in clocks if c.name == "make_safe")
        assert clock.met is True
        # Now the survey clock leads: five working days from Christmas Eve (Boxing Day is
        # substituted to Monday 28th): 29, 30, 31 Dec, 4, 5 Jan.
        assert job.next_due_at == job.survey_due_at
        assert job.survey_due_at is not None
        assert job.survey_due_at.astimezone(LONDON).date() == dt.date(2027, 1, 5)

    def test_targets_come_from_the_contracts_policy(self, world: World) -> None:
        agreement = contract(world.acme, world.kent)
        SlaPolicy.objects.create(contract=agreement, survey_working_days=2)
        with time_machine.travel(at(2026, 6, 1, 9), tick=False):
            job = allocate(world)
        assert job.contract == agreement
        assert job.survey_due_at is not None
        assert job.survey_due_at.astimezone(LONDON).date() == dt.date(2026, 6, 3)

    def test_lists_sort_by_nearest_breach(self, world: World) -> None:
        with time_machine.travel(at(2026, 6, 1, 9), tick=False):
            standard = allocate(world)
            emergency = allocate(world, priority=JobPriority.EMERGENCY)
            held = allocate(world)
            services.security_job_put_on_hold(
                job=held, actor=world.spa_worker, reason=HoldReason.NO_ACCESS
            )
        with time_machine.travel(at(2026, 5, 28, 9), tick=False):
            older = allocate(world)
        order = list(
            SecurityJob.objects.filter(pk__in=[standard.pk, emergency.pk, held.pk, older.pk])
            .by_nearest_breach()
            .values_list("pk", flat=True)
        )
        assert order == [emergency.pk, older.pk, standard.pk, held.pk]


class TestBudget:
    def test_contract_value_over_its_term(self, world: World) -> None:
        agreement = contract(world.acme, world.kent, extensions_taken=0)
        assert agreement.total_value == Decimal("800000.00")
        assert agreement.current_end_date == dt.date(2025, 11, 30)
        assert agreement.maximum_end_date == dt.date(2027, 11, 30)
        # Both extensions taken: £1.6m to 30 November 2027.
        for exercised_on in (dt.date(2025, 9, 1), dt.date(2026, 9, 1)):
            contract_extension_record(
                contract=agreement, exercised_on=exercised_on, recorded_by=None
            )
        assert agreement.total_value == Decimal("1600000.00")
        # The first contract year (with 29 February 2024) pro-rated by days.
        assert agreement.budget_between(dt.date(2023, 12, 1), dt.date(2024, 5, 31)) == (
            Decimal("400000") * 183 / 366
        ).quantize(Decimal("0.01"))

    def test_spend_per_district_and_quarter_and_forecast(self, world: World) -> None:
        from tests.test_security_works_helpers import district

        margate = world.thanet
        canterbury = district(world.kent, "Canterbury")
        world.acme.districts_covered.add(canterbury)
        agreement = contract(world.acme, world.kent)

        def installed(place: object, when: dt.datetime, cost: str) -> SecurityJob:
            with time_machine.travel(when, tick=False):
                case = case_file(world.kent, place)  # type: ignore[arg-type]
                job = services.security_job_allocate(
                    case_file=case,
                    priority=JobPriority.STANDARD,
                    allocated_by=world.spa_worker,
                    contractor=world.acme,
                    override_reason="keep it simple",
                )
                services.security_job_book_survey(
                    job=job, actor=world.acme_user, booked_for=job.allocated_at
                )
                services.security_job_record_survey(
                    job=job,
                    actor=world.acme_user,
                    lines=[line(world.lock, "10")],
                    survivor_consents=True,
                )
                services.security_job_book_installation(
                    job=job, actor=world.acme_user, booked_for=job.allocated_at
                )
                return services.security_job_record_installation(
                    job=job, actor=world.acme_user, lines=[fitted(world.lock, "10", cost)]
                )

        installed(margate, at(2024, 4, 10), "500.00")
        installed(margate, at(2024, 6, 28), "300.00")
        installed(canterbury, at(2024, 7, 1), "200.00")
        installed(margate, at(2025, 1, 15), "100.00")

        cells = selectors.contract_spend_by_district_quarter(agreement)
        summary = [
            (c.financial_year, c.financial_quarter, c.district, c.spend, c.jobs) for c in cells
        ]
        assert summary == [
            ("2024-25", 1, "Thanet", Decimal("800.00"), 2),
            ("2024-25", 2, "Canterbury", Decimal("200.00"), 1),
            ("2024-25", 4, "Thanet", Decimal("100.00"), 1),
        ]

        budget = selectors.contract_budget_summary(agreement, as_of=dt.date(2025, 11, 30))
        assert budget.spend_to_date == Decimal("1100.00")
        assert budget.total_value == Decimal("1600000.00")
        assert budget.budget_to_date == Decimal("800000.00")
        # Halfway through the four-year term: the run rate doubles the spend.
        assert budget.forecast_at_end == Decimal("2200.00")
        assert budget.forecast_variance < 0


class TestDemoSeed:
    def test_the_seed_loads_rates_and_contracts_once(self, world: World) -> None:
        from django.core.management import call_command

        from safer.organisations.models import Contract
        from security_works.management.commands.seed_security_works import SCHEDULE_OF_RATES
        from security_works.models import Measure

        call_command("seed_security_works", stdout=io.StringIO())
        call_command("seed_security_works", stdout=io.StringIO())
        codes = {row[0] for row in SCHEDULE_OF_RATES}
        assert set(Measure.objects.filter(code__in=codes).values_list("code", flat=True)) == codes
        assert Measure.objects.filter(code="sanctuary-room").get().affects_escape_routes
        kent = Contract.objects.filter(authority=world.kent)
        assert kent.count() == 2  # Acme and Bolt
        initial_term = sum((c.budget_between(c.start_date, c.end_date) for c in kent), Decimal(0))
        assert initial_term == Decimal("800000.00")
