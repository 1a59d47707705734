"""What a system administrator does to accounts: roles, deactivation, resetting two-factor.

Every change writes an append-only AccountEvent (subject, actor, when) in the same transaction.
``by=None`` means the system itself (a data migration, the demo seed, a management command).
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from safer.access.request_cache import access_cache_forget
from safer.access.roles import user_has_role
from safer.accounts.models import AccountEvent, AccountEventKind, User
from safer.accounts.roles import ROLE_GROUP_NAMES, Role
from safer.accounts.services.sessions import user_sessions_end_all
from safer.audit.models import AuthEventKind
from safer.audit.services import auth_event_record


def user_may_administer_accounts(user: User | None) -> bool:
    return (
        user is not None
        and user.is_active
        and (user.is_superuser or user_has_role(user, Role.SYSTEM_ADMIN))
    )


def _require_administrator(*, actor: User | None, subject: User) -> None:
    if actor is None:
        return
    if not user_may_administer_accounts(actor):
        raise PermissionDenied("Only a system administrator can change accounts.")
    if actor.pk == subject.pk:
        # Nobody widens or narrows their own access: a second administrator has to.
        raise PermissionDenied("You cannot change your own account's access.")


def _account_event(
    *, kind: AccountEventKind, user: User, by: User | None, role: str = "", detail: str = ""
) -> AccountEvent:
    return AccountEvent.objects.create(
        kind=kind,
        user=user,
        actor=by,
        actor_label=f"{by.full_name} <{by.email}>" if by is not None else "system",
        role=role,
        detail=detail[:300],
    )


@transaction.atomic
def user_role_grant(*, user: User, role: Role | str, granted_by: User | None) -> bool:
    """Give ``user`` a role. Returns False if they already held it (nothing is written)."""
    role = Role(role)
    _require_administrator(actor=granted_by, subject=user)
    # The migration creates the groups; get_or_create also survives a flushed test database.
    group, _ = Group.objects.get_or_create(name=ROLE_GROUP_NAMES[role])
    if user.groups.filter(pk=group.pk).exists():
        return False
    user.groups.add(group)
    access_cache_forget()
    if role == Role.SYSTEM_ADMIN and not user.is_staff:
        # The admin site is the system administrators' tool: is_staff follows the role.
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    _account_event(kind=AccountEventKind.ROLE_GRANTED, user=user, by=granted_by, role=role)
    return True


@transaction.atomic
def user_role_revoke(*, user: User, role: Role | str, revoked_by: User | None) -> bool:
    """Take a role away. Returns False if they did not hold it."""
    role = Role(role)
    _require_administrator(actor=revoked_by, subject=user)
    group = Group.objects.filter(name=ROLE_GROUP_NAMES[role]).first()
    if group is None or not user.groups.filter(pk=group.pk).exists():
        return False
    user.groups.remove(group)
    access_cache_forget()
    if role == Role.SYSTEM_ADMIN and user.is_staff and not user.is_superuser:
        user.is_staff = False
        user.save(update_fields=["is_staff"])
    _account_event(kind=AccountEventKind.ROLE_REVOKED, user=user, by=revoked_by, role=role)
    return True


@transaction.atomic
def user_deactivate(
    *, user: User, deactivated_by: User | None, request: HttpRequest | None = None
) -> int:
    """Stop an account signing in and end all its sessions now. Returns sessions ended."""
    _require_administrator(actor=deactivated_by, subject=user)
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    count = user_sessions_end_all(user=user)
    _account_event(
        kind=AccountEventKind.DEACTIVATED, user=user, by=deactivated_by, detail=f"{count} ended"
    )
    auth_event_record(
        kind=AuthEventKind.SESSIONS_ENDED,
        user=user,
        request=request,
        detail=f"account deactivated; {count} session(s) ended",
    )
    return count


@transaction.atomic
def user_reactivate(*, user: User, reactivated_by: User | None) -> bool:
    _require_administrator(actor=reactivated_by, subject=user)
    if user.is_active:
        return False
    user.is_active = True
    user.save(update_fields=["is_active"])
    _account_event(kind=AccountEventKind.REACTIVATED, user=user, by=reactivated_by)
    return True


@transaction.atomic
def user_two_factor_reset(
    *, user: User, reset_by: User | None, request: HttpRequest | None = None
) -> int:
    """For a lost phone: remove the authenticator and backup codes and end all sessions. The
    person sets up a new authenticator the next time they sign in with their password."""
    _require_administrator(actor=reset_by, subject=user)
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    count = user_sessions_end_all(user=user)
    _account_event(
        kind=AccountEventKind.TWO_FACTOR_RESET, user=user, by=reset_by, detail=f"{count} ended"
    )
    auth_event_record(
        kind=AuthEventKind.SESSIONS_ENDED,
        user=user,
        request=request,
        detail=f"two-factor reset by an administrator; {count} session(s) ended",
    )
    return count
