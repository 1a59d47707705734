"""Data protection records: the retention schedule (reference data), legal holds, retention runs
with their counts, the case files a run erased, and subject access requests.

None of these holds a survivor's details: a run counts, a hold names the case by its key and says
why, a subject access request names the person by key and keeps its export in private storage.
"""

from __future__ import annotations

import uuid

import pgtrigger
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.db.models import Q
from django.utils import timezone

from safer.access.scoping import authority_scope_q
from safer.casefile.models import CaseFile, Person
from safer.organisations.models import CommissioningAuthority


class RecordType(models.TextChoices):
    """What a retention period is set for (docs/security.md, "Retention")."""

    CLOSED_CASE = "closed_case", "Closed sanctuary case"
    CHILD_RECORD = "child_record", "A child's record"
    DECLINED_REFERRAL = "declined_referral", "Declined referral"
    ADVICE_CONTACT = "advice_contact", "Information and advice contact"


class MeasuredFrom(models.TextChoices):
    CLOSURE = "closure", "The case closing"
    BIRTH = "birth", "The child's date of birth"
    DECISION = "decision", "The decision to decline"
    NOTHING_KEPT = "nothing_kept", "Nothing personal is kept"


class RetentionRuleQuerySet(models.QuerySet["RetentionRule"]):
    def for_authority(self, authority_id: object) -> dict[str, RetentionRule]:
        """The rule for each record type: the authority's own, else the default (no authority)."""
        rules: dict[str, RetentionRule] = {}
        for rule in self.filter(Q(authority_id=authority_id) | Q(authority__isnull=True)).order_by(
            "authority_id"
        ):
            # Ordering puts NULL last in PostgreSQL: the authority's own row is seen first.
            rules.setdefault(rule.record_type, rule)
        return rules


