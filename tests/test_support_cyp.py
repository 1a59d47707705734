"""Children's (CYP) cases: from the SPA with group work and GBO at three time points, and
referred directly by a refuge provider."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import cast

import pytest

from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.casefile.intake import AddressDetails, PersonDetails, SafeContactDetails
from safer.casefile.models import CaseEvent, CaseFile, ContactChannel, HouseholdRole, Person
from safer.organisations.models import Organisation
from support.exceptions import ExitMeasuresMissing, InvalidRecord, SupportError
from support.models import (
    Attendance,
    AttendanceStatus,
    CypCase,
    CypSource,
    CypStatus,
    ExitOutcome,
    GboTimePoint,
    SafeAccommodationType,
    ServiceFunction,
)
from support.selectors.gbo import gbo_outcome_for_case
from support.services.cyp import (
    cyp_case_allocate,
    cyp_case_close,
    cyp_case_function_set,
    cyp_case_open,
    cyp_referral_review,
    cyp_session_record,
    exit_plan_record,
    safeguarding_concern_record,
    safeguarding_referral_record,
    voice_of_child_record,
)
from support.services.direct_referral import DirectCypReferral, cyp_direct_referral_submit
from support.services.gbo import gbo_goal_add, gbo_score_record
from support.services.groups import group_member_add, group_session_record, support_group_create
from tests.factories import (
    AccommodationProviderFactory,
    ChildFactory,
    PersonaWorld,
    UserFactory,
)
from tests.test_support_helpers import (
    SupportWorld,
    build_support_world,
    closure_reason,
    days_ago,
    open_cyp_case,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sw(world: PersonaWorld) -> SupportWorld:
    return build_support_world(world)


def test_cyp_case_with_group_work_and_gbo_at_three_time_points(sw: SupportWorld) -> None:
    case = cyp_case_open(case_file=sw.case_file, child=sw.child, opened_by=sw.world.spa_triage)
    assert case.provider == sw.world.organisations["cyp"]
    assert case.accommodation_type == SafeAccommodationType.SANCTUARY
    assert case.source == CypSource.SPA
    assert case.household_id == sw.case_file.household_id == sw.child.household_id
    with pytest.raises(SupportError, match="already has a CYP case"):
        cyp_case_open(case_file=sw.case_file, child=sw.child, opened_by=sw.world.spa_triage)

    case = cyp_case_allocate(case=case, worker=sw.cyp_worker, allocated_by=sw.cyp_manager)
    assert case.first_contact_due_on is not None
    # Support coordination: review the referral, then keep in touch (engagement).
    cyp_referral_review(
        case=case,
        lives_in_safe_accommodation=True,
        accommodation_type=SafeAccommodationType.SANCTUARY,
        reviewed_by=sw.cyp_worker,
    )
    cyp_session_record(
        case=case,
        function=ServiceFunction.ENGAGEMENT,
        occurred_on=days_ago(0),
        mode="school",
        duration_minutes=30,
        recorded_by=sw.cyp_worker,
    )
    case.refresh_from_db()
    assert case.status == CypStatus.ENGAGEMENT
    assert case.first_contact_at is not None

    # Therapeutic work needs the move first; then one-to-one sessions.
    with pytest.raises(InvalidRecord, match="Move the case to therapeutic work"):
        cyp_session_record(
            case=case,
            function=ServiceFunction.THERAPEUTIC,
            occurred_on=days_ago(0),
            mode="face_to_face",
            duration_minutes=50,
            recorded_by=sw.cyp_worker,
        )
    cyp_case_function_set(case=case, status=CypStatus.THERAPEUTIC, changed_by=sw.cyp_worker)
    cyp_session_record(
        case=case,
        function=ServiceFunction.THERAPEUTIC,
        occurred_on=days_ago(0),
        mode="face_to_face",
        duration_minutes=50,
        note="Drew the safe place picture",
        recorded_by=sw.cyp_worker,
    )

    # Group work: a group of two children, one session, attendance on each child's case.
    sibling = cast(Person, ChildFactory(household=sw.case_file.household, given_name="Bea"))
    sibling_case = cyp_case_allocate(
        case=cyp_case_open(case_file=sw.case_file, child=sibling, opened_by=sw.world.spa_triage),
        worker=sw.cyp_worker,
        allocated_by=sw.cyp_manager,
    )
    group = support_group_create(
        authority=sw.world.kent,
        name="Tuesday group",
        starts_on=days_ago(0),
        facilitator=sw.cyp_worker,
        created_by=sw.cyp_worker,
    )
    group_member_add(group=group, case=case, added_by=sw.cyp_worker)
    group_member_add(group=group, case=sibling_case, added_by=sw.cyp_worker)
    with pytest.raises(InvalidRecord, match="already in this group"):
        group_member_add(group=group, case=case, added_by=sw.cyp_worker)
    session = group_session_record(
        group=group,
        held_on=days_ago(0),
        topic="Feelings",
        attendance={case.pk: AttendanceStatus.ATTENDED, sibling_case.pk: AttendanceStatus.ABSENT},
        recorded_by=sw.cyp_worker,
    )
    assert dict(Attendance.objects.filter(session=session).values_list("cyp_case", "status")) == {
        case.pk: "attended",
        sibling_case.pk: "absent",
    }

    # GBO: two goals; goal 1 scored at start, review and end; goal 2 at the start only.
    goal_1 = gbo_goal_add(
        case=case,
        description="Sleep in my own bed",
        agreed_on=days_ago(0),
        created_by=sw.cyp_worker,
    )
    goal_2 = gbo_goal_add(
        case=case, description="Talk to my teacher", agreed_on=days_ago(0), created_by=sw.cyp_worker
    )
    for time_point, score in (
        (GboTimePoint.START, 2),
        (GboTimePoint.REVIEW, 5),
        (GboTimePoint.END, 8),
    ):
        gbo_score_record(
            goal=goal_1,
            time_point=time_point,
            score=score,
            rated_by="child",
            scored_on=days_ago(0),
            recorded_by=sw.cyp_worker,
        )
    gbo_score_record(
        goal=goal_2,
        time_point=GboTimePoint.START,
        score=4,
        rated_by="parent",
        scored_on=days_ago(0),
        recorded_by=sw.cyp_worker,
    )
    outcome = gbo_outcome_for_case(case=case)
    assert [(g.start, g.end, g.change) for g in outcome.goals] == [(2, 8, 6), (4, None, None)]
    assert [p.time_point for p in outcome.goals[0].scores] == ["start", "review", "end"]
    assert (outcome.goals_with_both, outcome.goals_start_only) == (1, 1)
    assert outcome.mean_change == Decimal("6")
    assert outcome.improved is True

    voice_of_child_record(
        case=case,
        collected_on=days_ago(0),
        time_point=GboTimePoint.END,
        method="conversation",
        what_helped="The drawing",
        recorded_by=sw.cyp_worker,
    )

    # A planned ending of therapeutic work needs its exit plan.
    with pytest.raises(InvalidRecord, match="exit plan"):
        cyp_case_close(
            case=case,
            reason=closure_reason(),
            exit_outcome=ExitOutcome.PLANNED_GOALS_MET,
            closed_by=sw.cyp_worker,
        )
    exit_plan_record(
        case=case,
        planned_end_on=days_ago(0),
        plan="Two goodbye sessions, then the group",
        agreed_with_child=True,
        recorded_by=sw.cyp_worker,
    )
    # ... and an end score for every goal (goal 2 has none yet).
    with pytest.raises(ExitMeasuresMissing, match="an end score for goal 2 “Talk to my teacher”"):
        cyp_case_close(
            case=case,
            reason=closure_reason(),
            exit_outcome=ExitOutcome.PLANNED_GOALS_MET,
            closed_by=sw.cyp_worker,
        )
    gbo_score_record(
        goal=goal_2,
        time_point=GboTimePoint.END,
        score=7,
        rated_by="parent",
        scored_on=days_ago(0),
        recorded_by=sw.cyp_worker,
    )
    case = cyp_case_close(
        case=case,
        reason=closure_reason(),
        exit_outcome=ExitOutcome.PLANNED_GOALS_MET,
        closed_by=sw.cyp_worker,
    )
    assert case.status == CypStatus.CLOSED
    assert case.closed_by == sw.cyp_worker
    # Kept until the child's 25th birthday (born 2016) rather than six years after closure.
    assert case.retention_until == sw.child.date_of_birth.replace(year=2041)  # type: ignore[union-attr]
    # The sibling's open case keeps the worker on the case file.
    assert CaseFile.objects.visible_to(sw.cyp_worker).filter(pk=sw.case_file.pk).exists()
    kinds = set(
        CaseEvent.objects.filter(data__support_case_id=str(case.pk)).values_list("kind", flat=True)
    )
    assert {
        "cyp.opened",
        "cyp.allocated",
        "cyp.referral_reviewed",
        "cyp.session_recorded",
        "cyp.function_changed",
        "cyp.group_joined",
        "cyp.group_attendance",
        "cyp.gbo_goal_added",
        "cyp.gbo_score",
        "cyp.feedback_recorded",
        "cyp.exit_plan_set",
        "cyp.closed",
    } <= kinds


def test_safeguarding_concern_raises_the_flag_and_records_the_referral(sw: SupportWorld) -> None:
    case = open_cyp_case(sw)
    assert not sw.case_file.safeguarding_flag
    concern = safeguarding_concern_record(
        case=case,
        raised_on=days_ago(0),
        category="neglect",
        details="Not eating at school",
        raised_by=sw.cyp_worker,
    )
    sw.case_file.refresh_from_db()
    assert sw.case_file.safeguarding_flag
    concern = safeguarding_referral_record(
        concern=concern, referred_on=days_ago(0), reference="CSC-123", recorded_by=sw.cyp_worker
    )
    assert concern.referred_to_social_care
    assert concern.social_care_reference == "CSC-123"
    summaries = " ".join(
        CaseEvent.objects.filter(case_file=sw.case_file).values_list("summary", flat=True)
    )
    assert "eating" not in summaries  # the details stay on the concern


def _refuge_worker(sw: SupportWorld) -> tuple[User, Organisation]:
    refuge = cast(
        Organisation,
        AccommodationProviderFactory(name="Example Refuge", authorities=[sw.world.kent]),
    )
    user = cast(
        User,
        UserFactory(
            email="refuge@example.org",
            organisation=refuge,
            roles=[Role.REFERRER],
            authorities=[sw.world.kent],
        ),
    )
    return user, refuge


def _referral(
    sw: SupportWorld, *, given: str = "Jo", dob: dt.date = dt.date(2015, 2, 3)
) -> DirectCypReferral:
    return DirectCypReferral(
        child=PersonDetails(given_name=given, family_name="Example", date_of_birth=dob),
        parent=PersonDetails(given_name="Pat", family_name="Example"),
        address=AddressDetails(
            district=sw.world.extra["districts"]["canterbury"],
            address_line_1="1 Refuge Road",
            town="Canterbury",
            postcode="CT1 1AA",
            tenure="other",
        ),
        safe_contact=SafeContactDetails(safe_channels=[ContactChannel.PHONE], phone="07700 900456"),
        accommodation_type=SafeAccommodationType.REFUGE,
        parent_consents=True,
        reason="Withdrawn since arriving",
    )


def test_cyp_case_referred_directly_by_a_refuge_provider(sw: SupportWorld) -> None:
    referrer, refuge = _refuge_worker(sw)
    case = cyp_direct_referral_submit(referral=_referral(sw), submitted_by=referrer)
    assert case.source == CypSource.DIRECT
    assert case.referring_organisation == refuge
    assert case.referred_by == referrer
    assert case.accommodation_type == SafeAccommodationType.REFUGE
    assert case.status == CypStatus.AWAITING_ALLOCATION
    assert case.provider == sw.world.organisations["cyp"]
    assert case.referral_note == "Withdrawn since arriving"
    assert case.child.household_role == HouseholdRole.CHILD
    assert case.case_file.survivor.given_name == "Pat"
    assert case.case_file.reference.startswith("SAFER-")
    # The CYP provider's manager sees it and can allocate; the referrer sees nothing of it.
    assert CypCase.objects.visible_to(sw.cyp_manager).filter(pk=case.pk).exists()
    assert not CypCase.objects.visible_to(referrer).exists()
    assert not CaseFile.objects.visible_to(referrer).exists()
    assert not case.possible_duplicates.exists()

    # The same child again, with day and month swapped: kept, flagged as a possible duplicate.
    again = cyp_direct_referral_submit(
        referral=_referral(sw, dob=dt.date(2015, 3, 2)), submitted_by=referrer
    )
    assert list(again.possible_duplicates.all()) == [case]
    other = cyp_direct_referral_submit(referral=_referral(sw, given="Max"), submitted_by=referrer)
    assert not other.possible_duplicates.exists()


def test_direct_referral_rules(sw: SupportWorld) -> None:
    referrer, _ = _refuge_worker(sw)
    sanctuary = _referral(sw)
    sanctuary = DirectCypReferral(**{**sanctuary.__dict__, "accommodation_type": "sanctuary"})
    with pytest.raises(InvalidRecord, match="through the SPA"):
        cyp_direct_referral_submit(referral=sanctuary, submitted_by=referrer)
    no_consent = DirectCypReferral(**{**_referral(sw).__dict__, "parent_consents": False})
    with pytest.raises(InvalidRecord, match="must agree"):
        cyp_direct_referral_submit(referral=no_consent, submitted_by=referrer)
    with pytest.raises(SupportError, match="refuge or accommodation provider"):
        cyp_direct_referral_submit(referral=_referral(sw), submitted_by=sw.world.referrer)
