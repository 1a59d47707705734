"""Indexes for an auditor's sign-in events (issue 17): each user's events newest first, and the
failed attempts with no user by the name typed (upper-cased, as ``iexact`` compares). An
auditor's scope is their authorities' staff, a few dozen users: their events are read through
the first index, a range per user, instead of every event of the period (2.7 million at a
million referrals in the national shape). Built CONCURRENTLY: every sign-in writes here."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models
from django.db.models.functions import Upper


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("audit", "0004_access_log_keyset_indexes"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="authevent",
            index=models.Index(
                fields=["user", "-occurred_at", "-id"], name="auth_event_user_time_idx"
            ),
        ),
        AddIndexConcurrently(
            model_name="authevent",
            index=models.Index(
                Upper("attempted_username"),
                models.OrderBy(models.F("occurred_at"), descending=True),
                condition=models.Q(("user__isnull", True)),
                name="auth_event_attempt_time_idx",
            ),
        ),
    ]
