"""Fill the stored next due date of every open case from its clocks (issue 17).

One set-based UPDATE per case kind, the same computation as ``support.models.due`` written out
here against the historical models (a migration must not import code that may change). Closed
cases keep NULL. The history triggers ignore the column (0007), so no event rows are written.
"""

from django.db import migrations
from django.db.models import Case, DateField, F, OuterRef, Subquery, When
from django.db.models.functions import Least


def _contact() -> Case:
    return Case(
        When(first_contact_at__isnull=True, then=F("first_contact_due_on")),
        default=None,
        output_field=DateField(),
    )


def backfill(apps, schema_editor):
    adult_case = apps.get_model("support", "AdultSupportCase")
    cyp_case = apps.get_model("support", "CypCase")
    safety_plan = apps.get_model("support", "SafetyPlan")
    support_action = apps.get_model("support", "SupportAction")
    exit_plan = apps.get_model("support", "ExitPlan")
    plan_due = safety_plan.objects.filter(adult_case=OuterRef("pk"), status="active").values(
        "review_due_on"
    )[:1]
    action_due = (
        support_action.objects.filter(
            goal__adult_case=OuterRef("pk"), done_on__isnull=True, due_on__isnull=False
        )
        .order_by("due_on")
        .values("due_on")[:1]
    )
    adult_case.objects.exclude(status="closed").update(
        next_due_on=Least(
            _contact(),
            Subquery(plan_due, output_field=DateField()),
            F("review_due_on"),
            Subquery(action_due, output_field=DateField()),
        )
    )
    exit_due = exit_plan.objects.filter(cyp_case=OuterRef("pk")).values("planned_end_on")[:1]
    cyp_case.objects.exclude(status="closed").update(
        next_due_on=Least(
            _contact(), F("review_due_on"), Subquery(exit_due, output_field=DateField())
        )
    )


def clear(apps, schema_editor):
    for name in ("AdultSupportCase", "CypCase"):
        apps.get_model("support", name).objects.update(next_due_on=None)


class Migration(migrations.Migration):
    dependencies = [("support", "0007_case_next_due_on")]

    operations = [migrations.RunPython(backfill, clear)]
