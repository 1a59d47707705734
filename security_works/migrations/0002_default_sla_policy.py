"""The scheme-wide default SLA policy (domain §6 and §8 suggested defaults), editable in the admin."""

from decimal import Decimal

from django.db import migrations


def create_default(apps, schema_editor):
    SlaPolicy = apps.get_model("security_works", "SlaPolicy")
    if not SlaPolicy.objects.filter(contract__isnull=True).exists():
        SlaPolicy.objects.create(
            contract=None,
            emergency_make_safe_hours=24,
            survey_working_days=5,
            installation_working_days=10,
            amber_working_days=1,
            approval_threshold=Decimal("2500.00"),
        )


def remove_default(apps, schema_editor):
    SlaPolicy = apps.get_model("security_works", "SlaPolicy")
    SlaPolicy.objects.filter(contract__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("security_works", "0001_security_jobs_rates_consents")]
    operations = [migrations.RunPython(create_default, remove_default)]
