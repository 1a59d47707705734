"""Object permissions (django-guardian) held by a user, a team or a whole organisation.

Teams and organisations hold permissions through a guardian *group* linked to them by name
(``access:team:<uuid>``, ``access:organisation:<uuid>``). Nobody is ever a member of these groups:
who counts as "in the team" is read from ``User.team`` / ``User.organisation`` at query time, so
moving a worker to another team changes what they see at once, with no membership to keep in step.
This is also why code must ask ``safer.access`` (``granted_q``, ``user_holds``) and never
``user.has_perm(perm, obj)``: guardian's backend sees only direct user grants here.

The grant/revoke helpers are the only writers of these rows; they are called only by the services
in ``safer.access.services`` (other apps call those services, never these helpers), which add the
audit trail or run inside the calling service's transaction that does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, cast

from django.contrib.auth.models import Group, Permission
from django.contrib.postgres.expressions import ArraySubquery
from django.db import models
from django.db.models import BooleanField, F, Func, OuterRef, Q
from guardian.shortcuts import assign_perm, remove_perm
from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model

from safer.access.probes import PerRowExists
from safer.accounts.models import User
from safer.organisations.models import Organisation, Team

TEAM_GROUP_PREFIX = "access:team:"
ORGANISATION_GROUP_PREFIX = "access:organisation:"

Holder = User | Team | Organisation


def team_group_name(team_id: uuid.UUID | str) -> str:
    return f"{TEAM_GROUP_PREFIX}{team_id}"


def organisation_group_name(organisation_id: uuid.UUID | str) -> str:
    return f"{ORGANISATION_GROUP_PREFIX}{organisation_id}"


def holder_group(holder: Team | Organisation) -> Group:
    group, _ = Group.objects.get_or_create(name=_group_name(holder))
    return group


@dataclass(frozen=True)
class GrantHolders:
    """Whose grants count for someone: users matching ``user_filter`` (on the permission row's
    ``user``) and the groups named in ``group_names``. Empty means nobody."""

    user_filter: Q | None
    group_names: tuple[str, ...]
    # The same users as a filter on ``User`` (for ``granted_q(per_row=True)``).
    people: Q | None = None

    @property
    def is_empty(self) -> bool:
        return self.user_filter is None and not self.group_names


NOBODY = GrantHolders(user_filter=None, group_names=())


def holders_for_person(
    user: User, *, include_team: bool = True, include_organisation: bool = False
) -> GrantHolders:
    """The user themselves, optionally their team and their organisation."""
    names: list[str] = []
    if include_team and user.team_id is not None:
        names.append(team_group_name(user.team_id))
    if include_organisation and user.organisation_id is not None:
        names.append(organisation_group_name(user.organisation_id))
    return GrantHolders(
        user_filter=Q(user_id=user.pk), group_names=tuple(names), people=Q(pk=user.pk)
    )


def holders_for_organisation(organisation_id: uuid.UUID | None) -> GrantHolders:
    """Everything the organisation holds: itself, each of its teams and each of its staff."""
    if organisation_id is None:
        return NOBODY
    team_ids = Team.objects.filter(organisation_id=organisation_id).values_list("id", flat=True)
    names = [organisation_group_name(organisation_id), *(team_group_name(t) for t in team_ids)]
    return GrantHolders(
        user_filter=Q(user__organisation_id=organisation_id),
        group_names=tuple(names),
        people=Q(organisation_id=organisation_id),
    )


def granted_q(
    model: type[models.Model], codename: str, holders: GrantHolders, *, per_row: bool = False
) -> Q:
    """A filter on ``model`` keeping the objects on which ``holders`` hold ``codename``.

    ``model`` must have guardian direct-foreign-key permission models (joins on indexed FKs
    instead of casting the generic ``object_pk`` text column).

    ``per_row``: for a filter checked object by object (``safer.access.probes``): each kind of
    grant is an ``EXISTS`` correlated on the object's primary key (``PerRowExists``: never
    turned into a hash of all the holders' grants), and the holders and the permission are
    arrays computed once per statement (``_in_array``), so each probe reads the object's few
    grants through their object index (joining the permissions first would read every grant of
    that permission, for each object). The same objects.
    """
    if holders.is_empty:
        return Q(pk__in=[])
    user_model, group_model = _permission_models(model)
    q = Q(pk__in=[])
    if per_row:
        permission = _in_array("permission_id", Permission.objects.filter(codename=codename))
        if holders.user_filter is not None:
            users = (
                holders.user_filter
                if holders.people is None
                else _in_array("user_id", User.objects.filter(holders.people))
            )
            granted_to_users = user_model._default_manager.filter(
                users, permission, content_object_id=OuterRef("pk")
            )
            q |= Q(PerRowExists(granted_to_users))
        if holders.group_names:
            group = _in_array("group_id", Group.objects.filter(name__in=holders.group_names))
            granted_to_groups = group_model._default_manager.filter(
                group, permission, content_object_id=OuterRef("pk")
            )
            q |= Q(PerRowExists(granted_to_groups))
        return q
    if holders.user_filter is not None:
        granted_to_users = user_model._default_manager.filter(
            holders.user_filter, permission__codename=codename
        )
        q |= Q(pk__in=granted_to_users.values("content_object_id"))
    if holders.group_names:
        granted_to_groups = group_model._default_manager.filter(
            group__name__in=holders.group_names, permission__codename=codename
        )
        q |= Q(pk__in=granted_to_groups.values("content_object_id"))
    return q


class _InArray(Func):
    """``ARRAY[field] <@ ARRAY(sub-query)``: the row's ``field`` is one of the sub-query's.

    Written as array containment rather than ``field = ANY(…)`` so that it is never an index
    condition: each probe then reads the object's own grants (one or two) through the object
    index, where an index on the holder or the permission would read all of theirs. The
    sub-query is uncorrelated, so PostgreSQL runs it once per statement (an init plan).
    """

    template = "ARRAY[%(expressions)s"
    arg_joiner = "] <@ "
    output_field = BooleanField()


def _in_array(field: str, rows: models.QuerySet[Any]) -> _InArray:
    return _InArray(F(field), ArraySubquery(rows.order_by().values("id")))


def holds_directly(holder: Holder, codename: str, obj: models.Model) -> bool:
    """Whether this exact holder (not its members) holds the permission on ``obj``."""
    user_model, group_model = _permission_models(type(obj))
    if isinstance(holder, User):
        return user_model._default_manager.filter(
            user=holder, permission__codename=codename, content_object=obj
        ).exists()
    return group_model._default_manager.filter(
        group__name=_group_name(holder), permission__codename=codename, content_object=obj
    ).exists()


def _group_name(holder: Team | Organisation) -> str:
    if isinstance(holder, Team):
        return team_group_name(holder.pk)
    return organisation_group_name(holder.pk)


def _permission_models(
    model: type[models.Model],
) -> tuple[type[models.Model], type[models.Model]]:
    # guardian accepts a model class as well as an instance (its stubs say instance only).
    target = cast(Any, model)
    return get_user_obj_perms_model(target), get_group_obj_perms_model(target)


def object_permission_grant(*, holder: Holder, codename: str, obj: models.Model) -> bool:
    """Grant; True when something changed. Call only from a service that audits the change."""
    if holds_directly(holder, codename, obj):
        return False
    perm = f"{obj._meta.app_label}.{codename}"
    assign_perm(perm, holder if isinstance(holder, User) else holder_group(holder), obj)
    return True


def object_permission_revoke(*, holder: Holder, codename: str, obj: models.Model) -> bool:
    """Revoke; True when something changed. Call only from a service that audits the change."""
    if not holds_directly(holder, codename, obj):
        return False
    perm = f"{obj._meta.app_label}.{codename}"
    remove_perm(perm, holder if isinstance(holder, User) else holder_group(holder), obj)
    return True
