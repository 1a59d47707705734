"""An adult support case from allocation to closure, through the services."""

from __future__ import annotations

import datetime as dt

import pghistory.models
import pytest
import time_machine
from django.utils import timezone

from safer import workdays
from safer.casefile.models import CaseEvent, CaseFile, ContactChannel
from support.exceptions import (
    ExitMeasuresMissing,
    InvalidRecord,
    InvalidTransition,
    SupportError,
    UnsafeChannel,
)
from support.models import (
    AdultStatus,
    AdultSupportCase,
    ContactOutcome,
    ExitOutcome,
    GoalStatus,
    Handover,
    NeedLevel,
    NeedsArea,
    SafetyPlan,
    SafetyPlanStatus,
    TimePoint,
)
from support.services.adult import (
    NeedLine,
    OutcomeScores,
    adult_session_record,
    adult_support_case_allocate,
    adult_support_case_close,
    adult_support_case_open,
    adult_support_case_transfer,
    needs_assessment_record,
    outcome_measure_record,
    safety_plan_record,
    safety_plan_review,
    support_action_add,
    support_action_complete,
    support_goal_add,
    support_goal_set_status,
)
from support.services.common import contact_attempt_record
from tests.factories import PersonaWorld
from tests.test_support_helpers import (
    SupportWorld,
    build_support_world,
    closure_reason,
    days_ago,
    open_adult_case,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sw(world: PersonaWorld) -> SupportWorld:
    return build_support_world(world)


def _visible(user: object, case: AdultSupportCase) -> bool:
    return AdultSupportCase.objects.visible_to(user).filter(pk=case.pk).exists()  # type: ignore[arg-type]


def _kinds(case: AdultSupportCase) -> list[str]:
    return list(
        CaseEvent.objects.filter(data__support_case_id=str(case.pk))
        .order_by("id")
        .values_list("kind", flat=True)
    )


def test_adult_case_from_allocation_to_closure(sw: SupportWorld) -> None:
    # Opened by the SPA: waiting for allocation, seen by the provider's manager only.
    case = adult_support_case_open(case_file=sw.case_file, opened_by=sw.world.spa_triage)
    assert case.provider == sw.world.organisations["adult"]  # the authority's only provider
    assert case.status == AdultStatus.AWAITING_ALLOCATION
    assert case.reference.startswith("AS-")
    assert case.household_id == sw.case_file.household_id  # the returns count by it
    assert _visible(sw.adult_manager, case)
    assert not _visible(sw.adult_worker, case)

    # Allocated: the first-contact clock starts (2 working days, the default policy).
    with time_machine.travel(dt.datetime(2026, 3, 6, 10, 0, tzinfo=workdays.LOCAL_TZ)):
        case = adult_support_case_allocate(
            case=case, worker=sw.adult_worker, allocated_by=sw.adult_manager
        )
    assert case.status == AdultStatus.ALLOCATED
    assert case.first_contact_due_on == dt.date(2026, 3, 10)  # Friday + 2 working days
    assert case.team == sw.adult_worker.team
    assert _visible(sw.adult_worker, case)

    # A channel not marked safe (the rules allow phone only) is refused until a reason is given.
    with pytest.raises(UnsafeChannel, match="not marked safe"):
        contact_attempt_record(
            case=case,
            channel=ContactChannel.EMAIL,
            outcome=ContactOutcome.NO_ANSWER,
            recorded_by=sw.adult_worker,
        )
    emailed = contact_attempt_record(
        case=case,
        channel=ContactChannel.EMAIL,
        outcome=ContactOutcome.NO_ANSWER,
        recorded_by=sw.adult_worker,
        unsafe_channel_reason="Asked by phone to email the leaflet",
    )
    assert emailed.channel_was_unsafe
    contact_attempt_record(
        case=case,
        channel=ContactChannel.PHONE,
        outcome=ContactOutcome.CONTACTED,
        recorded_by=sw.adult_worker,
    )
    case.refresh_from_db()
    assert case.status == AdultStatus.IN_CONTACT
    assert case.first_contact_at is not None
    assert case.review_due_on == timezone.localdate() + dt.timedelta(weeks=12)

    # Needs, safety plan, support plan, a session (the case becomes active), outcomes.
    areas = {a.code: a for a in NeedsArea.objects.all()}
    assessment = needs_assessment_record(
        case=case,
        assessed_on=days_ago(0),
        lines=[
            NeedLine(area=areas["safety"], level=NeedLevel.HIGH),
            NeedLine(area=areas["housing"], level=NeedLevel.MEDIUM),
        ],
        assessed_by=sw.adult_worker,
    )
    assert assessment.items.count() == 2
    first_plan = safety_plan_record(
        case=case,
        agreed_on=days_ago(0),
        plan="Code word with neighbour",
        created_by=sw.adult_worker,
    )
    assert first_plan.review_due_on == days_ago(0) + dt.timedelta(weeks=4)
    safety_plan_review(
        plan=first_plan,
        reviewed_on=days_ago(0),
        next_review_on=days_ago(-14),
        reviewed_by=sw.adult_worker,
    )
    second_plan = safety_plan_record(
        case=case, agreed_on=days_ago(0), plan="Updated plan", created_by=sw.adult_worker
    )
    first_plan.refresh_from_db()
    assert first_plan.status == SafetyPlanStatus.SUPERSEDED
    assert SafetyPlan.objects.get(adult_case=case, status="active") == second_plan
    goal = support_goal_add(
        case=case,
        description="Stay in the home",
        need_area=areas["housing"],
        created_by=sw.adult_worker,
    )
    action = support_action_add(
        goal=goal, description="Call the landlord", due_on=days_ago(-7), created_by=sw.adult_worker
    )
    support_action_complete(action=action, done_on=days_ago(0), completed_by=sw.adult_worker)
    adult_session_record(
        case=case,
        occurred_on=days_ago(0),
        mode="face_to_face",
        duration_minutes=60,
        note="Talked through the court date",
        recorded_by=sw.adult_worker,
    )
    case.refresh_from_db()
    assert case.status == AdultStatus.ACTIVE
    scores = OutcomeScores(
        feeling_safe=3, quality_of_life=4, confidence=2, abuse_types=["emotional"]
    )
    outcome_measure_record(
        case=case,
        time_point=TimePoint.START,
        recorded_on=days_ago(0),
        scores=scores,
        recorded_by=sw.adult_worker,
    )
    with pytest.raises(InvalidRecord, match="already recorded"):
        outcome_measure_record(
            case=case,
            time_point=TimePoint.START,
            recorded_on=days_ago(0),
            scores=scores,
            recorded_by=sw.adult_worker,
        )

    # Transfer to a colleague in another team: the handover note is kept, the old worker loses
    # the case (and the case file, which no other open case of theirs needs).
    case, handover = adult_support_case_transfer(
        case=case,
        worker=sw.adult_colleague,
        transferred_by=sw.adult_manager,
        handover_note="Court on Friday; call after 10",
    )
    assert Handover.objects.get(adult_case=case) == handover
    assert handover.from_worker == sw.adult_worker
    assert not _visible(sw.adult_worker, case)
    assert not CaseFile.objects.visible_to(sw.adult_worker).filter(pk=sw.case_file.pk).exists()
    assert _visible(sw.adult_colleague, case)

    # A planned ending needs the exit measures and every goal's final status.
    with pytest.raises(ExitMeasuresMissing) as refused:
        adult_support_case_close(
            case=case,
            reason=closure_reason("no_longer_needed"),
            exit_outcome=ExitOutcome.PLANNED_GOALS_MET,
            closed_by=sw.adult_colleague,
        )
    assert refused.value.missing == [
        "the outcome measures at exit",
        "a final status for the goal “Stay in the home” (it is still “Working on it”: mark it "
        "achieved or no longer a goal)",
    ]
    outcome_measure_record(
        case=case,
        time_point=TimePoint.CLOSE,
        recorded_on=days_ago(0),
        scores=OutcomeScores(
            feeling_safe=8, quality_of_life=7, confidence=7, abuse_status="stopped"
        ),
        recorded_by=sw.adult_colleague,
    )
    support_goal_set_status(goal=goal, status=GoalStatus.ACHIEVED, changed_by=sw.adult_colleague)
    case = adult_support_case_close(
        case=case,
        reason=closure_reason("no_longer_needed"),
        exit_outcome=ExitOutcome.PLANNED_GOALS_MET,
        closed_by=sw.adult_colleague,
    )
    assert case.status == AdultStatus.CLOSED
    assert case.retention_until == timezone.localdate().replace(year=timezone.localdate().year + 6)
    assert not _visible(sw.adult_colleague, case)  # workers lose closed cases
    assert _visible(sw.adult_manager, case)  # the provider's managers keep them

    assert _kinds(case) == [
        "adult_support.opened",
        "adult_support.allocated",
        "adult_support.contact_attempt",
        "adult_support.contact_attempt",
        "adult_support.needs_assessed",
        "adult_support.safety_plan_agreed",
        "adult_support.safety_plan_reviewed",
        "adult_support.safety_plan_agreed",
        "adult_support.support_goal_added",
        "adult_support.support_action_added",
        "adult_support.support_action_done",
        "adult_support.session_recorded",
        "adult_support.outcomes_recorded",
        "adult_support.transferred",
        "adult_support.outcomes_recorded",
        "adult_support.support_goal_status",
        "adult_support.closed",
    ]
    # No note reaches the shared timeline.
    summaries = " ".join(
        CaseEvent.objects.filter(case_file=sw.case_file).values_list("summary", flat=True)
    )
    assert "court" not in summaries.lower()
    assert "landlord" not in summaries.lower()
    # The change history (pghistory) has the case's every state.
    statuses = list(
        pghistory.models.Events.objects.tracks(case)
        .order_by("pgh_created_at")
        .values_list("pgh_data__status", flat=True)
    )
    assert statuses[0] == "awaiting_allocation"
    assert statuses[-1] == "closed"


def test_illegal_transitions_are_refused_with_a_clear_message(sw: SupportWorld) -> None:
    waiting = open_adult_case(sw, allocate=False)
    with pytest.raises(InvalidTransition, match="waiting for allocation, so it cannot be given"):
        adult_session_record(
            case=waiting,
            occurred_on=days_ago(0),
            mode="phone",
            duration_minutes=10,
            recorded_by=sw.adult_manager,
        )
    closed = adult_support_case_close(
        case=waiting,
        reason=closure_reason("unable_to_contact"),
        exit_outcome=ExitOutcome.UNPLANNED,
        closed_by=sw.adult_manager,
    )
    with pytest.raises(InvalidTransition, match="closed, so it cannot be closed"):
        adult_support_case_close(
            case=closed,
            reason=closure_reason("unable_to_contact"),
            exit_outcome=ExitOutcome.UNPLANNED,
            closed_by=sw.adult_manager,
        )


def test_other_reason_needs_a_note_and_one_open_case_per_case_file(sw: SupportWorld) -> None:
    case = open_adult_case(sw)
    with pytest.raises(InvalidRecord, match="Add a note"):
        adult_support_case_close(
            case=case,
            reason=closure_reason("other"),
            exit_outcome=ExitOutcome.UNPLANNED,
            closed_by=sw.adult_worker,
        )
    with pytest.raises(SupportError, match="already has an open adult support case"):
        adult_support_case_open(case_file=sw.case_file, opened_by=sw.world.spa_triage)


def test_worker_of_another_provider_cannot_be_allocated(sw: SupportWorld) -> None:
    case = open_adult_case(sw, allocate=False)
    with pytest.raises(SupportError, match="not an active member"):
        adult_support_case_allocate(case=case, worker=sw.outsider, allocated_by=sw.adult_manager)
    with pytest.raises(SupportError, match="does not have the Adult support worker role"):
        adult_support_case_allocate(
            case=case, worker=sw.adult_manager, allocated_by=sw.adult_manager
        )
