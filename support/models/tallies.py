"""Each worker's open cases and their due dates, counted as the cases change (issue 17).

A provider manager's caseload per worker (home and team pages) read each worker's open cases
and checked access to every one it counted: 45 ms of both pages at a million referrals, a
worker holding thousands. ``CaseloadTally`` holds the same figures as rows kept by a database
trigger on both case tables (migration ``support.0014``): every insert, update or delete of a
case moves its counts in the writer's own transaction, whoever writes (a service, the admin,
a data migration), so the counts never drift from the cases. A load that turns triggers off
(the bench builder's ``session_replication_role = replica``) rebuilds them after
(``support.services.tallies.caseload_tally_rebuild``); ``caseload_tally_drift`` compares.

A row counts the open cases of one provider, authority, allocated worker and kind: all of them
(``OPEN``), or those whose first contact or review falls due on ``due_on``. Whether a date is
past depends on the day the page is read, so the dates are kept and the page sums those before
today. Unallocated cases are not counted (no worker), nor closed ones. A row whose count falls
to zero is deleted.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from safer.organisations.models import CommissioningAuthority, Organisation


class TallyMeasure(models.TextChoices):
    OPEN = "open", "Open cases"
    CONTACT_DUE = "contact_due", "First contact due (nobody reached yet)"
    REVIEW_DUE = "review_due", "Case review due"


class TallyKind(models.TextChoices):
    ADULT = "adult", "Adult support"
    CYP = "cyp", "Children and young people"


class CaseloadTally(models.Model):
    provider = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    authority = models.ForeignKey(
        CommissioningAuthority, on_delete=models.CASCADE, related_name="+"
    )
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=5, choices=TallyKind.choices)
    measure = models.CharField(max_length=11, choices=TallyMeasure.choices)
    # NULL for ``OPEN``: the count of every open case, whatever is due.
    due_on = models.DateField(null=True)
    n = models.IntegerField()

    class Meta:
        constraints = [
            # The trigger's ``ON CONFLICT`` target, and the page's index (provider first).
            models.UniqueConstraint(
                fields=["provider", "authority", "worker", "kind", "measure", "due_on"],
                name="caseload_tally_key",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=models.Q(n__gte=0), name="caseload_tally_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(measure="open", due_on__isnull=True)
                | (~models.Q(measure="open") & models.Q(due_on__isnull=False)),
                name="caseload_tally_due_on_iff_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.measure} {self.due_on or ''}: {self.n}"
