"""Each referral carries its case file's authority (issue 17, ADR 0018): the SPA home's queue
counts read an authority's open referrals from a partial index.

Added nullable, filled with one set-based UPDATE (the history trigger, which ignores the column
from now on, is dropped first, so the fill writes no event rows), then made NOT NULL.
"""

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("casefile", "0010_search_casefile_opened_index"),
        ("organisations", "0004_system_admin_contracts"),
        ("referrals", "0013_reporting_clock_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name="referral",
            name="update_update",
        ),
        migrations.AddField(
            model_name="referral",
            name="authority",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="organisations.commissioningauthority",
            ),
        ),
        migrations.RunSQL(
            """
            UPDATE referrals_referral AS r SET authority_id = c.authority_id
            FROM casefile_casefile AS c WHERE c.id = r.case_file_id AND r.authority_id IS NULL
            """,
            migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name="referral",
            name="authority",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="organisations.commissioningauthority",
            ),
        ),
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(
                condition=models.Q(
                    ("status__in", ["received", "in_triage", "awaiting_information"])
                ),
                fields=["authority", "status", "sla_due_at"],
                name="referral_open_authority_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(
                condition=models.Q(
                    ("first_contact_attempted_at__isnull", True),
                    ("status__in", ["received", "in_triage", "awaiting_information"]),
                ),
                fields=["authority", "first_contact_due_at"],
                name="referral_contact_authority_idx",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="referral",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition='WHEN (OLD."case_file_id" IS DISTINCT FROM (NEW."case_file_id") OR OLD."consent_date" IS DISTINCT FROM (NEW."consent_date") OR OLD."consent_given" IS DISTINCT FROM (NEW."consent_given") OR OLD."consent_method" IS DISTINCT FROM (NEW."consent_method") OR OLD."dash_completed" IS DISTINCT FROM (NEW."dash_completed") OR OLD."dash_date" IS DISTINCT FROM (NEW."dash_date") OR OLD."dash_score" IS DISTINCT FROM (NEW."dash_score") OR OLD."decided_at" IS DISTINCT FROM (NEW."decided_at") OR OLD."decided_by_id" IS DISTINCT FROM (NEW."decided_by_id") OR OLD."decision_note" IS DISTINCT FROM (NEW."decision_note") OR OLD."decline_reason_id" IS DISTINCT FROM (NEW."decline_reason_id") OR OLD."duplicate_of_id" IS DISTINCT FROM (NEW."duplicate_of_id") OR OLD."edited_at" IS DISTINCT FROM (NEW."edited_at") OR OLD."edited_by_id" IS DISTINCT FROM (NEW."edited_by_id") OR OLD."elig_consent" IS DISTINCT FROM (NEW."elig_consent") OR OLD."elig_domestic_abuse" IS DISTINCT FROM (NEW."elig_domestic_abuse") OR OLD."elig_perpetrator_not_resident" IS DISTINCT FROM (NEW."elig_perpetrator_not_resident") OR OLD."elig_resident_in_area" IS DISTINCT FROM (NEW."elig_resident_in_area") OR OLD."elig_wishes_to_remain" IS DISTINCT FROM (NEW."elig_wishes_to_remain") OR OLD."eligibility_checked_at" IS DISTINCT FROM (NEW."eligibility_checked_at") OR OLD."eligibility_checked_by_id" IS DISTINCT FROM (NEW."eligibility_checked_by_id") OR OLD."first_contact_attempted_at" IS DISTINCT FROM (NEW."first_contact_attempted_at") OR OLD."first_contact_due_at" IS DISTINCT FROM (NEW."first_contact_due_at") OR OLD."id" IS DISTINCT FROM (NEW."id") OR OLD."marac_date" IS DISTINCT FROM (NEW."marac_date") OR OLD."marac_referred" IS DISTINCT FROM (NEW."marac_referred") OR OLD."no_contact_attempt_reason" IS DISTINCT FROM (NEW."no_contact_attempt_reason") OR OLD."other_risks" IS DISTINCT FROM (NEW."other_risks") OR OLD."received_at" IS DISTINCT FROM (NEW."received_at") OR OLD."reference" IS DISTINCT FROM (NEW."reference") OR OLD."referrer_agency_type" IS DISTINCT FROM (NEW."referrer_agency_type") OR OLD."referrer_email" IS DISTINCT FROM (NEW."referrer_email") OR OLD."referrer_name" IS DISTINCT FROM (NEW."referrer_name") OR OLD."referrer_organisation" IS DISTINCT FROM (NEW."referrer_organisation") OR OLD."referrer_phone" IS DISTINCT FROM (NEW."referrer_phone") OR OLD."referrer_role" IS DISTINCT FROM (NEW."referrer_role") OR OLD."referrer_user_id" IS DISTINCT FROM (NEW."referrer_user_id") OR OLD."repeat_of_id" IS DISTINCT FROM (NEW."repeat_of_id") OR OLD."requests_adult_support" IS DISTINCT FROM (NEW."requests_adult_support") OR OLD."requests_security_works" IS DISTINCT FROM (NEW."requests_security_works") OR OLD."risk_level" IS DISTINCT FROM (NEW."risk_level") OR OLD."risk_not_assessed_reason" IS DISTINCT FROM (NEW."risk_not_assessed_reason") OR OLD."route_adult_support" IS DISTINCT FROM (NEW."route_adult_support") OR OLD."route_security_works" IS DISTINCT FROM (NEW."route_security_works") OR OLD."safeguarding_override_reason" IS DISTINCT FROM (NEW."safeguarding_override_reason") OR OLD."sla_due_at" IS DISTINCT FROM (NEW."sla_due_at") OR OLD."source" IS DISTINCT FROM (NEW."source") OR OLD."status" IS DISTINCT FROM (NEW."status") OR OLD."triage_started_at" IS DISTINCT FROM (NEW."triage_started_at") OR OLD."triage_worker_id" IS DISTINCT FROM (NEW."triage_worker_id") OR OLD."urgency_reason" IS DISTINCT FROM (NEW."urgency_reason") OR OLD."urgent" IS DISTINCT FROM (NEW."urgent") OR OLD."version" IS DISTINCT FROM (NEW."version"))',
                    func='INSERT INTO "referrals_referralevent" ("case_file_id", "consent_date", "consent_given", "consent_method", "dash_completed", "dash_date", "dash_score", "decided_at", "decided_by_id", "decision_note", "decline_reason_id", "duplicate_of_id", "edited_at", "edited_by_id", "elig_consent", "elig_domestic_abuse", "elig_perpetrator_not_resident", "elig_resident_in_area", "elig_wishes_to_remain", "eligibility_checked_at", "eligibility_checked_by_id", "first_contact_attempted_at", "first_contact_due_at", "id", "marac_date", "marac_referred", "no_contact_attempt_reason", "other_risks", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "received_at", "reference", "referrer_agency_type", "referrer_email", "referrer_name", "referrer_organisation", "referrer_phone", "referrer_role", "referrer_user_id", "repeat_of_id", "requests_adult_support", "requests_security_works", "risk_level", "risk_not_assessed_reason", "route_adult_support", "route_security_works", "safeguarding_override_reason", "sla_due_at", "source", "status", "triage_started_at", "triage_worker_id", "urgency_reason", "urgent", "version") VALUES (NEW."case_file_id", NEW."consent_date", NEW."consent_given", NEW."consent_method", NEW."dash_completed", NEW."dash_date", NEW."dash_score", NEW."decided_at", NEW."decided_by_id", NEW."decision_note", NEW."decline_reason_id", NEW."duplicate_of_id", NEW."edited_at", NEW."edited_by_id", NEW."elig_consent", NEW."elig_domestic_abuse", NEW."elig_perpetrator_not_resident", NEW."elig_resident_in_area", NEW."elig_wishes_to_remain", NEW."eligibility_checked_at", NEW."eligibility_checked_by_id", NEW."first_contact_attempted_at", NEW."first_contact_due_at", NEW."id", NEW."marac_date", NEW."marac_referred", NEW."no_contact_attempt_reason", NEW."other_risks", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."received_at", NEW."reference", NEW."referrer_agency_type", NEW."referrer_email", NEW."referrer_name", NEW."referrer_organisation", NEW."referrer_phone", NEW."referrer_role", NEW."referrer_user_id", NEW."repeat_of_id", NEW."requests_adult_support", NEW."requests_security_works", NEW."risk_level", NEW."risk_not_assessed_reason", NEW."route_adult_support", NEW."route_security_works", NEW."safeguarding_override_reason", NEW."sla_due_at", NEW."source", NEW."status", NEW."triage_started_at", NEW."triage_worker_id", NEW."urgency_reason", NEW."urgent", NEW."version"); RETURN NULL;',
                    hash="e04de48d9fa775135adac650f84aa07ef0f5b451",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_223e7",
                    table="referrals_referral",
                    when="AFTER",
                ),
            ),
        ),
    ]
