"""Closing a support case: a planned ending needs its exit measures (or a reason why not), and
closing lands on the closed case's summary, readable by whoever closed it and by the provider's
managers, with no action on it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from safer.accounts.models import User
from safer.audit.models import AccessAction, AccessLog
from support.exceptions import ExitMeasuresMissing
from support.models import AdultSupportCase, CypCase, GboTimePoint, GoalStatus, SupportGoal
from support.services.adult import (
    OutcomeScores,
    adult_support_case_close,
    outcome_measure_record,
    support_goal_add,
)
from support.services.cyp import cyp_case_close
from support.services.gbo import gbo_goal_add, gbo_score_record
from tests.factories import PersonaWorld
from tests.helpers import sign_in
from tests.test_support_helpers import (
    SupportWorld,
    build_support_world,
    closure_reason,
    days_ago,
    open_adult_case,
    open_cyp_case,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sw(world: PersonaWorld) -> SupportWorld:
    return build_support_world(world)


def _client(user: User) -> Client:
    return sign_in(Client(), user)


def _url(name: str, case: AdultSupportCase | CypCase, **extra: Any) -> str:
    return reverse(f"support:{name}", kwargs={"case_id": case.pk, **extra})


def _planned(reason: str = "") -> dict[str, Any]:
    return {
        "reason": closure_reason("no_longer_needed").pk,
        "exit_outcome": "planned_goals_met",
        "exit_measures_missing_reason": reason,
    }


def test_planned_adult_ending_without_exit_measures_is_refused_naming_what_is_missing(
    sw: SupportWorld,
) -> None:
    case = open_adult_case(sw)
    support_goal_add(case=case, description="Change the locks", created_by=sw.adult_worker)
    worker = _client(sw.adult_worker)

    page = worker.get(_url("adult-close", case)).content.decode()
    assert "The outcome measures at exit" in page  # said before the worker tries
    assert "Change the locks" in page

    refused = worker.post(_url("adult-close", case), _planned())
    assert refused.status_code == 400
    body = refused.content.decode()
    assert "the outcome measures at exit" in body
    assert "a final status for the goal “Change the locks”" in body
    # The error sits on the reason field, and the summary links to it.
    assert 'href="#id_exit_measures_missing_reason"' in body
    case.refresh_from_db()
    assert case.is_open


def test_planned_ending_with_a_reason_why_not_is_kept_on_the_case(sw: SupportWorld) -> None:
    case = open_adult_case(sw)
    closed = adult_support_case_close(
        case=case,
        reason=closure_reason("no_longer_needed"),
        exit_outcome="planned_partly_met",
        closed_by=sw.adult_worker,
        exit_measures_missing_reason="  Moved away before the last session  ",
    )
    assert closed.exit_measures_missing_reason == "Moved away before the last session"
    assert closed.closed_by == sw.adult_worker


def test_unplanned_ending_needs_no_exit_measures_and_keeps_no_reason(sw: SupportWorld) -> None:
    case = open_adult_case(sw)
    closed = adult_support_case_close(
        case=case,
        reason=closure_reason("unable_to_contact"),
        exit_outcome="unplanned",
        closed_by=sw.adult_worker,
        exit_measures_missing_reason="typed by mistake",
    )
    assert closed.exit_measures_missing_reason == ""


def test_planned_adult_ending_passes_once_measures_and_goal_status_are_recorded(
    sw: SupportWorld,
) -> None:
    case = open_adult_case(sw)
    goal = support_goal_add(case=case, description="Change the locks", created_by=sw.adult_worker)
    scores = OutcomeScores(feeling_safe=4, quality_of_life=4, confidence=3)
    for point in ("start", "close"):
        outcome_measure_record(
            case=case,
            time_point=point,
            recorded_on=days_ago(0),
            scores=scores,
            recorded_by=sw.adult_worker,
        )
    with pytest.raises(ExitMeasuresMissing, match="Change the locks"):
        adult_support_case_close(
            case=case,
            reason=closure_reason("no_longer_needed"),
            exit_outcome="planned_goals_met",
            closed_by=sw.adult_worker,
        )
    # The worker marks the goal from its page (the only way to set a goal's status).
    worker = _client(sw.adult_worker)
    status_url = _url("adult-goal-status", case, goal_id=goal.pk)
    assert "Where is this goal now?" in worker.get(status_url).content.decode()
    assert worker.post(status_url, {"status": GoalStatus.ACHIEVED}).status_code == 302
    assert SupportGoal.objects.get(pk=goal.pk).status == GoalStatus.ACHIEVED

    response = worker.post(_url("adult-close", case), _planned())
    assert response.status_code == 302
    assert response["Location"] == _url("adult-closed", case)


def test_closing_lands_on_the_closed_case_for_the_worker_who_closed_it(sw: SupportWorld) -> None:
    case = open_adult_case(sw)
    worker = _client(sw.adult_worker)
    response = worker.post(
        _url("adult-close", case),
        {
            **_planned("Did not want to score"),
            "note": "Ended well",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert response.redirect_chain == [(_url("adult-closed", case), 302)]
    page = response.content.decode()
    assert "Adult support case closed" in page
    assert case.reference in page
    assert closure_reason("no_longer_needed").label in page
    assert "Planned ending: goals met" in page
    assert "Did not want to score" in page
    assert "Ended well" in page
    assert "Your access to this case ended when it closed" in page
    # Their access to the person ended with the case: the reference stays, the name goes.
    assert f"{case.survivor.given_name} {case.survivor.family_name}" not in page
    # No action on a closed case, and no link to the case the worker may no longer open.
    assert _url("adult-close", case) not in page
    assert _url("adult-session", case) not in page
    assert _url("adult-detail", case) not in page
    assert worker.get(_url("adult-detail", case)).status_code == 404
    # Each view of the summary is access-logged.
    assert AccessLog.objects.filter(
        user=sw.adult_worker,
        action=AccessAction.VIEW,
        record_id=str(case.pk),
        reason="closure summary",
    ).exists()


def test_closed_summary_is_404_for_a_worker_who_did_not_close_it(sw: SupportWorld) -> None:
    case = open_adult_case(sw)
    adult_support_case_close(
        case=case,
        reason=closure_reason("unable_to_contact"),
        exit_outcome="unplanned",
        closed_by=sw.adult_manager,
    )
    # The allocated worker (same team) did not close it: the case and its summary are gone.
    assert _client(sw.adult_worker).get(_url("adult-closed", case)).status_code == 404
    assert _client(sw.adult_colleague).get(_url("adult-closed", case)).status_code == 404
    assert _client(sw.cyp_worker).get(_url("adult-closed", case)).status_code == 404
    # The manager sees the summary with a link to the whole (read-only) case.
    manager = _client(sw.adult_manager)
    page = manager.get(_url("adult-closed", case)).content.decode()
    assert "Open the closed case" in page
    detail = manager.get(_url("adult-detail", case)).content.decode()
    assert "Closed" in detail
    assert _url("adult-close", case) not in detail  # no action forms on a closed case


def test_open_case_summary_redirects_to_the_case(sw: SupportWorld) -> None:
    case = open_adult_case(sw)
    response = _client(sw.adult_worker).get(_url("adult-closed", case))
    assert response.status_code == 302
    assert response["Location"] == _url("adult-detail", case)


def test_cyp_planned_ending_needs_end_scores_then_lands_on_the_closed_case(
    sw: SupportWorld,
) -> None:
    case = open_cyp_case(sw)
    worker = _client(sw.cyp_worker)
    refused = worker.post(_url("cyp-close", case), _planned())
    assert refused.status_code == 400
    assert "at least one goal (GBO) with its start and end scores" in refused.content.decode()

    goal = gbo_goal_add(
        case=case,
        description="Sleep in my own bed",
        agreed_on=days_ago(0),
        created_by=sw.cyp_worker,
    )
    for point, score in ((GboTimePoint.START, 2), (GboTimePoint.END, 7)):
        gbo_score_record(
            goal=goal,
            time_point=point,
            score=score,
            rated_by="child",
            scored_on=days_ago(0),
            recorded_by=sw.cyp_worker,
        )
    response = worker.post(_url("cyp-close", case), _planned(), follow=True)
    assert response.redirect_chain == [(_url("cyp-closed", case), 302)]
    assert "CYP case closed" in response.content.decode()
    closed = CypCase.objects.get(pk=case.pk)
    assert closed.closed_by == sw.cyp_worker
    assert closed.exit_measures_missing_reason == ""


def test_cyp_goal_without_an_end_score_is_named(sw: SupportWorld) -> None:
    case = open_cyp_case(sw)
    gbo_goal_add(
        case=case, description="Talk to my teacher", agreed_on=days_ago(0), created_by=sw.cyp_worker
    )
    with pytest.raises(ExitMeasuresMissing, match="an end score for goal 1 “Talk to my teacher”"):
        cyp_case_close(
            case=case,
            reason=closure_reason("no_longer_needed"),
            exit_outcome="planned_goals_met",
            closed_by=sw.cyp_worker,
        )
