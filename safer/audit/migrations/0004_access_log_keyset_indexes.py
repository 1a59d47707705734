"""Indexes for the access log's keyset pages (issue 17): per authority newest first, the
unstamped rows newest first, and which record types have unstamped rows. Built CONCURRENTLY,
so writes to the log carry on while they build on a large table; then the single-column index on
the authority goes (the new one leads with it)."""

import django.db.models.deletion
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("audit", "0003_access_log_authority"),
        ("organisations", "0004_system_admin_contracts"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="accesslog",
            index=models.Index(
                fields=["authority", "-occurred_at", "-id"], name="access_authority_time_idx"
            ),
        ),
        AddIndexConcurrently(
            model_name="accesslog",
            index=models.Index(
                condition=models.Q(("authority__isnull", True)),
                fields=["-occurred_at", "-id"],
                name="access_unstamped_time_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="accesslog",
            index=models.Index(
                condition=models.Q(("authority__isnull", True)),
                fields=["record_type"],
                name="access_unstamped_type_idx",
            ),
        ),
        migrations.AlterField(
            model_name="accesslog",
            name="authority",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="organisations.commissioningauthority",
            ),
        ),
    ]
