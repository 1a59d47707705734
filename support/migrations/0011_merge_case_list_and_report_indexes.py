"""Two indexes-only migrations made side by side (issue 17: search and case lists; reports and dashboards)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0010_case_list_order_indexes"),
        ("support", "0010_reporting_clock_indexes"),
    ]

    operations = []
