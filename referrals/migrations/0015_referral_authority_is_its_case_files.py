"""The database holds what ADR 0018 relies on: a referral's authority is its case file's.

The referral scope (``Referral.objects.visible_to``) checks the referral's own copy of its case
file's authority, so a copy that differed would show the referral to another authority's staff.
A composite foreign key, ``(case_file_id, authority_id)`` to the case file's ``(id,
authority_id)``, refuses such a row whoever writes it. Django has no composite foreign key, so
it is SQL; the unique constraint it needs on the case file (its primary key with its authority)
is unique already by the primary key.
"""

from django.db import migrations

_ADD = """
ALTER TABLE casefile_casefile
    ADD CONSTRAINT casefile_id_authority_key UNIQUE (id, authority_id);
ALTER TABLE referrals_referral
    ADD CONSTRAINT referral_authority_is_case_files
    FOREIGN KEY (case_file_id, authority_id)
    REFERENCES casefile_casefile (id, authority_id) DEFERRABLE INITIALLY DEFERRED;
"""

_DROP = """
ALTER TABLE referrals_referral DROP CONSTRAINT referral_authority_is_case_files;
ALTER TABLE casefile_casefile DROP CONSTRAINT casefile_id_authority_key;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("casefile", "0010_search_casefile_opened_index"),
        ("referrals", "0014_authority_copied_from_case_file"),
    ]

    operations = [migrations.RunSQL(_ADD, _DROP)]
