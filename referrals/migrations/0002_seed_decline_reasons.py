"""Decline reasons from domain.md §4, as admin-editable data."""

from django.db import migrations

REASONS = [
    # code, label, counts as "could not be supported", requires a note
    ("outside_area", "Not eligible: outside the area", True, False),
    ("perpetrator_lives_at_property", "The perpetrator lives at the property", True, False),
    ("not_safe_to_remain", "Not safe to remain at home", True, False),
    ("no_consent", "No consent", True, False),
    ("survivor_declined", "The survivor declined the service", True, False),
    ("unable_to_contact", "Unable to contact the survivor", True, False),
    ("duplicate", "Duplicate referral", False, False),
    ("referred_elsewhere", "Referred to another service", True, False),
    ("other", "Other", True, True),
]


def seed(apps, schema_editor):
    DeclineReason = apps.get_model("referrals", "DeclineReason")
    for order, (code, label, counts, note) in enumerate(REASONS, start=1):
        DeclineReason.objects.update_or_create(
            code=code,
            defaults={
                "label": label,
                "counts_as_not_supported": counts,
                "requires_note": note,
                "display_order": order * 10,
            },
        )


def unseed(apps, schema_editor):
    DeclineReason = apps.get_model("referrals", "DeclineReason")
    DeclineReason.objects.filter(code__in=[row[0] for row in REASONS]).delete()


class Migration(migrations.Migration):
    dependencies = [("referrals", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
