"""The system administrator keeps the reference data (issue 5: the schedule of rates and the like).

The role's group gets the admin's model permissions on the reference-data models of every app:
view, add and change; delete only on rows nothing else is built from. Never a case or person
model, and never an audit table (those admins stay read-only whatever the group holds).

Permissions are normally created after ``migrate`` (the ``post_migrate`` signal), so on a new
database they do not exist yet when this runs: ``create_permissions`` makes them first, for the
historical models. The dependencies put this after each app's migration that creates the models.
A model an app no longer has is skipped, so the migration still runs after it is removed.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SYSTEM_ADMIN_GROUP = "System administrator"

EDIT = ("view", "add", "change")
EDIT_AND_DELETE = ("view", "add", "change", "delete")

REFERENCE_DATA = {
    "security_works.measure": EDIT,  # the schedule of rates
    "security_works.slapolicy": EDIT,
    "referrals.declinereason": EDIT,
    "referrals.riskquestionnaire": EDIT,
    "referrals.riskquestion": EDIT,
    "referrals.riskpolicy": EDIT,
    "referrals.riskband": EDIT,
    "support.needsarea": EDIT,
    "support.closurereason": EDIT,
    "support.supportpolicy": EDIT,
    "reporting.returntemplate": EDIT,
    "reporting.returnsection": EDIT,
    "reporting.kpidefinition": EDIT,
    # Settings rows that nothing else points at: removing one is safe.
    "reporting.categorymapping": EDIT_AND_DELETE,
    "reporting.kpicontracttarget": EDIT_AND_DELETE,
    "reporting.ageband": EDIT_AND_DELETE,
    "reporting.reportingpolicy": EDIT,
}


def _models(apps):
    for label, actions in REFERENCE_DATA.items():
        try:
            yield apps.get_model(label), actions
        except LookupError:
            continue


def _permissions(apps):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    for model, actions in _models(apps):
        content_type = ContentType.objects.get_for_model(model, for_concrete_model=True)
        codenames = [f"{action}_{model._meta.model_name}" for action in actions]
        yield from Permission.objects.filter(content_type=content_type, codename__in=codenames)


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        # The documented way to create permissions inside a migration for historical models.
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    group, _ = Group.objects.get_or_create(name=SYSTEM_ADMIN_GROUP)
    group.permissions.add(*_permissions(apps))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    group = Group.objects.filter(name=SYSTEM_ADMIN_GROUP).first()
    if group is not None:
        group.permissions.remove(*_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_user_sessions_account_events"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("security_works", "0001_security_jobs_rates_consents"),
        ("referrals", "0001_initial"),
        ("support", "0001_support_cases_and_records"),
        ("reporting", "0001_report_runs_templates_kpis"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
