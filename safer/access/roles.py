"""Which roles a user holds, and the view decorator that denies everything else."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from safer.access.request_cache import access_cached
from safer.accounts.models import User
from safer.accounts.roles import ROLE_GROUP_NAMES, Role

SPA_ROLES = frozenset({Role.SPA_TRIAGE, Role.SPA_MANAGER})
# Roles that work on individual cases through object permissions rather than a whole authority.
CASEWORK_ROLES = frozenset({Role.ADULT_SUPPORT_WORKER, Role.CYP_WORKER})

_ROLE_BY_GROUP_NAME = {name: Role(value) for value, name in ROLE_GROUP_NAMES.items()}

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponse])


def user_roles(user: User | AnonymousUser | None) -> frozenset[Role]:
    """The roles of an active, signed-in user; nothing for anyone else.

    Not cached on the user object, which may outlive a request: a role removed mid-session must
    take effect on the user's next request. Within one request it is read once
    (``access_cached``).
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    return access_cached(("roles", user.pk), lambda: _roles_from_groups(user))


def _roles_from_groups(user: User) -> frozenset[Role]:
    names = user.groups.filter(name__in=_ROLE_BY_GROUP_NAME).values_list("name", flat=True)
    return frozenset(_ROLE_BY_GROUP_NAME[name] for name in names)


def user_has_role(user: User | AnonymousUser | None, *roles: Role) -> bool:
    return bool(user_roles(user) & set(roles))


def role_required(*roles: Role) -> Callable[[ViewFunc], ViewFunc]:
    """Let a view run only for a signed-in user with a verified second factor and one of ``roles``.

    Anonymous, or signed in without the second factor: sent to sign in. Signed in without one of
    the roles: 403, whichever record the URL names, so the answer reveals nothing about it.
    """
    if not roles:
        raise ValueError("role_required needs at least one role: nothing is allowed by default")
    allowed: Iterable[Role] = frozenset(roles)

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated or not _is_verified(user):
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            if not user_roles(user) & set(allowed):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def _is_verified(user: Any) -> bool:
    # django_otp's middleware adds is_verified(); without it nothing counts as verified.
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())
