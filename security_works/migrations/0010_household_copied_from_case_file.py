"""Each security job carries its case file's household (issue 17): the returns find a
household's works without joining a million case files.

Added nullable, filled with one set-based UPDATE, then made NOT NULL. The history triggers now
name their columns and leave this one out, so the fill writes no event rows.
"""

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("casefile", "0010_search_casefile_opened_index"),
        ("security_works", "0009_approval_pending_due_index"),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name="securityjob",
            name="update_update",
        ),
        migrations.AddField(
            model_name="securityjob",
            name="household",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="casefile.household",
            ),
        ),
        migrations.RunSQL(
            """
            UPDATE security_works_securityjob AS j SET household_id = c.household_id
            FROM casefile_casefile AS c WHERE c.id = j.case_file_id AND j.household_id IS NULL
            """,
            migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name="securityjob",
            name="household",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="casefile.household",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="securityjob",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition='WHEN (OLD."access_notes" IS DISTINCT FROM (NEW."access_notes") OR OLD."allocated_at" IS DISTINCT FROM (NEW."allocated_at") OR OLD."allocation_override_reason" IS DISTINCT FROM (NEW."allocation_override_reason") OR OLD."authority_id" IS DISTINCT FROM (NEW."authority_id") OR OLD."cancellation_note" IS DISTINCT FROM (NEW."cancellation_note") OR OLD."cancellation_reason" IS DISTINCT FROM (NEW."cancellation_reason") OR OLD."cancelled_at" IS DISTINCT FROM (NEW."cancelled_at") OR OLD."case_file_id" IS DISTINCT FROM (NEW."case_file_id") OR OLD."checked_at" IS DISTINCT FROM (NEW."checked_at") OR OLD."completed_at" IS DISTINCT FROM (NEW."completed_at") OR OLD."contract_id" IS DISTINCT FROM (NEW."contract_id") OR OLD."contractor_id" IS DISTINCT FROM (NEW."contractor_id") OR OLD."district_id" IS DISTINCT FROM (NEW."district_id") OR OLD."edited_at" IS DISTINCT FROM (NEW."edited_at") OR OLD."edited_by_id" IS DISTINCT FROM (NEW."edited_by_id") OR OLD."hold_reason" IS DISTINCT FROM (NEW."hold_reason") OR OLD."id" IS DISTINCT FROM (NEW."id") OR OLD."installation_booked_for" IS DISTINCT FROM (NEW."installation_booked_for") OR OLD."installation_due_at" IS DISTINCT FROM (NEW."installation_due_at") OR OLD."installed_at" IS DISTINCT FROM (NEW."installed_at") OR OLD."landlord_consent_at" IS DISTINCT FROM (NEW."landlord_consent_at") OR OLD."landlord_consent_required" IS DISTINCT FROM (NEW."landlord_consent_required") OR OLD."made_safe_at" IS DISTINCT FROM (NEW."made_safe_at") OR OLD."make_safe_due_at" IS DISTINCT FROM (NEW."make_safe_due_at") OR OLD."next_due_at" IS DISTINCT FROM (NEW."next_due_at") OR OLD."priority" IS DISTINCT FROM (NEW."priority") OR OLD."reference" IS DISTINCT FROM (NEW."reference") OR OLD."status" IS DISTINCT FROM (NEW."status") OR OLD."status_before_hold" IS DISTINCT FROM (NEW."status_before_hold") OR OLD."suggested_contractor_id" IS DISTINCT FROM (NEW."suggested_contractor_id") OR OLD."survey_booked_for" IS DISTINCT FROM (NEW."survey_booked_for") OR OLD."survey_due_at" IS DISTINCT FROM (NEW."survey_due_at") OR OLD."surveyed_at" IS DISTINCT FROM (NEW."surveyed_at") OR OLD."survivor_consent_at" IS DISTINCT FROM (NEW."survivor_consent_at") OR OLD."version" IS DISTINCT FROM (NEW."version"))',
                    func='INSERT INTO "security_works_securityjobevent" ("access_notes", "allocated_at", "allocation_override_reason", "authority_id", "cancellation_note", "cancellation_reason", "cancelled_at", "case_file_id", "checked_at", "completed_at", "contract_id", "contractor_id", "district_id", "edited_at", "edited_by_id", "hold_reason", "id", "installation_booked_for", "installation_due_at", "installed_at", "landlord_consent_at", "landlord_consent_required", "made_safe_at", "make_safe_due_at", "next_due_at", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "priority", "reference", "status", "status_before_hold", "suggested_contractor_id", "survey_booked_for", "survey_due_at", "surveyed_at", "survivor_consent_at", "version") VALUES (NEW."access_notes", NEW."allocated_at", NEW."allocation_override_reason", NEW."authority_id", NEW."cancellation_note", NEW."cancellation_reason", NEW."cancelled_at", NEW."case_file_id", NEW."checked_at", NEW."completed_at", NEW."contract_id", NEW."contractor_id", NEW."district_id", NEW."edited_at", NEW."edited_by_id", NEW."hold_reason", NEW."id", NEW."installation_booked_for", NEW."installation_due_at", NEW."installed_at", NEW."landlord_consent_at", NEW."landlord_consent_required", NEW."made_safe_at", NEW."make_safe_due_at", NEW."next_due_at", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."priority", NEW."reference", NEW."status", NEW."status_before_hold", NEW."suggested_contractor_id", NEW."survey_booked_for", NEW."survey_due_at", NEW."surveyed_at", NEW."survivor_consent_at", NEW."version"); RETURN NULL;',
                    hash="ad41f219c2884a8a21a93606bdb2472e6c0e8f2c",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_3dc3c",
                    table="security_works_securityjob",
                    when="AFTER",
                ),
            ),
        ),
    ]
