"""The default retention schedule (rows with no authority), and the system administrator's right
to edit it in the admin. The periods are the council's to set: these are the starting values
(docs/security.md, "Retention"), edited per authority in the admin."""

from django.db import migrations

from safer.accounts.reference_data import (
    EDIT,
    reference_data_grant,
    reference_data_revoke,
)

DEFAULTS = [
    (
        "closed_case",
        "closure",
        6,
        "Six years after the case closes: the limitation period for claims (Limitation Act 1980).",
    ),
    (
        "child_record",
        "birth",
        25,
        "Until the child is 25: records of children's services kept to the age of 25.",
    ),
    (
        "declined_referral",
        "decision",
        2,
        "Two years after a referral is declined or withdrawn: long enough to see repeats.",
    ),
    (
        "advice_contact",
        "nothing_kept",
        0,
        "Information and advice contacts are counted without any personal data.",
    ),
]

# No delete: retention decisions are built from these rows (a missing rule keeps records forever).
GRANTS = {"dataprotection.retentionrule": EDIT}


def seed(apps, schema_editor):
    rule = apps.get_model("dataprotection", "RetentionRule")
    for record_type, measured_from, years, basis in DEFAULTS:
        rule.objects.get_or_create(
            authority=None,
            record_type=record_type,
            defaults={"measured_from": measured_from, "years": years, "basis": basis},
        )
    reference_data_grant(apps, GRANTS)


def unseed(apps, schema_editor):
    reference_data_revoke(apps, GRANTS)
    apps.get_model("dataprotection", "RetentionRule").objects.filter(authority=None).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_user_sessions_account_events"),
        ("dataprotection", "0001_retention_schedule_holds_runs_and_subject_access"),
    ]
    operations = [migrations.RunPython(seed, unseed)]
