"""The team lists' indexes end with their whole order (the ``id`` tie-break), so a page is read
off the index however many cases share a date; the manager's counts per worker read a worker's
cases through indexes on the worker (issue 17). Built CONCURRENTLY: the case tables stay
writable. The older ``*_waiting_idx``, ``*_contact_due_idx`` and ``*_review_due_idx`` are
prefixes of the new list indexes, left for a later migration to drop."""

from django.conf import settings
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY

    dependencies = [
        ("casefile", "0009_household_address_trigram_index"),
        ("organisations", "0004_system_admin_contracts"),
        ("support", "0009_case_worker_due_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="adultsupportcase",
            index=models.Index(
                condition=models.Q(("status", "awaiting_allocation")),
                fields=["provider", "opened_at", "id"],
                name="adult_case_waiting_order_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="adultsupportcase",
            index=models.Index(
                condition=models.Q(
                    models.Q(("status", "closed"), _negated=True),
                    ("first_contact_at__isnull", True),
                ),
                fields=["provider", "first_contact_due_on", "id"],
                name="adult_case_contact_order_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="adultsupportcase",
            index=models.Index(
                condition=models.Q(("status", "closed"), _negated=True),
                fields=["provider", "review_due_on", "id"],
                name="adult_case_review_order_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="adultsupportcase",
            index=models.Index(
                condition=models.Q(("status", "closed"), _negated=True),
                fields=["allocated_worker", "provider"],
                name="adult_case_worker_prov_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="adultsupportcase",
            index=models.Index(
                condition=models.Q(
                    models.Q(("status", "closed"), _negated=True),
                    ("first_contact_at__isnull", True),
                ),
                fields=["allocated_worker", "first_contact_due_on"],
                name="adult_case_worker_contact_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="adultsupportcase",
            index=models.Index(
                condition=models.Q(("status", "closed"), _negated=True),
                fields=["allocated_worker", "review_due_on"],
                name="adult_case_worker_review_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="cypcase",
            index=models.Index(
                condition=models.Q(("status", "awaiting_allocation")),
                fields=["provider", "opened_at", "id"],
                name="cyp_case_waiting_order_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="cypcase",
            index=models.Index(
                condition=models.Q(
                    models.Q(("status", "closed"), _negated=True),
                    ("first_contact_at__isnull", True),
                ),
                fields=["provider", "first_contact_due_on", "id"],
                name="cyp_case_contact_order_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="cypcase",
            index=models.Index(
                condition=models.Q(("status", "closed"), _negated=True),
                fields=["provider", "review_due_on", "id"],
                name="cyp_case_review_order_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="cypcase",
            index=models.Index(
                condition=models.Q(("status", "closed"), _negated=True),
                fields=["allocated_worker", "provider"],
                name="cyp_case_worker_prov_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="cypcase",
            index=models.Index(
                condition=models.Q(
                    models.Q(("status", "closed"), _negated=True),
                    ("first_contact_at__isnull", True),
                ),
                fields=["allocated_worker", "first_contact_due_on"],
                name="cyp_case_worker_contact_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="cypcase",
            index=models.Index(
                condition=models.Q(("status", "closed"), _negated=True),
                fields=["allocated_worker", "review_due_on"],
                name="cyp_case_worker_review_idx",
            ),
        ),
    ]
