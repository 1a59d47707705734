"""Pages for the records of a child's case: the referral review, the service functions,
sessions, GBO goals and scores, the exit plan, the child's feedback and safeguarding."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from safer.access.roles import role_required
from support.forms import (
    ConcernForm,
    CypSessionForm,
    ExitPlanForm,
    FeedbackForm,
    FunctionForm,
    GboGoalForm,
    GboScoreForm,
    ReferralReviewForm,
    SocialCareReferralForm,
)
from support.models import CypCase, ExitPlan, GboGoal, GboTimePoint, SafeguardingConcern
from support.services import cyp as services
from support.services.gbo import gbo_goal_add, gbo_score_record
from support.views.common import (
    CASE_ROLES,
    SESSION_INTRO,
    case_form_page,
    get_case_for_work,
    user_of,
)


def _case(request: HttpRequest, case_id: uuid.UUID) -> CypCase:
    case = get_case_for_work(request, "cyp", case_id)
    assert isinstance(case, CypCase)
    return case


@role_required(*CASE_ROLES)
@require_http_methods(["GET", "POST"])
def cyp_review(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user, case = user_of(request), _case(request, case_id)

    def stored() -> dict[str, Any]:
        now = CypCase.objects.get(pk=case.pk)
        return {
            "lives_in_safe_accommodation": "yes" if now.lives_in_safe_accommodation else "no",
            "accommodation_type": now.accommodation_type,
        }

    return case_form_page(
        request,
        case=case,
        form=ReferralReviewForm(request.POST or None, initial=stored()),
        title="Review the referral",
        intro="Support coordination: confirm the child is eligible before support starts.",
        action=lambda d: services.cyp_referral_review(
            case=case,
            lives_in_safe_accommodation=d["lives_in_safe_accommodation"],
            accommodation_type=d["accommodation_type"],
            reviewed_by=user,
            expected_version=d["version"],
        ),
        success="Referral review recorded",
        edits=case,
        stored=stored,
    )


@role_required(*CASE_ROLES)
@require_http_methods(["GET", "POST"])
def cyp_function(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user, case = user_of(request), _case(request, case_id)
    return case_form_page(
        request,
        case=case,
        form=FunctionForm(request.POST or None),
        title="Change the kind of support",
        intro=(
            "Participation and engagement keeps in touch until the child is ready; therapeutic "
            "work is one-to-one support with an exit plan."
        ),
        action=lambda d: services.cyp_case_function_set(
            case=case, status=d["status"], changed_by=user, expected_version=d["version"]
        ),
        success="Case updated",
        edits=case,
        stored=lambda: {"status": CypCase.objects.get(pk=case.pk).status},
    )


@role_required(*CASE_ROLES)
@require_http_methods(["GET", "POST"])
def cyp_session(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user, case = user_of(request), _case(request, case_id)
    return case_form_page(
        request,
        case=case,
        form=CypSessionForm(request.POST or None),
        title="Record a session",
        action=lambda d: services.cyp_session_record(
            case=case,
            function=d["function"],
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


@role_required(*CASE_ROLES)
@require_http_methods(["GET", "POST"])
def cyp_goal(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user, case = user_of(request), _case(request, case_id)

    @transaction.atomic
    def add(d: dict[str, Any]) -> None:
        goal = gbo_goal_add(
            case=case,
            description=d["description"],
            owner=d["owner"],
            agreed_on=d["agreed_on"],
            created_by=user,
        )
        if d["start_score"] is not None:
            gbo_score_record(
                goal=goal,
                time_point=GboTimePoint.START,
                score=d["start_score"],
                rated_by=d["rated_by"],
                scored_on=d["agreed_on"],
                recorded_by=user,
            )

    return case_form_page(
        request,
        case=case,
        form=GboGoalForm(request.POST or None),
        title="Agree a goal",
        intro="Up to three goals, owned by the child (or their parent or carer).",
        action=add,
        success="Goal agreed",
    )


@role_required(*CASE_ROLES)
@require_http_methods(["GET", "POST"])
def cyp_goal_score(request: HttpRequest, case_id: uuid.UUID, goal_id: uuid.UUID) -> HttpResponse:
    user, case = user_of(request), _case(request, case_id)
    goal = GboGoal.objects.filter(cyp_case=case, pk=goal_id).first()
    if goal is None:
        raise Http404("No record found")
    return case_form_page(
        request,
        case=case,
        form=GboScoreForm(request.POST or None),
        title=f"Score goal {goal.number}",
        intro=goal.description,
        action=lambda d: gbo_score_record(
            goal=goal,
            time_point=d["time_point"],
            score=d["score"],
            rated_by=d["rated_by"],
            scored_on=d["scored_on"],
            recorded_by=user,
        ),
        success="Score recorded",
    )


@role_required(*CASE_ROLES)
@require_http_methods(["GET", "POST"])
def cyp_exit_plan(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user, case = user_of(request), _case(request, case_id)

    def stored() -> dict[str, Any]:
        current = ExitPlan.objects.filter(cyp_case=case).first()
        if current is None:
            return {}
        return {
            "planned_end_on": current.planned_end_on,
            "plan": current.plan,
            "agreed_with_child": current.agreed_with_child,
        }

    return case_form_page(
        request,
        case=case,
        form=ExitPlanForm(request.POST or None, initial=stored() or None),
        title="Exit plan",
        action=lambda d: services.exit_plan_record(
            case=case,
            planned_end_on=d["planned_end_on"],
            plan=d["plan"],
            agreed_with_child=d["agreed_with_child"],
            recorded_by=user,
            expected_version=d["version"],
        ),
        success="Exit plan saved",
        edits=case,
        stored=stored,
    )


@role_required(*CASE_ROLES)
@require_http_methods(["GET", "POST"])
def cyp_feedback(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user, case = user_of(request), _case(request, case_id)
    return case_form_page(
        request,
        case=case,
        form=FeedbackForm(request.POST or None),
        title="The child's feedback",
        intro="Write down what the child said, in their words where you can.",
        action=lambda d: services.voice_of_child_record(
            case=case,
            collected_on=d["collected_on"],
            time_point=d["time_point"],
            method=d["method"],
            what_helped=d["what_helped"],
            what_could_be_better=d["what_could_be_better"],
            in_their_words=d["in_their_words"],
            recorded_by=user,
        ),
        success="Feedback recorded",
    )


@role_required(*CASE_ROLES)
@require_http_methods(["GET", "POST"])
def cyp_concern(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user, case = user_of(request), _case(request, case_id)
    return case_form_page(
        request,
        case=case,
        form=ConcernForm(request.POST or None),
        title="Record a safeguarding concern",
        intro="If a child is in immediate danger, call 999 first.",
        action=lambda d: services.safeguarding_concern_record(
            case=case,
            raised_on=d["raised_on"],
            category=d["category"],
            details=d["details"],
            immediate_action=d["immediate_action"],
            raised_by=user,
        ),
        success="Safeguarding concern recorded",
    )


@role_required(*CASE_ROLES)
@require_http_methods(["GET", "POST"])
def cyp_concern_referral(
    request: HttpRequest, case_id: uuid.UUID, concern_id: uuid.UUID
) -> HttpResponse:
    user, case = user_of(request), _case(request, case_id)
    concern = SafeguardingConcern.objects.filter(cyp_case=case, pk=concern_id).first()
    if concern is None:
        raise Http404("No record found")
    return case_form_page(
        request,
        case=case,
        form=SocialCareReferralForm(request.POST or None),
        title="Referral to children's social care",
        action=lambda d: services.safeguarding_referral_record(
            concern=concern,
            referred_on=d["referred_on"],
            reference=d["reference"],
            outcome=d["outcome"],
            recorded_by=user,
        ),
        success="Referral recorded",
    )
