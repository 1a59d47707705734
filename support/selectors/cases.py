"""Opening one support case: the seams, what the user may do with it, and what its page shows."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.contrib.auth.models import AnonymousUser
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from safer import workdays
from safer.access.roles import user_roles
from safer.access.scoping import authority_scope_q
from safer.access.seams import record_get_for_user
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.casefile.models import CaseEvent, SafeContactRules
from safer.organisations.models import ServiceElement
from safer.organisations.selectors import contract_live_for, no_live_contract_warning
from support.access import support_case_scope_q
from support.models import (
    AdultSupportCase,
    ContactAttempt,
    CypCase,
    CypSession,
    ExitPlan,
    GroupMember,
    Handover,
    NeedsAssessment,
    OutcomeMeasure,
    SafeguardingConcern,
    SafetyPlan,
    SafetyPlanStatus,
    SessionLog,
    SupportAction,
    SupportCaseQuerySet,
    SupportGoal,
    VoiceOfChild,
)
from support.selectors.config import support_policy_for
from support.selectors.gbo import ChildOutcome, gbo_outcome_for_case

C = TypeVar("C", AdultSupportCase, CypCase)
TIMELINE_LIMIT = 30


class _Workable(Generic[C]):
    """A ``visible_to`` source that yields only the cases the user may change."""

    def __init__(self, model: type[C]) -> None:
        self.model: type[C] = model

    def visible_to(self, user: User | AnonymousUser) -> SupportCaseQuerySet:
        return self.model.objects.workable_by(user)


_RELATED = ("case_file", "provider", "team", "allocated_worker", "authority", "closure_reason")


def adult_support_case_get_for_user(
    *, user: User | AnonymousUser, case_id: uuid.UUID | str, request: HttpRequest | None = None
) -> AdultSupportCase:
    """The seam: one adult case the user may see (shared ones too), or 404. Logs one VIEW."""
    return record_get_for_user(
        source=AdultSupportCase.objects,
        user=user,
        pk=case_id,
        request=request,
        select_related=(*_RELATED, "survivor"),
    )


def adult_support_case_get_for_work(
    *, user: User | AnonymousUser, case_id: uuid.UUID | str, request: HttpRequest | None = None
) -> AdultSupportCase:
    """One adult case the user may change, or 404 (a read-only share is not enough)."""
    return record_get_for_user(
        source=_Workable(AdultSupportCase),
        user=user,
        pk=case_id,
        request=request,
        select_related=(*_RELATED, "survivor"),
    )


def cyp_case_get_for_user(
    *, user: User | AnonymousUser, case_id: uuid.UUID | str, request: HttpRequest | None = None
) -> CypCase:
    return record_get_for_user(
        source=CypCase.objects,
        user=user,
        pk=case_id,
        request=request,
        select_related=(*_RELATED, "child", "referring_organisation"),
    )


def cyp_case_get_for_work(
    *, user: User | AnonymousUser, case_id: uuid.UUID | str, request: HttpRequest | None = None
) -> CypCase:
    return record_get_for_user(
        source=_Workable(CypCase),
        user=user,
        pk=case_id,
        request=request,
        select_related=(*_RELATED, "child", "referring_organisation"),
    )


class _SeenOrClosedBy(Generic[C]):
    """The cases the user may see, and the closed cases the user closed: a worker loses a case
    when it closes, but lands on (and may come back to) its closure summary."""

    def __init__(self, model: type[C]) -> None:
        self.model: type[C] = model

    def visible_to(self, user: User | AnonymousUser) -> QuerySet[C]:
        if not isinstance(user, User):
            return self.model.objects.none()
        # The scope as a condition on the row, not "pk IN (every case the user sees)": inside an
        # OR that sub-select is hashed whole, and the access check is made per row (issue 17).
        seen = support_case_scope_q(self.model, user, include_shared=True)
        closed_by_user = Q(status="closed", closed_by_id=user.pk) & authority_scope_q(user)
        return self.model.objects.filter(seen | closed_by_user)


@dataclass(frozen=True)
class ClosureSummary:
    case: AdultSupportCase | CypCase
    person_name: str
    can_open_case: bool  # the whole case (a provider manager); else the summary only


def support_case_closure_for_user(
    *,
    user: User | AnonymousUser,
    model: type[AdultSupportCase] | type[CypCase],
    case_id: uuid.UUID | str,
    request: HttpRequest | None = None,
) -> ClosureSummary:
    """One case's closure details: for those who may see the case, and for whoever closed it.
    404 otherwise. Logs one VIEW (the seam)."""
    person = "child" if model is CypCase else "survivor"
    case: AdultSupportCase | CypCase = record_get_for_user(
        source=_SeenOrClosedBy(model),  # type: ignore[type-var]
        user=user,
        pk=case_id,
        request=request,
        reason="closure summary",
        select_related=(*_RELATED, person, "closed_by"),
    )
    who = case.child if isinstance(case, CypCase) else case.survivor
    can_open_case = model.objects.visible_to(user).filter(pk=case.pk).exists()
    # Whoever closed the case keeps only its reference and closure details: their access to the
    # person ended with the case, so the name is shown only to those who still see the case.
    return ClosureSummary(
        case=case,
        person_name=f"{who.given_name} {who.family_name}".strip() if can_open_case else "",
        can_open_case=can_open_case,
    )


@dataclass(frozen=True)
class CaseAccess:
    can_work: bool  # record contact, sessions, plans, scores
    can_manage: bool  # allocate, transfer, share (the provider's managers, and the worker)
    shared_read_only: bool  # sees it only because another service shared it


def support_case_access_for(
    *, user: User | AnonymousUser, case: AdultSupportCase | CypCase
) -> CaseAccess:
    can_work = type(case).objects.workable_by(user).filter(pk=case.pk).exists()
    is_manager = (
        isinstance(user, User)
        and Role.PROVIDER_MANAGER in user_roles(user)
        and user.organisation_id == case.provider_id
    )
    return CaseAccess(
        can_work=can_work and case.is_open,
        can_manage=bool(is_manager) or (can_work and case.allocated_worker_id == user.pk),
        shared_read_only=not can_work,
    )


@dataclass(frozen=True)
class FirstContactClock:
    due_on: dt.date | None
    contacted_at: dt.datetime | None
    met: bool | None  # None while running
    rag: str | None  # while running: green / amber / red


def first_contact_clock(
    case: AdultSupportCase | CypCase, *, now: dt.datetime | None = None
) -> FirstContactClock:
    if case.first_contact_due_on is None:
        return FirstContactClock(None, case.first_contact_at, None, None)
    deadline = workdays.end_of_day(case.first_contact_due_on)
    if case.first_contact_at is not None:
        return FirstContactClock(
            case.first_contact_due_on,
            case.first_contact_at,
            case.first_contact_at <= deadline,
            None,
        )
    policy = support_policy_for(authority_id=case.authority_id)
    days = (
        policy.cyp_contact_working_days
        if isinstance(case, CypCase)
        else policy.adult_contact_working_days
    )
    rag = workdays.rag(
        now=now or timezone.now(),
        deadline=deadline,
        target=workdays.Target(days, workdays.TargetUnit.WORKING_DAYS),
    )
    return FirstContactClock(case.first_contact_due_on, None, None, str(rag))


def _safe_contact(case: AdultSupportCase | CypCase) -> SafeContactRules | None:
    return SafeContactRules.objects.filter(case_file_id=case.case_file_id).first()


def _timeline(case: AdultSupportCase | CypCase) -> list[CaseEvent]:
    return list(
        CaseEvent.objects.filter(case_file_id=case.case_file_id, data__support_case_id=str(case.pk))
        .select_related("actor", "contact_override")
        .order_by("-occurred_at", "-id")[:TIMELINE_LIMIT]
    )


def current_safety_plan(*, case: AdultSupportCase) -> SafetyPlan | None:
    """The case's current safety plan (the one an edit starts from), as stored now."""
    return SafetyPlan.objects.filter(adult_case=case, status=SafetyPlanStatus.ACTIVE).first()


