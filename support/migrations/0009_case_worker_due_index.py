"""The caseload's default order, next due first, read off a partial index on open cases
(issue 17)."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY: the case tables stay writable while they build

    dependencies = [("support", "0008_case_next_due_on_backfill")]

    operations = [
        AddIndexConcurrently(
            model_name="adultsupportcase",
            index=models.Index(
                condition=models.Q(("status", "closed"), _negated=True),
                fields=["allocated_worker", "next_due_on", "opened_at", "id"],
                name="adult_case_worker_due_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="cypcase",
            index=models.Index(
                condition=models.Q(("status", "closed"), _negated=True),
                fields=["allocated_worker", "next_due_on", "opened_at", "id"],
                name="cyp_case_worker_due_idx",
            ),
        ),
    ]
