"""References from a sequence per prefix, so issuing one holds no lock (issue 17).

Creates the sequences of the prefixes SAFER issues (referrals SAFER, adult support AS, CYP CY,
security jobs SW) and carries each counter row into a base: with the sequence starting at 1, a
base of ``-last_number`` makes the next number ``last_number + 1``, as the locked counter would.
"""

from django.db import migrations, models

PREFIXES = ("SAFER", "AS", "CY", "SW")


def _sequence(prefix: str) -> str:
    return f"casefile_reference_{prefix.lower()}_seq"


def bases_from_counters(apps, schema_editor):
    counter = apps.get_model("casefile", "ReferenceCounter")
    counter.objects.filter(sequence_base__isnull=True).update(
        sequence_base=-models.F("last_number")
    )


def counters_from_bases(apps, schema_editor):
    """Back to the locked counter: each year's row holds the numbers issued so far."""
    counter = apps.get_model("casefile", "ReferenceCounter")
    with schema_editor.connection.cursor() as cursor:
        for row in counter.objects.filter(prefix__in=PREFIXES, sequence_base__isnull=False):
            sequence = _sequence(row.prefix)  # one of the prefixes above
            cursor.execute(
                f"SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM {sequence}"  # noqa: S608
            )
            (issued,) = cursor.fetchone()
            row.last_number = max(row.last_number, issued - row.sequence_base)
            row.save(update_fields=["last_number"])


class Migration(migrations.Migration):
    dependencies = [
        ("casefile", "0006_perpetrator_relationship_choices"),
    ]

    operations = [
        migrations.AddField(
            model_name="referencecounter",
            name="sequence_base",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.RunSQL(
            [f"CREATE SEQUENCE IF NOT EXISTS {_sequence(p)} AS bigint" for p in PREFIXES],
            reverse_sql=[f"DROP SEQUENCE IF EXISTS {_sequence(p)}" for p in PREFIXES],
        ),
        migrations.RunPython(bases_from_counters, counters_from_bases),
    ]
