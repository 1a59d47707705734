"""Each support case carries its case file's household (issue 17): the returns count cases by
household without joining a million case files.

Added nullable, filled with one set-based UPDATE per case kind, then made NOT NULL. The history
triggers ignore the column, so the fill writes no event rows.
"""

import django.db.models.deletion
from django.db import migrations, models

_FILL = """
UPDATE {table} AS s SET household_id = c.household_id
FROM casefile_casefile AS c WHERE c.id = s.case_file_id AND s.household_id IS NULL
"""


def _field(*, null: bool) -> models.ForeignKey:
    return models.ForeignKey(
        db_index=False,
        editable=False,
        null=null,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to="casefile.household",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("casefile", "0010_search_casefile_opened_index"),
        ("support", "0012_search_case_opened_indexes"),
    ]

    operations = [
        *(
            migrations.AddField(model_name=name, name="household", field=_field(null=True))
            for name in ("adultsupportcase", "cypcase")
        ),
        *(
            migrations.RunSQL(_FILL.format(table=table), migrations.RunSQL.noop)
            for table in ("support_adultsupportcase", "support_cypcase")
        ),
        *(
            migrations.AlterField(model_name=name, name="household", field=_field(null=False))
            for name in ("adultsupportcase", "cypcase")
        ),
    ]
