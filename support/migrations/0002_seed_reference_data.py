"""Needs areas and support-ended reasons from domain.md §7, and the scheme's default support
policy (contact targets from §8, GBO reliable change 2.45), as admin-editable data."""

from decimal import Decimal

from django.db import migrations

NEEDS_AREAS = [
    ("safety", "Safety"),
    ("housing", "Housing"),
    ("finances_benefits", "Finances and benefits"),
    ("physical_health", "Physical health"),
    ("mental_health", "Mental health"),
    ("drugs_alcohol", "Drugs and alcohol"),
    ("children_parenting", "Children and parenting"),
    ("legal_court", "Legal and court"),
    ("immigration", "Immigration"),
    ("social_isolation", "Social isolation"),
    ("employment_education", "Employment and education"),
]

CLOSURE_REASONS = [
    # code, label, requires a note
    ("no_longer_needed", "No longer needed or goals met", False),
    ("moved_out_of_area", "Moved out of the area", False),
    ("moved_other_accommodation", "Moved to other accommodation", False),
    ("disengaged", "Disengaged", False),
    ("declined", "Declined further support", False),
    ("unable_to_contact", "Unable to contact", False),
    ("perpetrator_returned", "Perpetrator returned", False),
    ("other", "Other", True),
]


def seed(apps, schema_editor):
    NeedsArea = apps.get_model("support", "NeedsArea")
    ClosureReason = apps.get_model("support", "ClosureReason")
    SupportPolicy = apps.get_model("support", "SupportPolicy")
    for order, (code, label) in enumerate(NEEDS_AREAS, start=1):
        NeedsArea.objects.update_or_create(
            code=code, defaults={"label": label, "display_order": order * 10}
        )
    for order, (code, label, note) in enumerate(CLOSURE_REASONS, start=1):
        ClosureReason.objects.update_or_create(
            code=code,
            defaults={"label": label, "display_order": order * 10, "requires_note": note},
        )
    if not SupportPolicy.objects.filter(authority__isnull=True).exists():
        SupportPolicy.objects.create(authority=None, gbo_reliable_change=Decimal("2.45"))


def unseed(apps, schema_editor):
    apps.get_model("support", "NeedsArea").objects.filter(
        code__in=[code for code, _ in NEEDS_AREAS]
    ).delete()
    apps.get_model("support", "ClosureReason").objects.filter(
        code__in=[row[0] for row in CLOSURE_REASONS]
    ).delete()
    apps.get_model("support", "SupportPolicy").objects.filter(authority__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("support", "0001_support_cases_and_records")]

    operations = [migrations.RunPython(seed, unseed)]
