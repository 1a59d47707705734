"""pg_trgm and fuzzystrmatch, for duplicate and repeat detection (name typos).

Both are trusted extensions in PostgreSQL 13+, so a database owner can create them without
superuser rights.
"""

from django.contrib.postgres.operations import CreateExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("referrals", "0003_seed_dash_ric")]

    operations = [CreateExtension("pg_trgm"), CreateExtension("fuzzystrmatch")]