@dataclass(frozen=True)
class AdultCaseDetail:
    case: AdultSupportCase
    access: CaseAccess
    safe_contact: SafeContactRules | None
    clock: FirstContactClock
    contact_attempts: list[ContactAttempt]
    sessions: list[SessionLog]
    needs_assessments: list[NeedsAssessment]
    safety_plan: SafetyPlan | None
    earlier_safety_plans: list[SafetyPlan]
    goals: list[SupportGoal]
    outcomes: list[OutcomeMeasure]
    handovers: list[Handover]
    timeline: list[CaseEvent]


def adult_case_detail_for_user(
    *, user: User | AnonymousUser, case_id: uuid.UUID | str, request: HttpRequest | None = None
) -> AdultCaseDetail:
    """Everything the adult case page shows. Logs one VIEW row (the seam)."""
    case = adult_support_case_get_for_user(user=user, case_id=case_id, request=request)
    plans = list(SafetyPlan.objects.filter(adult_case=case).order_by("-agreed_on"))
    current = next((p for p in plans if p.status == SafetyPlanStatus.ACTIVE), None)
    return AdultCaseDetail(
        case=case,
        access=support_case_access_for(user=user, case=case),
        safe_contact=_safe_contact(case),
        clock=first_contact_clock(case),
        contact_attempts=list(case.contact_attempts.select_related("recorded_by")),
        sessions=list(case.sessions.select_related("recorded_by")),
        needs_assessments=list(
            case.needs_assessments.select_related("assessed_by").prefetch_related("items__area")
        ),
        safety_plan=current,
        earlier_safety_plans=[p for p in plans if p is not current],
        goals=list(
            case.support_goals.select_related("need_area").prefetch_related(
                Prefetch("actions", queryset=SupportAction.objects.order_by("done_on", "due_on"))
            )
        ),
        outcomes=list(case.outcomes.all()),
        handovers=list(case.handovers.select_related("from_worker", "to_worker")),
        timeline=_timeline(case),
    )