class RetentionRule(models.Model):
    """How long one kind of record is kept, per authority (a row with no authority is the
    default). Reference data: seeded by migration, edited by the system administrator."""

    id = models.BigAutoField(primary_key=True)
    authority = models.ForeignKey(
        CommissioningAuthority,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Leave empty for the default used by every authority without its own rule.",
    )
    record_type = models.CharField(max_length=30, choices=RecordType.choices)
    measured_from = models.CharField(max_length=20, choices=MeasuredFrom.choices)
    years = models.PositiveSmallIntegerField(
        help_text="Years after the date it is measured from (for a child: the age reached)."
    )
    basis = models.CharField(
        max_length=300, blank=True, help_text="Why this period: the policy or law it follows."
    )

    objects = RetentionRuleQuerySet.as_manager()

    class Meta:
        ordering = ["authority__name", "record_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "record_type"],
                name="retention_rule_one_per_authority",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        who = self.authority.name if self.authority is not None else "Default"
        return f"{who}: {self.get_record_type_display()}"

    @property
    def period_label(self) -> str:
        if self.measured_from == MeasuredFrom.NOTHING_KEPT:
            return "Nothing personal is kept"
        if self.measured_from == MeasuredFrom.BIRTH:
            return f"Until the child is {self.years}"
        return f"{self.years} years after {self.get_measured_from_display().lower()}"


class LegalHoldQuerySet(models.QuerySet["LegalHold"]):
    def active(self) -> LegalHoldQuerySet:
        return self.filter(lifted_at__isnull=True)


class LegalHold(models.Model):
    """A hold on a case file (a claim, an inquiry, a court order): while it is on, retention does
    not erase the case however old it is. Placed and lifted by an SPA manager, with reasons."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case_file = models.ForeignKey(CaseFile, on_delete=models.PROTECT, related_name="legal_holds")
    authority = models.ForeignKey(
        CommissioningAuthority, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=500)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField(default=timezone.now)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lift_reason = models.CharField(max_length=500, blank=True)

    objects = LegalHoldQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case_file"],
                condition=Q(lifted_at__isnull=True),
                name="legal_hold_one_active_per_case",
            )
        ]

    def __str__(self) -> str:
        return f"Legal hold {str(self.id)[:8]}"


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Finished"
    FAILED = "failed", "Failed"


class RetentionRunQuerySet(models.QuerySet["RetentionRun"]):
    def visible_to_auditor(self, user: object) -> RetentionRunQuerySet:
        """Runs with a count in the auditor's authorities, or none at all (nothing was due)."""
        if isinstance(user, AnonymousUser):
            return self.none()
        scope = authority_scope_q(user, field="counts__authority")  # type: ignore[arg-type]
        return self.filter(Q(counts__isnull=True) | scope).distinct()


class RetentionRun(models.Model):
    """One pass of the retention job (or an administrator's dry run) and what it did: counts per
    authority and record type in ``RetentionRunCount``, never the data."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dry_run = models.BooleanField(default=False)
    # The scheduled run's day, so the beat task asked twice in a day does nothing more.
    schedule_key = models.CharField(max_length=40, null=True, blank=True, unique=True)
    as_of = models.DateField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.RUNNING)
    case_files = models.PositiveIntegerField(default=0)
    held = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    objects = RetentionRunQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        kind = "Dry run" if self.dry_run else "Retention run"
        return f"{kind} {self.as_of:%Y-%m-%d}"


class RetentionRunCount(models.Model):
    """How many records of one kind a run erased (or, in a dry run, would erase) for one
    authority. A count, never the records."""

    id = models.BigAutoField(primary_key=True)
    run = models.ForeignKey(RetentionRun, on_delete=models.CASCADE, related_name="counts")
    authority = models.ForeignKey(
        CommissioningAuthority, on_delete=models.PROTECT, related_name="+"
    )
    record_type = models.CharField(max_length=100)
    count = models.PositiveIntegerField()

    class Meta:
        ordering = ["authority__name", "record_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "authority", "record_type"], name="retention_count_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.record_type}: {self.count}"


class ErasedCaseFile(models.Model):
    """A case file whose personal data retention erased: the reference stays (so an auditor can
    find its trail), the people, address and notes are gone. Append-only."""

    case_file = models.OneToOneField(
        CaseFile, on_delete=models.PROTECT, primary_key=True, related_name="erasure"
    )
    authority = models.ForeignKey(
        CommissioningAuthority, on_delete=models.PROTECT, related_name="+"
    )
    run = models.ForeignKey(RetentionRun, on_delete=models.PROTECT, related_name="erased")
    erased_at = models.DateTimeField(default=timezone.now)

    class Meta:
        triggers = [
            pgtrigger.Protect(
                name="erased_case_file_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            )
        ]

    def __str__(self) -> str:
        return f"Erased {self.case_file_id}"


class SarStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    GENERATED = "generated", "Export ready for approval"
    APPROVED = "approved", "Approved for release"


class SubjectAccessRequestQuerySet(models.QuerySet["SubjectAccessRequest"]):
    def visible_to(self, user: object) -> SubjectAccessRequestQuerySet:
        """SPA managers, within the case files they see as SPA staff (docs/security.md)."""
        from safer.access.roles import user_has_role
        from safer.accounts.roles import Role

        if not user_has_role(user, Role.SPA_MANAGER):  # type: ignore[arg-type]
            return self.none()
        spa = CaseFile.objects.spa_scope_for(user)  # type: ignore[arg-type]
        return self.filter(case_file_id__in=spa.values("pk"))


def _export_path(instance: SubjectAccessRequest, filename: str) -> str:
    return f"subject_access/{instance.id}/{filename}"


class SubjectAccessRequest(models.Model):
    """A person's request for what SAFER holds about them (UK GDPR Article 15): recorded, the
    export generated, approved by a second person, then downloaded (each download logged)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case_file = models.ForeignKey(
        CaseFile, on_delete=models.PROTECT, related_name="subject_access_requests"
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    authority = models.ForeignKey(
        CommissioningAuthority, on_delete=models.PROTECT, related_name="+"
    )
    # Who asked, in words: "The survivor, by phone", "Her solicitor, with signed authority".
    requested_by_description = models.CharField(max_length=300)
    received_on = models.DateField()
    due_on = models.DateField()
    status = models.CharField(max_length=20, choices=SarStatus.choices, default=SarStatus.RECEIVED)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    generated_at = models.DateTimeField(null=True, blank=True)
    pdf = models.FileField(upload_to=_export_path, max_length=200, blank=True)
    json = models.FileField(upload_to=_export_path, max_length=200, blank=True)
    redactions = models.PositiveIntegerField(default=0)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    objects = SubjectAccessRequestQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "recorded_at"]

    def __str__(self) -> str:
        return f"Subject access request {str(self.id)[:8]}"
