"""The system administrator keeps this app's reference data in the admin (issue 5)."""

from django.db import migrations

from safer.accounts.reference_data import EDIT, reference_data_grant, reference_data_revoke

GRANTS = {
    "security_works.measure": EDIT,  # the schedule of rates
    "security_works.slapolicy": EDIT,
}


def grant(apps, schema_editor):
    reference_data_grant(apps, GRANTS)


def revoke(apps, schema_editor):
    reference_data_revoke(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_user_sessions_account_events"),
        ("security_works", "0002_default_sla_policy"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
