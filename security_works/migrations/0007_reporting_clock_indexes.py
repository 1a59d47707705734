"""Indexes for the KPI clocks and the period's cases of reports and dashboards: each counts a
record in the period its clock stopped or, while it runs, the period its deadline passed, and the
exit KPIs count cases closed in the period; without these every query read every record of the
authority (issue 17, the dashboard pre-compute at a million referrals)."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY: the tables stay writable while they build

    dependencies = [
        ("security_works", "0006_add_edit_version"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="securityjob",
            index=models.Index(fields=["made_safe_at"], name="job_made_safe_idx"),
        ),
        AddIndexConcurrently(
            model_name="securityjob",
            index=models.Index(
                condition=models.Q(("made_safe_at__isnull", True)),
                fields=["make_safe_due_at"],
                name="job_made_safe_due_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="securityjob",
            index=models.Index(fields=["surveyed_at"], name="job_surveyed_idx"),
        ),
        AddIndexConcurrently(
            model_name="securityjob",
            index=models.Index(
                condition=models.Q(("surveyed_at__isnull", True)),
                fields=["survey_due_at"],
                name="job_surveyed_due_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="securityjob",
            index=models.Index(fields=["installed_at"], name="job_installed_idx"),
        ),
        AddIndexConcurrently(
            model_name="securityjob",
            index=models.Index(
                condition=models.Q(("installed_at__isnull", True)),
                fields=["installation_due_at"],
                name="job_installed_due_idx",
            ),
        ),
    ]
