"""The system administrator keeps the contracts in the admin and records the extensions the
council exercises (an extension, once recorded, is never changed or deleted)."""

from django.db import migrations

from safer.accounts.reference_data import EDIT, reference_data_grant, reference_data_revoke

GRANTS = {
    "organisations.contract": EDIT,
    "organisations.contractextension": ("view", "add"),
}


def grant(apps, schema_editor):
    reference_data_grant(apps, GRANTS)


def revoke(apps, schema_editor):
    reference_data_revoke(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_user_sessions_account_events"),
        ("organisations", "0003_contract_extensions"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
