"""Lines commissioners publish that the returns could not carry (issue 14): referrals received by
the survivor's sex, and children-and-young-people referrals with the number of children linked.
Added to the referrals section of every annual and quarterly template that has one (the
roll-forward copies them into later years). Data only, reversible, safe to re-run."""

from django.db import migrations

# (line code = category of the "referrals" family, label, display order)
LINES = [
    ("received_female", "of which the survivor is female", 11),
    ("received_male", "of which the survivor is male", 12),
    ("received_sex_not_recorded", "of which the survivor's sex is not recorded", 13),
    ("cyp_referrals", "Children and young people referrals (support asked for a child)", 14),
    ("cyp_children", "Children linked to children and young people referrals", 15),
]
KINDS = ("annual_return", "quarterly_grant")


def forwards(apps, schema_editor):
    ReturnSection = apps.get_model("reporting", "ReturnSection")
    ReturnLine = apps.get_model("reporting", "ReturnLine")
    for section in ReturnSection.objects.filter(template__kind__in=KINDS, code="referrals"):
        for code, label, order in LINES:
            ReturnLine.objects.get_or_create(
                section=section,
                code=code,
                defaults={
                    "label": label,
                    "metric": "referrals",
                    "category": code,
                    "is_total": False,
                    "display_order": order,
                },
            )


def backwards(apps, schema_editor):
    apps.get_model("reporting", "ReturnLine").objects.filter(
        section__template__kind__in=KINDS,
        section__code="referrals",
        code__in=[code for code, _, _ in LINES],
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("reporting", "0008_return_submissions_and_run_cells")]

    operations = [migrations.RunPython(forwards, backwards)]
