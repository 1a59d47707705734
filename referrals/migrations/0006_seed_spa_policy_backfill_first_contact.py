"""The default SPA policy (domain.md §8: triage within 2 working days; first contact attempt
within 1 working day, high risk the same day), and the first-contact deadline of referrals
that arrived before it was stored.

The backfill uses the default targets (no authority has its own row yet) and the risk level each
referral has now; referrals already decided get one too, so past periods can be reported.
"""

import datetime as dt

from django.db import migrations

from safer import workdays

TRIAGE_WORKING_DAYS = 2
FIRST_CONTACT_WORKING_DAYS = 1
HIGH_RISK_WORKING_DAYS = 0
WORKING_DAY_ENDS_AT = dt.time(17, 0)


def _due(received_at, high_risk):
    if not high_risk:
        target = workdays.Target(FIRST_CONTACT_WORKING_DAYS, workdays.TargetUnit.WORKING_DAYS)
        return workdays.due_at(received_at, target)
    local = received_at.astimezone(workdays.LOCAL_TZ)
    day = local.date()
    if not workdays.is_working_day(day) or local.time() >= WORKING_DAY_ENDS_AT:
        day = workdays.next_working_day(day)
    day = workdays.add_working_days(day, HIGH_RISK_WORKING_DAYS)
    return workdays.end_of_day(day).astimezone(dt.UTC)


def seed(apps, schema_editor):
    SpaPolicy = apps.get_model("referrals", "SpaPolicy")
    Referral = apps.get_model("referrals", "Referral")
    if not SpaPolicy.objects.filter(authority__isnull=True).exists():
        SpaPolicy.objects.create(
            authority=None,
            triage_working_days=TRIAGE_WORKING_DAYS,
            first_contact_working_days=FIRST_CONTACT_WORKING_DAYS,
            high_risk_first_contact_working_days=HIGH_RISK_WORKING_DAYS,
            working_day_ends_at=WORKING_DAY_ENDS_AT,
        )
    pending = Referral.objects.filter(first_contact_due_at__isnull=True).only(
        "pk", "received_at", "risk_level"
    )
    for referral in pending.iterator(chunk_size=500):
        Referral.objects.filter(pk=referral.pk).update(
            first_contact_due_at=_due(referral.received_at, referral.risk_level == "high")
        )


def unseed(apps, schema_editor):
    # The deadlines go with the column in the schema migration's reverse; only the default row
    # needs removing here.
    apps.get_model("referrals", "SpaPolicy").objects.filter(authority__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("referrals", "0005_spa_policy_contact_attempts_advice_marac_heard")]

    operations = [migrations.RunPython(seed, unseed)]
