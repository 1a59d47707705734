"""A case's next due date: the soonest of its running clocks, in SQL.

The one definition of the clocks, read by the caseload (which clock a date is, for its label),
by ``support.services.common.next_due_refresh`` (which stores the date on the case, so the
caseload is sorted and cut by ``*_case_worker_due_idx``) and by the drift check that compares
the stored date with this computation (``support.selectors.caseload.next_due_drift``).

- First contact: ``first_contact_due_on`` while nobody has been reached (both kinds).
- The case review: ``review_due_on`` (both kinds).
- Adult: the current safety plan's review date; the soonest support-plan action not done.
- CYP: the exit plan's planned end of therapeutic work.

Only dates are stored: whether a date is past ("overdue") depends on today and is worked out
when the page is read. A closed case has nothing due (NULL). ``Least`` skips NULLs on
PostgreSQL, so a case with no running clock has NULL too.
"""

from __future__ import annotations

from django.db.models import Case, DateField, F, OuterRef, Subquery, Value, When
from django.db.models.functions import Least

from support.models.adult import SafetyPlan, SafetyPlanStatus, SupportAction
from support.models.cases import CLOSED, AdultSupportCase, CypCase
from support.models.cyp import ExitPlan

# What each clock means, in the order they win a tie (a field of the case, or an annotation
# of ``due_clocks``).
ADULT_DUE_LABELS = {
    "contact_due_on": "First contact",
    "safety_plan_due_on": "Safety plan review",
    "review_due_on": "Case review",
    "action_due_on": "Support plan action",
}
CYP_DUE_LABELS = {
    "contact_due_on": "First contact",
    "review_due_on": "Case review",
    "exit_due_on": "Planned end of therapeutic work",
}


def due_clocks(model: type[AdultSupportCase] | type[CypCase]) -> dict[str, Case | Subquery]:
    """The clocks of a case that are not a field of its own, as annotations."""
    contact = Case(
        When(first_contact_at__isnull=True, then=F("first_contact_due_on")),
        default=None,
        output_field=DateField(),
    )
    if model is CypCase:
        exit_due = ExitPlan.objects.filter(cyp_case=OuterRef("pk")).values("planned_end_on")[:1]
        return {
            "contact_due_on": contact,
            "exit_due_on": Subquery(exit_due, output_field=DateField()),
        }
    safety_plan = SafetyPlan.objects.filter(
        adult_case=OuterRef("pk"), status=SafetyPlanStatus.ACTIVE
    ).values("review_due_on")[:1]
    action = (
        SupportAction.objects.filter(
            goal__adult_case=OuterRef("pk"), done_on__isnull=True, due_on__isnull=False
        )
        .order_by("due_on")
        .values("due_on")[:1]
    )
    return {
        "contact_due_on": contact,
        "safety_plan_due_on": Subquery(safety_plan, output_field=DateField()),
        "action_due_on": Subquery(action, output_field=DateField()),
    }


def next_due_expression(model: type[AdultSupportCase] | type[CypCase]) -> Case:
    """The case's next due date computed from its clocks (NULL when closed or nothing runs);
    usable in ``annotate`` and in ``update`` (it refers to the case's own row only)."""
    clocks = [*due_clocks(model).values(), F("review_due_on")]
    return Case(
        When(status=CLOSED, then=Value(None, output_field=DateField())),
        default=Least(*clocks),
        output_field=DateField(),
    )


def due_labels(model: type[AdultSupportCase] | type[CypCase]) -> dict[str, str]:
    return CYP_DUE_LABELS if model is CypCase else ADULT_DUE_LABELS
