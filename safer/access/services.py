"""The only writers of access: case-file grants and revocations, break-glass, and the object
permissions other apps hold on their own records (``object_access_grant``/``_revoke``).

Each change is one transaction that also writes its audit trail: a ``CaseEvent`` on the case file
(who gave whom which access), and for break-glass an access-log row with the reason. For another
app's record the caller writes the event on that record's timeline, in the same transaction.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone

from safer.access.grants import Holder, object_permission_grant, object_permission_revoke
from safer.access.roles import user_has_role
from safer.access.scoping import organisation_authority_ids
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.audit.models import AccessAction
from safer.audit.services import access_log_record
from safer.casefile.models import (
    CASEFILE_PERMISSIONS,
    VIEW_CASEFILE_ADDRESS,
    WORK_ON_CASEFILE,
    BreakGlassGrant,
    CaseFile,
)
from safer.casefile.services import case_event_record
from safer.organisations.models import Organisation, Team

# Long enough to deal with an emergency, short enough that it is never a standing grant.
BREAK_GLASS_DURATION = timedelta(hours=1)
BREAK_GLASS_REASON_MIN_LENGTH = 20

_PERMISSION_LABELS = {
    WORK_ON_CASEFILE: "Access to work on the case",
    VIEW_CASEFILE_ADDRESS: "Access to the address",
}


class AccessGrantError(ValueError):
    """A grant that must not be made (wrong permission, holder outside the case's authority)."""


class BreakGlassRefused(Exception):
    """Break-glass was not allowed; ``message`` is safe to show to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@transaction.atomic
def casefile_access_grant(
    *,
    case_file: CaseFile,
    permission: str,
    granted_by: User | None,
    user: User | None = None,
    team: Team | None = None,
    organisation: Organisation | None = None,
) -> bool:
    """Give one user, team or organisation a permission on a case file.

    Returns False (and records nothing) when the holder already had it. The holder's organisation
    must serve the case's authority: staff never see another authority's cases, so such a grant is
    a bug upstream, not something to store.
    """
    codename = _codename(permission)
    holder = _one_holder(user=user, team=team, organisation=organisation)
    locked = _lock(case_file)
    _check_holder_serves_authority(holder, locked)
    if not object_permission_grant(holder=holder, codename=codename, obj=locked):
        return False
    case_event_record(
        case_file=locked,
        kind="access_granted",
        summary=f"{_PERMISSION_LABELS[codename]} given to {_holder_label(holder)}",
        actor=granted_by,
        data=_event_data(holder, codename),
    )
    return True


@transaction.atomic
def casefile_access_revoke(
    *,
    case_file: CaseFile,
    permission: str,
    revoked_by: User | None,
    user: User | None = None,
    team: Team | None = None,
    organisation: Organisation | None = None,
) -> bool:
    """Withdraw a permission (for example a contractor's address access when its job closes).

    Returns False (and records nothing) when the holder did not have it.
    """
    codename = _codename(permission)
    holder = _one_holder(user=user, team=team, organisation=organisation)
    locked = _lock(case_file)
    if not object_permission_revoke(holder=holder, codename=codename, obj=locked):
        return False
    case_event_record(
        case_file=locked,
        kind="access_revoked",
        summary=f"{_PERMISSION_LABELS[codename]} withdrawn from {_holder_label(holder)}",
        actor=revoked_by,
        data=_event_data(holder, codename),
    )
    return True


@transaction.atomic
def object_access_grant(*, obj: models.Model, codename: str, user: User) -> bool:
    """Give ``user`` one of ``obj``'s own object permissions (for example a support case's
    ``read_support_notes``). False when they already held it.

    For records other than the case file, whose app decides who may hold the permission and
    records the event on its own timeline in the same transaction (so call this inside the app's
    service, after it has locked ``obj``). Every guardian grant is made here or in
    ``casefile_access_grant``, never by hand.
    """
    _check_own_permission(obj, codename)
    _check_holder_serves_record(user, obj)
    return object_permission_grant(holder=user, codename=codename, obj=obj)


@transaction.atomic
def object_access_revoke(*, obj: models.Model, codename: str, user: User) -> bool:
    """Withdraw what ``object_access_grant`` gave. False when ``user`` did not hold it."""
    _check_own_permission(obj, codename)
    return object_permission_revoke(holder=user, codename=codename, obj=obj)


@transaction.atomic
def casefile_break_glass_open(
    *, user: User, case_file: CaseFile, reason: str, request: HttpRequest | None = None
) -> BreakGlassGrant | None:
    """Open a case file outside the manager's scope for ``BREAK_GLASS_DURATION``, with a reason.

    Returns None when the case is already in their scope (nothing to break, nothing logged).
    The reason goes to the access log (for the auditor), not to the case timeline, which support
    workers read and which must carry no free text about the person.
    """
    reason = " ".join(reason.split())
    if not user_has_role(user, Role.SPA_MANAGER):
        raise BreakGlassRefused("Only SPA managers can open a case with break-glass.")
    if len(reason) < BREAK_GLASS_REASON_MIN_LENGTH:
        raise BreakGlassRefused(
            f"Give a reason of at least {BREAK_GLASS_REASON_MIN_LENGTH} characters."
        )
    if CaseFile.objects.visible_to(user).filter(pk=case_file.pk).exists():
        return None
    # The outer limit: only authorities the manager's organisation works for. Crossing into an
    # authority the provider has no contract with is not an emergency access, it is a breach.
    if case_file.authority_id not in organisation_authority_ids(user):
        raise BreakGlassRefused(
            "This case belongs to an authority your organisation does not work for."
        )
    now = timezone.now()
    grant = BreakGlassGrant.objects.create(
        user=user,
        case_file=case_file,
        reason=reason[:500],
        opened_at=now,
        expires_at=now + BREAK_GLASS_DURATION,
    )
    access_log_record(
        user=user,
        action=AccessAction.BREAK_GLASS,
        record=case_file,
        request=request,
        reason=reason[:500],
    )
    case_event_record(
        case_file=case_file,
        kind="break_glass_opened",
        summary=f"Opened with break-glass by {user.full_name} until {_local_hm(grant)}",
        actor=user,
        data={"break_glass_grant_id": str(grant.id), "expires_at": grant.expires_at.isoformat()},
    )
    return grant


def _codename(permission: str) -> str:
    codename = permission.removeprefix("casefile.")
    if codename not in CASEFILE_PERMISSIONS:
        raise AccessGrantError(f"Unknown case-file permission: {permission!r}")
    return codename


def _check_own_permission(obj: models.Model, codename: str) -> None:
    # Only the permissions the model declares for per-record grants, not the admin's
    # add/change/delete, and not the case file's (those go through casefile_access_grant).
    declared = {name for name, _ in obj._meta.permissions}
    if isinstance(obj, CaseFile) or codename not in declared:
        raise AccessGrantError(f"{codename!r} is not a per-record permission of this record.")


def _check_holder_serves_record(user: User, obj: models.Model) -> None:
    # Deny by default: a record whose single authority cannot be found is granted to no one.
    from safer.audit.scoping import record_authority_id

    authority_id = record_authority_id(obj)
    if authority_id is None:
        raise AccessGrantError("This record belongs to no single commissioning authority.")
    serves = (
        user.organisation_id is not None
        and Organisation.objects.filter(pk=user.organisation_id, authorities=authority_id).exists()
    )
    if not serves:
        raise AccessGrantError(
            "The holder's organisation does not serve this record's commissioning authority."
        )


def _one_holder(
    *, user: User | None, team: Team | None, organisation: Organisation | None
) -> Holder:
    holders = [h for h in (user, team, organisation) if h is not None]
    if len(holders) != 1:
        raise AccessGrantError("Give exactly one of user, team or organisation.")
    return holders[0]


def _lock(case_file: CaseFile) -> CaseFile:
    # Serialises grants on one case, so two at once cannot both pass the "already held?" check.
    return CaseFile.objects.select_for_update().get(pk=case_file.pk)


def _check_holder_serves_authority(holder: Holder, case_file: CaseFile) -> None:
    organisation_id = holder.pk if isinstance(holder, Organisation) else holder.organisation_id
    serves = (
        organisation_id is not None
        and Organisation.objects.filter(
            pk=organisation_id, authorities=case_file.authority_id
        ).exists()
    )
    if not serves:
        raise AccessGrantError(
            "The holder's organisation does not serve this case's commissioning authority."
        )


def _holder_label(holder: Holder) -> str:
    if isinstance(holder, User):
        return f"{holder.full_name} ({holder.organisation})"
    if isinstance(holder, Team):
        return f"the team {holder}"
    return f"the organisation {holder}"


def _event_data(holder: Holder, codename: str) -> dict[str, str]:
    kind = _holder_kind(holder)
    return {"permission": codename, "holder_type": kind, "holder_id": str(holder.pk)}


def _local_hm(grant: BreakGlassGrant) -> str:
    return f"{timezone.localtime(grant.expires_at):%H:%M}"


def _holder_kind(holder: Holder) -> str:
    if isinstance(holder, User):
        return "user"
    return "team" if isinstance(holder, Team) else "organisation"
