"""The next due date stored on a support case (issue 17) always equals the one its clocks give.

Every service that moves a clock stores it (``common.next_due_refresh``); after each, the
stored date is compared with the computation (``next_due_drift`` finds none). A writer that
forgets is caught by the nightly repair, which logs it; and the caseload's default order is
read off the partial index, not computed for every open case.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from safer.casefile.models import ContactChannel
from support.models import (
    AdultSupportCase,
    ContactOutcome,
    CypCase,
    ExitOutcome,
    GboTimePoint,
    ServiceFunction,
    TimePoint,
)
from support.selectors.caseload import (
    CaseloadFilters,
    adult_caseload_queryset,
    next_due_drift,
    worker_caseload_page,
)
from support.services.adult import (
    OutcomeScores,
    adult_session_record,
    adult_support_case_close,
    adult_support_case_transfer,
    outcome_measure_record,
    safety_plan_record,
    safety_plan_review,
    support_action_add,
    support_action_complete,
    support_goal_add,
)
from support.services.common import contact_attempt_record
from support.services.cyp import cyp_case_close, cyp_session_record, exit_plan_record
from support.services.due import next_due_repair
from support.services.gbo import gbo_goal_add, gbo_score_record
from support.tasks import next_due_repair_task
from tests.factories import PersonaWorld
from tests.test_support_helpers import (
    SupportWorld,
    build_support_world,
    closure_reason,
    days_ago,
    open_adult_case,
    open_cyp_case,
)

pytestmark = pytest.mark.django_db

Case = AdultSupportCase | CypCase
SCORES = OutcomeScores(feeling_safe=5, quality_of_life=5, confidence=5)


@pytest.fixture
def sw(world: PersonaWorld) -> SupportWorld:
    return build_support_world(world)


def _stored(case: Case) -> dt.date | None:
    return type(case).objects.values_list("next_due_on", flat=True).get(pk=case.pk)


# --- Each clock-moving service, from a case where it can run; returns the case and the date
# --- its clocks should now give.


def _allocate(sw: SupportWorld) -> tuple[Case, dt.date | None]:
    case = open_adult_case(sw)
    return case, case.first_contact_due_on


def _contact(sw: SupportWorld) -> tuple[Case, dt.date | None]:
    case = open_adult_case(sw)
    contact_attempt_record(
        case=case,
        channel=ContactChannel.PHONE,
        outcome=ContactOutcome.CONTACTED,
        recorded_by=sw.adult_worker,
    )
    case.refresh_from_db()
    return case, case.review_due_on  # the first-contact clock stopped, the review clock runs


def _active_adult(sw: SupportWorld) -> AdultSupportCase:
    case = open_adult_case(sw)
    adult_session_record(
        case=case,
        occurred_on=days_ago(0),
        mode="face_to_face",
        duration_minutes=30,
        recorded_by=sw.adult_worker,
    )
    return case


def _adult_session(sw: SupportWorld) -> tuple[Case, dt.date | None]:
    return _active_adult(sw), days_ago(0) + dt.timedelta(weeks=12)


def _safety_plan(sw: SupportWorld) -> tuple[Case, dt.date | None]:
    case = open_adult_case(sw)
    safety_plan_record(
        case=case,
        agreed_on=days_ago(30),
        plan="Plan",
        review_due_on=days_ago(2),
        created_by=sw.adult_worker,
    )
    return case, days_ago(2)


def _safety_plan_review(sw: SupportWorld) -> tuple[Case, dt.date | None]:
    case = _active_adult(sw)
    plan = safety_plan_record(
        case=case,
        agreed_on=days_ago(30),
        plan="Plan",
        review_due_on=days_ago(2),
        created_by=sw.adult_worker,
    )
    safety_plan_review(
        plan=plan, reviewed_on=days_ago(0), next_review_on=days_ago(-5), reviewed_by=sw.adult_worker
    )
    return case, days_ago(-5)


def _action_add(sw: SupportWorld) -> tuple[Case, dt.date | None]:
    case = _active_adult(sw)
    goal = support_goal_add(case=case, description="Stay", created_by=sw.adult_worker)
    support_action_add(
        goal=goal, description="Call", due_on=days_ago(-3), created_by=sw.adult_worker
    )
    return case, days_ago(-3)


def _action_complete(sw: SupportWorld) -> tuple[Case, dt.date | None]:
    case = _active_adult(sw)
    goal = support_goal_add(case=case, description="Stay", created_by=sw.adult_worker)
    action = support_action_add(
        goal=goal, description="Call", due_on=days_ago(-3), created_by=sw.adult_worker
    )
    support_action_complete(action=action, done_on=days_ago(0), completed_by=sw.adult_worker)
    return case, days_ago(0) + dt.timedelta(weeks=12)


def _outcome_review(sw: SupportWorld) -> tuple[Case, dt.date | None]:
    case = _active_adult(sw)
    for point, day in ((TimePoint.START, days_ago(20)), (TimePoint.REVIEW, days_ago(10))):
        outcome_measure_record(
            case=case, time_point=point, recorded_on=day, scores=SCORES, recorded_by=sw.adult_worker
        )
    return case, days_ago(10) + dt.timedelta(weeks=12)


def _transfer(sw: SupportWorld) -> tuple[Case, dt.date | None]:
    case = open_adult_case(sw)
    adult_support_case_transfer(
        case=case, worker=sw.adult_colleague, transferred_by=sw.adult_manager, handover_note="Hi"
    )
    return case, case.first_contact_due_on  # a new worker, the same clocks


def _adult_close(sw: SupportWorld) -> tuple[Case, dt.date | None]:
    case = open_adult_case(sw)
    adult_support_case_close(
        case=case,
        reason=closure_reason("unable_to_contact"),
        exit_outcome=ExitOutcome.UNPLANNED,
        closed_by=sw.adult_worker,
    )
    return case, None


def _cyp_allocate(sw: SupportWorld) -> tuple[Case, dt.date | None]:
    case = open_cyp_case(sw)
    return case, case.first_contact_due_on


def _cyp_contact(sw: SupportWorld) -> tuple[Case, dt.date | None]:
    case = open_cyp_case(sw)
    contact_attempt_record(
        case=case,
        channel=ContactChannel.PHONE,
        outcome=ContactOutcome.CONTACTED,
        recorded_by=sw.cyp_worker,
    )
    case.refresh_from_db()
    return case, case.review_due_on


def _engaged_cyp(sw: SupportWorld) -> CypCase:
    case = open_cyp_case(sw)
    cyp_session_record(
        case=case,
        function=ServiceFunction.ENGAGEMENT,
        occurred_on=days_ago(0),
        mode="face_to_face",
        duration_minutes=30,
        recorded_by=sw.cyp_worker,
    )
    return case


def _cyp_session(sw: SupportWorld) -> tuple[Case, dt.date | None]:
    return _engaged_cyp(sw), days_ago(0) + dt.timedelta(weeks=12)


def _exit_plan(sw: SupportWorld) -> tuple[Case, dt.date | None]:
    case = _engaged_cyp(sw)
    exit_plan_record(
        case=case,
        planned_end_on=days_ago(-7),
        plan="End well",
        agreed_with_child=True,
        recorded_by=sw.cyp_worker,
    )
    return case, days_ago(-7)


def _gbo_review(sw: SupportWorld) -> tuple[Case, dt.date | None]:
    case = _engaged_cyp(sw)
    goal = gbo_goal_add(
        case=case, description="Sleep", agreed_on=days_ago(0), created_by=sw.cyp_worker
    )
    for point in (GboTimePoint.START, GboTimePoint.REVIEW):
        gbo_score_record(
            goal=goal,
            time_point=point,
            score=5,
            rated_by="child",
            scored_on=days_ago(0),
            recorded_by=sw.cyp_worker,
        )
    return case, days_ago(0) + dt.timedelta(weeks=12)


def _cyp_close(sw: SupportWorld) -> tuple[Case, dt.date | None]:
    case = open_cyp_case(sw)
    cyp_case_close(
        case=case,
        reason=closure_reason("unable_to_contact"),
        exit_outcome=ExitOutcome.UNPLANNED,
        closed_by=sw.cyp_worker,
    )
    return case, None


CLOCK_MOVES: dict[str, Callable[[SupportWorld], tuple[Case, dt.date | None]]] = {
    "adult_support_case_allocate": _allocate,
    "contact_attempt_record": _contact,
    "adult_session_record": _adult_session,
    "safety_plan_record": _safety_plan,
    "safety_plan_review": _safety_plan_review,
    "support_action_add": _action_add,
    "support_action_complete": _action_complete,
    "outcome_measure_record_review": _outcome_review,
    "adult_support_case_transfer": _transfer,
    "adult_support_case_close": _adult_close,
    "cyp_case_allocate": _cyp_allocate,
    "contact_attempt_record_cyp": _cyp_contact,
    "cyp_session_record": _cyp_session,
    "exit_plan_record": _exit_plan,
    "gbo_score_record_review": _gbo_review,
    "cyp_case_close": _cyp_close,
}


@pytest.mark.parametrize("move", CLOCK_MOVES.values(), ids=CLOCK_MOVES.keys())
def test_stored_next_due_equals_the_clocks_after_each_service(
    sw: SupportWorld, move: Callable[[SupportWorld], tuple[Case, dt.date | None]]
) -> None:
    case, expected = move(sw)
    assert _stored(case) == expected
    assert next_due_drift() == []


def test_drift_is_found_and_repaired_with_a_warning(
    sw: SupportWorld, caplog: pytest.LogCaptureFixture
) -> None:
    case = open_adult_case(sw)
    due = case.first_contact_due_on
    assert due is not None
    # A writer that moves a clock without the services.
    AdultSupportCase.objects.filter(pk=case.pk).update(first_contact_due_on=due - dt.timedelta(9))
    [drift] = next_due_drift()
    assert (drift.case_id, drift.stored, drift.computed) == (case.pk, due, due - dt.timedelta(9))
    with pytest.raises(CommandError, match="1 case"):
        call_command("next_due_check")
    with caplog.at_level(logging.WARNING, logger="support.services.due"):
        assert next_due_repair_task() == 1
    assert str(case.pk) in caplog.text
    assert _stored(case) == due - dt.timedelta(9)
    assert next_due_drift() == []
    assert next_due_repair() == 0  # twice is harmless
    call_command("next_due_check")


def test_the_nightly_repair_is_on_the_beat_schedule() -> None:
    from safer.celery import app

    entry = app.conf.beat_schedule["support-next-due-repair"]
    assert entry["task"] == next_due_repair_task.name


def test_caseload_order_is_read_off_the_index(sw: SupportWorld) -> None:
    """The default order is the stored date, served by ``adult_case_worker_due_idx`` (seq
    scans and sorts are discouraged, so the plan shows whether the index can serve it at all
    on a handful of rows): no Sort node, and the clocks' sub-plans run only for the page."""
    open_adult_case(sw)
    cases = (
        AdultSupportCase.objects.open()
        .filter(allocated_worker=sw.adult_worker)
        .order_by("next_due_on")
    )
    query = adult_caseload_queryset(cases).order_by("next_due_on", "opened_at", "pk")[:51]
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "adult_case_worker_due_idx" in plan
    assert "Sort" not in plan.split("SubPlan")[0]


