"""The system administrator keeps this app's reference data in the admin (issue 5)."""

from django.db import migrations

from safer.accounts.reference_data import EDIT, reference_data_grant, reference_data_revoke

GRANTS = {
    "support.needsarea": EDIT,
    "support.closurereason": EDIT,
    "support.supportpolicy": EDIT,
}


def grant(apps, schema_editor):
    reference_data_grant(apps, GRANTS)


def revoke(apps, schema_editor):
    reference_data_revoke(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_user_sessions_account_events"),
        ("support", "0002_seed_reference_data"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
