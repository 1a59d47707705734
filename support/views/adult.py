"""Pages for the records of an adult case: sessions, outcomes, needs, safety plan, support plan."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_http_methods

from safer.access.roles import role_required
from support.forms import (
    GoalStatusForm,
    NeedsAssessmentForm,
    OutcomeForm,
    SafetyPlanForm,
    SessionForm,
    SupportGoalForm,
)
from support.models import AdultSupportCase, SupportGoal
from support.selectors.cases import current_safety_plan
from support.selectors.config import needs_areas_active
from support.services import adult as services
from support.views.common import (
    CASE_ROLES,
    SESSION_INTRO,
    case_form_page,
    get_case_for_work,
    user_of,
)


def _case(request: HttpRequest, case_id: uuid.UUID) -> AdultSupportCase:
    case = get_case_for_work(request, "adult", case_id)
    assert isinstance(case, AdultSupportCase)
    return case


@role_required(*CASE_ROLES)
@require_http_methods(["GET", "POST"])
def adult_session(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user, case = user_of(request), _case(request, case_id)
    return case_form_page(
        request,
        case=case,
        form=SessionForm(request.POST or None),
        title="Record a session",
        action=lambda d: services.adult_session_record(
            case=case,
            occurred_on=d["occurred_on"],
            mode=d["mode"],
            duration_minutes=d["duration_minutes"],
            note=d["note"],
            recorded_by=user,
            unsafe_channel_reason=d["unsafe_channel_reason"],
        ),
        success="Session recorded",
        intro=SESSION_INTRO,
    )


def _risk(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


@role_required(*CASE_ROLES)
@require_http_methods(["GET", "POST"])
def adult_outcomes(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user, case = user_of(request), _case(request, case_id)
    return case_form_page(
        request,
        case=case,
        form=OutcomeForm(request.POST or None),
        title="Record outcome measures",
        action=lambda d: services.outcome_measure_record(
            case=case,
            time_point=d["time_point"],
            recorded_on=d["recorded_on"],
            scores=services.OutcomeScores(
                feeling_safe=d["feeling_safe"],
                quality_of_life=d["quality_of_life"],
                confidence=d["confidence"],
                abuse_types=d["abuse_types"],
                abuse_status=d["abuse_status"],
                dash_score=d["dash_score"],
                risk_reduced=_risk(d["risk_reduced"]),
            ),
            recorded_by=user,
        ),
        success="Outcome measures recorded",
    )


@role_required(*CASE_ROLES)
@require_http_methods(["GET", "POST"])
def adult_needs(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user, case = user_of(request), _case(request, case_id)
    form = NeedsAssessmentForm(request.POST or None, areas=needs_areas_active())
    return case_form_page(
        request,
        case=case,
        form=form,
        title="Assess needs",
        intro="Give a level for each area you assessed; leave the others as not assessed.",
        action=lambda d: services.needs_assessment_record(
            case=case,
            assessed_on=d["assessed_on"],
            summary=d["summary"],
            lines=[services.NeedLine(area=a, level=level) for a, level in form.lines()],
            assessed_by=user,
        ),
        success="Needs assessment recorded",
    )


@role_required(*CASE_ROLES)
@require_http_methods(["GET", "POST"])
def adult_safety_plan(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """Agree a safety plan, starting from the current one. Replacing the plan edits the case: a
    plan someone else saved meanwhile is shown, never silently replaced."""
    user, case = user_of(request), _case(request, case_id)

    def current() -> dict[str, Any]:
        plan = current_safety_plan(case=case)
        if plan is None:
            return {"plan": ""}
        return {"agreed_on": plan.agreed_on, "plan": plan.plan, "review_due_on": plan.review_due_on}

    plan_now = current()["plan"]
    return case_form_page(
        request,
        case=case,
        form=SafetyPlanForm(request.POST or None, initial={"plan": plan_now}),
        title="Agree a safety plan",
        intro=(
            "Change the current plan below, or write a new one. It replaces the current plan; "
            "the earlier plans are kept."
            if plan_now
            else "A new plan replaces the current one; the earlier plans are kept."
        ),
        action=lambda d: services.safety_plan_record(
            case=case,
            agreed_on=d["agreed_on"],
            plan=d["plan"],
            review_due_on=d["review_due_on"],
            created_by=user,
            expected_version=d["version"],
        ),
        success="Safety plan saved",
        edits=case,
        stored=current,
    )


@role_required(*CASE_ROLES)
@require_http_methods(["GET", "POST"])
def adult_goal(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user, case = user_of(request), _case(request, case_id)

    @transaction.atomic
    def add(d: dict[str, Any]) -> None:
        goal = services.support_goal_add(
            case=case, description=d["description"], need_area=d["need_area"], created_by=user
        )
        if d["first_action"]:
            services.support_action_add(
                goal=goal,
                description=d["first_action"],
                due_on=d["action_due_on"],
                created_by=user,
            )

    return case_form_page(
        request,
        case=case,
        form=SupportGoalForm(request.POST or None),
        title="Add a support plan goal",
        action=add,
        success="Goal added",
    )


@role_required(*CASE_ROLES)
@require_http_methods(["GET", "POST"])
def adult_goal_status(request: HttpRequest, case_id: uuid.UUID, goal_id: uuid.UUID) -> HttpResponse:
    """Mark a support plan goal achieved, no longer a goal, or back to working on it."""
    user, case = user_of(request), _case(request, case_id)
    goal = get_object_or_404(SupportGoal, pk=goal_id, adult_case=case)
    return case_form_page(
        request,
        case=case,
        form=GoalStatusForm(request.POST or None, initial={"status": goal.status}),
        title=f"Goal: {goal.description}",
        submit="Save the goal's status",
        action=lambda d: services.support_goal_set_status(
            goal=goal, status=d["status"], changed_by=user, expected_version=d["version"]
        ),
        success="Goal updated",
        edits=goal,
        stored=lambda: {"status": SupportGoal.objects.get(pk=goal.pk).status},
    )