def test_caseload_page_sorts_by_the_stored_date_in_constant_queries(sw: SupportWorld) -> None:
    case = open_adult_case(sw)
    safety_plan_record(
        case=case,
        agreed_on=days_ago(30),
        plan="Plan",
        review_due_on=days_ago(2),
        created_by=sw.adult_worker,
    )
    from django.http import QueryDict

    with CaptureQueriesContext(connection) as queries:
        page = worker_caseload_page(
            user=sw.adult_worker, filters=CaseloadFilters(due="overdue"), params=QueryDict()
        )
    [row] = list(page)
    assert (row.next_due_on, row.next_due_label, row.overdue) == (
        days_ago(2),
        "Safety plan review",
        True,
    )
    # One read of the cases (the others are the user's roles and scope), whatever its size.
    case_reads = [q for q in queries if 'FROM "support_adultsupportcase"' in q["sql"]]
    assert len(case_reads) == 1


def test_home_panel_counts_from_the_stored_dates(sw: SupportWorld) -> None:
    from support.workspace import caseload_panel

    late = open_adult_case(sw)
    safety_plan_record(
        case=late,
        agreed_on=days_ago(30),
        plan="Plan",
        review_due_on=days_ago(2),
        created_by=sw.adult_worker,
    )
    adult_session_record(
        case=late,
        occurred_on=days_ago(0),
        mode="face_to_face",
        duration_minutes=30,
        recorded_by=sw.adult_worker,
    )
    panel = caseload_panel(sw.adult_worker)
    # As the panel shows them (capped counts: "500+" past the cap).
    counts = {c.label: str(c.value) for c in panel.counts}
    assert counts == {
        "open cases": "1",
        "overdue": "1",
        "first contacts to make": "0",
        "first contacts overdue": "0",
    }
    assert [r.text for r in panel.rows] == [late.reference]
    assert panel.rows[0].cells[2] == "Safety plan review"
