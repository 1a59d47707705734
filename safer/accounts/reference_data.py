"""Model permissions for the system administrator's reference data, for apps' data migrations.

Each app grants its own reference-data models in a migration of its own (the core never depends
on the apps above it): ``reference_data_grant(apps, {"referrals.declinereason": EDIT})``.

Permissions are normally created after ``migrate`` (the ``post_migrate`` signal), so on a new
database they do not exist yet when such a migration runs: ``create_permissions`` makes them
first, for the historical models. A model an app no longer has is skipped, so an old migration
still runs after the model is removed. Never a case or person model, never an audit table.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from django.contrib.auth.management import create_permissions

SYSTEM_ADMIN_GROUP = "System administrator"

EDIT = ("view", "add", "change")
# For settings rows that nothing else is built from: removing one is safe.
EDIT_AND_DELETE = ("view", "add", "change", "delete")

Grants = Mapping[str, Sequence[str]]


def _permissions(apps: Any, grants: Grants) -> Iterator[Any]:
    content_types = apps.get_model("contenttypes", "ContentType")
    permissions = apps.get_model("auth", "Permission")
    for label, actions in grants.items():
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        content_type = content_types.objects.get_for_model(model, for_concrete_model=True)
        codenames = [f"{action}_{model._meta.model_name}" for action in actions]
        yield from permissions.objects.filter(content_type=content_type, codename__in=codenames)


def reference_data_grant(apps: Any, grants: Grants) -> None:
    for app_config in apps.get_app_configs():
        # The documented way to create permissions inside a migration for historical models.
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name=SYSTEM_ADMIN_GROUP)
    group.permissions.add(*_permissions(apps, grants))


def reference_data_revoke(apps: Any, grants: Grants) -> None:
    group = apps.get_model("auth", "Group").objects.filter(name=SYSTEM_ADMIN_GROUP).first()
    if group is not None:
        group.permissions.remove(*_permissions(apps, grants))
