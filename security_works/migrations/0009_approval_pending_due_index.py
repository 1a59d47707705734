"""The pending cost approvals in the queue's order (issue 17): the SPA manager's home reads its
first rows and its capped counts from this partial index. Built CONCURRENTLY."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("security_works", "0008_merge_search_and_report_indexes"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="costapproval",
            index=models.Index(
                models.OrderBy(models.F("due_at"), nulls_last=True),
                models.OrderBy(models.F("requested_at")),
                models.OrderBy(models.F("id")),
                condition=models.Q(("status", "pending")),
                name="approval_pending_due_idx",
            ),
        ),
    ]
