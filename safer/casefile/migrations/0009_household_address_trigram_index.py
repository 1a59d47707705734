"""A GIN trigram index on the household's first address line, for duplicate matching at
submission (issue 17): ``lower(address_line_1) % '<the new referral's line>'`` within the
postcode. pg_trgm is a trusted extension (created here again if missing, as by 0004); the index
is built CONCURRENTLY so a live households table is not locked for writes while it builds."""

import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.contrib.postgres.operations import AddIndexConcurrently, TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("casefile", "0008_add_edit_version")]

    operations = [
        TrigramExtension(),
        AddIndexConcurrently(
            model_name="household",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(
                    django.db.models.functions.text.Lower("address_line_1"), name="gin_trgm_ops"
                ),
                name="household_address_trgm",
            ),
        ),
    ]
