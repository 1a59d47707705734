"""Indexes for the KPI clocks and the period's cases of reports and dashboards: each counts a
record in the period its clock stopped or, while it runs, the period its deadline passed, and the
exit KPIs count cases closed in the period; without these every query read every record of the
authority (issue 17, the dashboard pre-compute at a million referrals)."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY: the tables stay writable while they build

    dependencies = [
        ("referrals", "0012_queue_priority_index"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="referral",
            index=models.Index(fields=["sla_due_at"], name="referral_sla_due_idx"),
        ),
        AddIndexConcurrently(
            model_name="referral",
            index=models.Index(
                fields=["first_contact_attempted_at"], name="referral_contacted_idx"
            ),
        ),
        AddIndexConcurrently(
            model_name="referral",
            index=models.Index(
                condition=models.Q(("first_contact_attempted_at__isnull", True)),
                fields=["first_contact_due_at"],
                name="referral_contact_open_due_idx",
            ),
        ),
    ]
