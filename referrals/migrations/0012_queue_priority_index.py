"""The triage queue's default order as a partial index over open referrals (urgent, risk, due,
oldest, id), so the queue's first page is read from it rather than by sorting every open
referral in scope (issue 17). The risk expression is ``referrals.models.referral.RISK_RANK_SQL``
as the queue's ORDER BY writes it."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY: referrals stay writable while it builds

    dependencies = [
        ("referrals", "0011_referral_period_indexes"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="referral",
            index=models.Index(
                models.OrderBy(models.F("urgent"), descending=True),
                models.OrderBy(
                    models.Case(
                        models.When(risk_level="high", then=models.Value(3)),
                        models.When(risk_level="medium", then=models.Value(2)),
                        models.When(risk_level="standard", then=models.Value(1)),
                        default=models.Value(0),
                        output_field=models.IntegerField(),
                    ),
                    descending=True,
                ),
                models.OrderBy(models.F("sla_due_at")),
                models.OrderBy(models.F("received_at")),
                models.OrderBy(models.F("id")),
                condition=models.Q(status__in=["received", "in_triage", "awaiting_information"]),
                name="referral_open_priority_idx",
            ),
        ),
    ]
