"""Indexes on when a referral arrived and when it was decided: every return, KPI report and
dashboard counts a period's referrals by one or the other (issue 17)."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY: referrals stay writable while they build

    dependencies = [
        ("referrals", "0010_add_edit_version"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="referral",
            index=models.Index(fields=["received_at"], name="referral_received_idx"),
        ),
        AddIndexConcurrently(
            model_name="referral",
            index=models.Index(fields=["decided_at"], name="referral_decided_idx"),
        ),
    ]
