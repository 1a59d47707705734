"""Break-glass openings per authority, newest first (issue 17): an auditor's home counts the
week's openings apart from the week's reads, which it caps. Partial (break-glass is rare), built
CONCURRENTLY: every record read writes to this table."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("audit", "0005_auth_event_scope_indexes"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="accesslog",
            index=models.Index(
                condition=models.Q(("action", "break_glass")),
                fields=["authority", "-occurred_at"],
                name="access_break_glass_idx",
            ),
        ),
    ]
