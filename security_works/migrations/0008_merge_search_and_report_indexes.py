"""Two indexes-only migrations made side by side (issue 17: search and case lists; reports and dashboards)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("security_works", "0007_reporting_clock_indexes"),
        ("security_works", "0007_search_job_allocated_index"),
    ]

    operations = []
