"""Stamp each access-log row with the authority of the record read.

Adding a nullable column is instant and touches no row, so the append-only triggers are not
involved; old rows keep NULL (never backfilled). The index is built CONCURRENTLY: every record
read inserts into this table, and a plain CREATE INDEX would hold those inserts up while it
scans a log that outgrows every other table.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "audit_accesslog_authority_id_092e0ce8"  # the name Django gives the field's index


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("audit", "0002_access_action_audit_view"),
        ("organisations", "0002_add_contract"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="accesslog",
                    name="authority",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="organisations.commissioningauthority",
                    ),
                ),
            ],
            database_operations=[
                migrations.AddField(
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
                migrations.RunSQL(
                    sql=f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{INDEX}" '
                    'ON "audit_accesslog" ("authority_id")',
                    reverse_sql=f'DROP INDEX CONCURRENTLY IF EXISTS "{INDEX}"',
                ),
            ],
        ),
    ]
