"""The system administrator keeps this app's reference data in the admin (issue 5)."""

from django.db import migrations

from safer.accounts.reference_data import (
    EDIT,
    EDIT_AND_DELETE,
    reference_data_grant,
    reference_data_revoke,
)

GRANTS = {
    "reporting.returntemplate": EDIT,
    "reporting.returnsection": EDIT,
    "reporting.kpidefinition": EDIT,
    "reporting.categorymapping": EDIT_AND_DELETE,
    "reporting.kpicontracttarget": EDIT_AND_DELETE,
    "reporting.ageband": EDIT_AND_DELETE,
    "reporting.reportingpolicy": EDIT,
}


def grant(apps, schema_editor):
    reference_data_grant(apps, GRANTS)


def revoke(apps, schema_editor):
    reference_data_revoke(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_user_sessions_account_events"),
        ("reporting", "0004_template_lines_2025_26"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