@dataclass(frozen=True)
class CypCaseDetail:
    case: CypCase
    access: CaseAccess
    safe_contact: SafeContactRules | None
    clock: FirstContactClock
    gbo: ChildOutcome
    contact_attempts: list[ContactAttempt]
    sessions: list[CypSession]
    exit_plan: ExitPlan | None
    feedback: list[VoiceOfChild]
    concerns: list[SafeguardingConcern]
    groups: list[GroupMember]
    handovers: list[Handover]
    possible_duplicates: list[CypCase]
    timeline: list[CaseEvent]

    @property
    def open_concerns(self) -> list[SafeguardingConcern]:
        return [c for c in self.concerns if c.status == "open"]


def cyp_case_detail_for_user(
    *, user: User | AnonymousUser, case_id: uuid.UUID | str, request: HttpRequest | None = None
) -> CypCaseDetail:
    case = cyp_case_get_for_user(user=user, case_id=case_id, request=request)
    duplicates: QuerySet[CypCase] = case.possible_duplicates.filter(
        support_case_scope_q(CypCase, user, include_shared=True)
    ).select_related("child")
    return CypCaseDetail(
        case=case,
        access=support_case_access_for(user=user, case=case),
        safe_contact=_safe_contact(case),
        clock=first_contact_clock(case),
        gbo=gbo_outcome_for_case(case=case),
        contact_attempts=list(case.contact_attempts.select_related("recorded_by")),
        sessions=list(case.sessions.select_related("recorded_by")),
        exit_plan=ExitPlan.objects.filter(cyp_case=case).first(),
        feedback=list(case.feedback.all()),
        concerns=list(case.safeguarding_concerns.select_related("raised_by")),
        groups=list(case.group_places.select_related("group")),
        handovers=list(case.handovers.select_related("from_worker", "to_worker")),
        possible_duplicates=list(duplicates),
        timeline=_timeline(case),
    )


def case_kind(case: Any) -> str:
    return "cyp" if isinstance(case, CypCase) else "adult"


def support_case_contract_warning(case: AdultSupportCase | CypCase, *, on: dt.date) -> str:
    """Words for the person allocating when the provider has no adult or CYP contract with the
    case's authority live on ``on`` (extensions included); "" when there is one."""
    element = ServiceElement.CYP if isinstance(case, CypCase) else ServiceElement.ADULT_SUPPORT
    if contract_live_for(
        provider=case.provider, authority=case.authority, service_element=element, on=on
    ):
        return ""
    return no_live_contract_warning(provider=case.provider, authority=case.authority, on=on)
