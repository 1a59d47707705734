"""Reads of the shared case file. Every one starts from ``visible_to(user)``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.http import HttpRequest

from safer.access.grants import granted_q, holders_for_person
from safer.access.roles import SPA_ROLES, user_roles
from safer.access.scoping import authority_scope_q, user_authority_ids
from safer.access.seams import record_get_for_user
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.casefile.models import (
    VIEW_CASEFILE_ADDRESS,
    BreakGlassGrant,
    CaseEvent,
    CaseFile,
    CaseFileQuerySet,
    CaseStatus,
    ContactService,
    HouseholdRole,
    Perpetrator,
    Person,
    SafeContactOverride,
    SafeContactRules,
)

TIMELINE_LIMIT = 20


@dataclass(frozen=True)
class CaseFileAccess:
    """What this user may see *within* a case file they can already open."""

    spa_scope: bool
    break_glass: BreakGlassGrant | None
    address_granted: bool

    @property
    def can_see_perpetrator(self) -> bool:
        return self.spa_scope or self.break_glass is not None

    @property
    def can_see_address(self) -> bool:
        return self.spa_scope or self.break_glass is not None or self.address_granted


@dataclass(frozen=True)
class CaseFileDetail:
    case_file: CaseFile
    access: CaseFileAccess
    safe_contact: SafeContactRules | None
    people: list[Person]
    perpetrators: list[Perpetrator]
    timeline: list[CaseEvent]


def casefile_list_for_user(
    *, user: User | AnonymousUser, status: str = "", reference: str = ""
) -> CaseFileQuerySet:
    """The case files a user may list, newest first, with what a list row shows joined in."""
    queryset = CaseFile.objects.visible_to(user).select_related(
        "authority", "household__district", "survivor"
    )
    if status in CaseStatus.values:
        queryset = queryset.filter(status=status)
    if reference.strip():
        queryset = queryset.filter(reference__icontains=reference.strip())
    return queryset.order_by("-opened_at", "reference")


def casefile_get_for_user(
    *, user: User | AnonymousUser, case_file_id: uuid.UUID | str, request: HttpRequest | None = None
) -> CaseFile:
    """The seam: one case file the user may see, or 404 (missing and not-yours alike).

    Writes exactly one access-log VIEW row per successful fetch, noting break-glass when that is
    the only reason the user can see it.
    """
    return record_get_for_user(
        source=CaseFile.objects,
        user=user,
        pk=case_file_id,
        request=request,
        select_related=("authority", "household__district", "survivor", "safe_contact"),
        reason=lambda case_file: (
            "Under break-glass" if _active_break_glass(user, case_file) is not None else ""
        ),
    )


def casefile_access_for(*, user: User | AnonymousUser, case_file: CaseFile) -> CaseFileAccess:
    roles = user_roles(user)
    if not roles or isinstance(user, AnonymousUser):
        return CaseFileAccess(spa_scope=False, break_glass=None, address_granted=False)
    spa_scope = bool(roles & SPA_ROLES) and case_file.authority_id in user_authority_ids(user)
    break_glass = None if spa_scope else _active_break_glass(user, case_file, roles=roles)
    address_granted = False
    if not spa_scope and break_glass is None:
        holders = holders_for_person(user, include_team=True, include_organisation=True)
        address_granted = (
            CaseFile.objects.visible_to(user)
            .filter(granted_q(CaseFile, VIEW_CASEFILE_ADDRESS, holders), pk=case_file.pk)
            .exists()
        )
    return CaseFileAccess(
        spa_scope=spa_scope, break_glass=break_glass, address_granted=address_granted
    )


def casefile_detail_for_user(
    *, user: User | AnonymousUser, case_file_id: uuid.UUID | str, request: HttpRequest | None = None
) -> CaseFileDetail:
    """Everything the case page shows, cut to what this user may see. Logs one VIEW row."""
    case_file = casefile_get_for_user(user=user, case_file_id=case_file_id, request=request)
    access = casefile_access_for(user=user, case_file=case_file)
    role_order = Case(
        When(household_role=HouseholdRole.SURVIVOR, then=Value(0)),
        When(household_role=HouseholdRole.OTHER_ADULT, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    people = list(
        Person.objects.filter(household_id=case_file.household_id).order_by(
            role_order, "date_of_birth", "given_name"
        )
    )
    perpetrators = (
        list(Perpetrator.objects.filter(case_file=case_file)) if access.can_see_perpetrator else []
    )
    timeline = list(
        CaseEvent.objects.filter(case_file=case_file)
        .select_related("actor", "contact_override")
        .order_by("-occurred_at", "-id")[:TIMELINE_LIMIT]
    )
    try:
        safe_contact: SafeContactRules | None = case_file.safe_contact
    except SafeContactRules.DoesNotExist:
        safe_contact = None
    return CaseFileDetail(
        case_file=case_file,
        access=access,
        safe_contact=safe_contact,
        people=people,
        perpetrators=perpetrators,
        timeline=timeline,
    )


def casefile_find_for_break_glass(*, reference: str) -> CaseFile | None:
    """Look a case up by reference *without* scoping: only for the break-glass service, which
    checks the role, takes the reason and logs before anything of the case is shown."""
    return (
        CaseFile.objects.filter(reference__iexact=reference.strip())
        .select_related("authority")
        .first()
    )


def _active_break_glass(
    user: User | AnonymousUser, case_file: CaseFile, *, roles: frozenset[Role] | None = None
) -> BreakGlassGrant | None:
    if isinstance(user, AnonymousUser):
        return None
    if Role.SPA_MANAGER not in (roles if roles is not None else user_roles(user)):
        return None
    if case_file.authority_id in user_authority_ids(user):
        return None  # in their normal scope: break-glass is not why they can see it
    return (
        BreakGlassGrant.objects.active()
        .filter(user=user, case_file=case_file)
        .order_by("-expires_at")
        .first()
    )


def safe_contact_overrides_for_manager(
    *, user: User | AnonymousUser
) -> QuerySet[SafeContactOverride]:
    """Contacts made against the safe-contact rules that this manager is told about: an SPA
    manager, the SPA's in their authorities; a provider manager, those of their organisation's
    staff (support workers, or a contractor's) in their authorities. Newest first."""
    roles = user_roles(user)
    if not user.is_authenticated or not roles & {Role.SPA_MANAGER, Role.PROVIDER_MANAGER}:
        return SafeContactOverride.objects.none()
    assert isinstance(user, User)
    reasons = Q(pk__in=[])
    if Role.SPA_MANAGER in roles:
        reasons |= Q(service=ContactService.SPA)
    if Role.PROVIDER_MANAGER in roles and user.organisation_id is not None:
        reasons |= ~Q(service=ContactService.SPA) & Q(organisation_id=user.organisation_id)
    return (
        SafeContactOverride.objects.filter(authority_scope_q(user))
        .filter(reasons)
        .select_related("case_file", "actor")
        .order_by("-occurred_at")
    )
