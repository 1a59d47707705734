"""Indexes for the KPI clocks and the period's cases of reports and dashboards: each counts a
record in the period its clock stopped or, while it runs, the period its deadline passed, and the
exit KPIs count cases closed in the period; without these every query read every record of the
authority (issue 17, the dashboard pre-compute at a million referrals)."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY: the tables stay writable while they build

    dependencies = [
        ("support", "0009_case_worker_due_index"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="adultsupportcase",
            index=models.Index(fields=["first_contact_at"], name="adult_case_contacted_idx"),
        ),
        AddIndexConcurrently(
            model_name="adultsupportcase",
            index=models.Index(
                condition=models.Q(("first_contact_at__isnull", True)),
                fields=["first_contact_due_on"],
                name="adult_case_contact_open_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="adultsupportcase",
            index=models.Index(fields=["closed_at"], name="adult_case_closed_idx"),
        ),
        AddIndexConcurrently(
            model_name="cypcase",
            index=models.Index(fields=["first_contact_at"], name="cyp_case_contacted_idx"),
        ),
        AddIndexConcurrently(
            model_name="cypcase",
            index=models.Index(
                condition=models.Q(("first_contact_at__isnull", True)),
                fields=["first_contact_due_on"],
                name="cyp_case_contact_open_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="cypcase",
            index=models.Index(fields=["closed_at"], name="cyp_case_closed_idx"),
        ),
    ]
