"""Security works: jobs, the schedule of rates, surveys, installations, consents and checks.

A job points at the shared ``CaseFile`` (never at the referral). Its ``status`` moves only through
``security_works.services``; the allowed moves are ``TRANSITIONS`` below.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING

import pghistory
from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from safer.casefile.models import CaseFile, Household
from safer.concurrency import Versioned
from safer.organisations.models import CommissioningAuthority, Contract, District, Organisation

if TYPE_CHECKING:
    from safer.accounts.models import User


class JobPriority(models.TextChoices):
    EMERGENCY = "emergency", "Emergency (make safe within hours)"
    STANDARD = "standard", "Standard"


class JobStatus(models.TextChoices):
    ALLOCATED = "allocated", "Allocated"
    SURVEY_BOOKED = "survey_booked", "Survey booked"
    SURVEYED = "surveyed", "Surveyed"
    AWAITING_LANDLORD_CONSENT = "awaiting_landlord_consent", "Awaiting landlord consent"
    INSTALLATION_BOOKED = "installation_booked", "Installation booked"
    INSTALLED = "installed", "Installed"
    CHECKED = "checked", "Post-installation check done"
    COMPLETED = "completed", "Completed"
    ON_HOLD = "on_hold", "On hold"
    CANCELLED = "cancelled", "Cancelled"


CLOSED_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.CANCELLED})
OPEN_STATUSES = frozenset(JobStatus) - CLOSED_STATUSES
# States from which a job may be put on hold or cancelled ("the open states").
HOLDABLE_STATUSES = OPEN_STATUSES - {JobStatus.ON_HOLD}

# Every legal move. A revised survey or a re-booking keeps the status; resuming from hold returns
# to the status the job was in (checked in the service, not here).
TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.ALLOCATED: frozenset({JobStatus.SURVEY_BOOKED}),
    JobStatus.SURVEY_BOOKED: frozenset(
        {JobStatus.SURVEY_BOOKED, JobStatus.SURVEYED, JobStatus.AWAITING_LANDLORD_CONSENT}
    ),
    JobStatus.SURVEYED: frozenset(
        {JobStatus.SURVEYED, JobStatus.AWAITING_LANDLORD_CONSENT, JobStatus.INSTALLATION_BOOKED}
    ),
    JobStatus.AWAITING_LANDLORD_CONSENT: frozenset({JobStatus.SURVEYED}),
    JobStatus.INSTALLATION_BOOKED: frozenset({JobStatus.INSTALLATION_BOOKED, JobStatus.INSTALLED}),
    JobStatus.INSTALLED: frozenset({JobStatus.CHECKED}),
    JobStatus.CHECKED: frozenset({JobStatus.COMPLETED}),
    JobStatus.ON_HOLD: frozenset(),
    JobStatus.COMPLETED: frozenset(),
    JobStatus.CANCELLED: frozenset(),
}
for _status in HOLDABLE_STATUSES:
    TRANSITIONS[_status] = TRANSITIONS[_status] | {JobStatus.ON_HOLD, JobStatus.CANCELLED}
TRANSITIONS[JobStatus.ON_HOLD] = frozenset({JobStatus.CANCELLED})  # + the status before the hold

# Steps that keep the status, and the states they are open in. A fire-safety check from the survey
# booking (the fire and rescue service may attend the survey) until the works are fitted; a
# variation once there are surveyed works and until they are fitted.
FIRE_SAFETY_CHECK_STATUSES = frozenset(
    {
        JobStatus.SURVEY_BOOKED,
        JobStatus.SURVEYED,
        JobStatus.AWAITING_LANDLORD_CONSENT,
        JobStatus.INSTALLATION_BOOKED,
    }
)
VARIATION_STATUSES = frozenset(
    {JobStatus.SURVEYED, JobStatus.AWAITING_LANDLORD_CONSENT, JobStatus.INSTALLATION_BOOKED}
)


class HoldReason(models.TextChoices):
    AWAITING_INFORMATION = "awaiting_information", "Awaiting information"
    SURVIVOR_UNAVAILABLE = "survivor_unavailable", "Survivor unavailable or in hospital"
    NO_ACCESS = "no_access", "Unable to get access to the property"
    AWAITING_MATERIALS = "awaiting_materials", "Awaiting materials"
    SAFETY_CONCERN = "safety_concern", "Safety concern (advice from the SPA awaited)"
    OTHER = "other", "Other"


class CancellationReason(models.TextChoices):
    SURVIVOR_DECLINED = "survivor_declined", "Survivor declined the works"
    SURVIVOR_MOVED = "survivor_moved", "Survivor moved out"
    PERPETRATOR_RETURNED = "perpetrator_returned", "Perpetrator returned to the property"
    LANDLORD_REFUSED = "landlord_refused", "Landlord or owner refused consent"
    UNABLE_TO_CONTACT = "unable_to_contact", "Unable to contact the survivor"
    NOT_SAFE = "not_safe", "Not safe to remain in the property"
    NO_LONGER_NEEDED = "no_longer_needed", "Works no longer needed"
    DUPLICATE = "duplicate", "Duplicate job"
    OTHER = "other", "Other"


class SlaPolicy(models.Model):
    """Targets and thresholds for security jobs, per contract (configurable data).

    The row without a contract is the scheme default, used for jobs whose contract has none.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    contract = models.OneToOneField(
        Contract, on_delete=models.CASCADE, null=True, blank=True, related_name="sla_policy"
    )
    emergency_make_safe_hours = models.PositiveSmallIntegerField(default=24)
    survey_working_days = models.PositiveSmallIntegerField(default=5)
    installation_working_days = models.PositiveSmallIntegerField(default=10)
    amber_working_days = models.PositiveSmallIntegerField(
        default=1, help_text="A clock turns amber when due within this many working days."
    )
    approval_threshold = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("2500.00"),
        help_text="A job whose planned total exceeds this needs an SPA manager's approval.",
    )
    cost_approval_working_days = models.PositiveSmallIntegerField(
        default=2,
        db_default=2,  # rows written by older code (and replayed data migrations) get it too
        help_text="An SPA manager decides on a total above the threshold within this many "
        "working days of the request.",
    )
    variation_working_days = models.PositiveSmallIntegerField(
        default=2,
        db_default=2,  # rows written by older code (and replayed data migrations) get it too
        help_text="An SPA manager decides on a variation request within this many working days "
        "of the request.",
    )

    class Meta:
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.UniqueConstraint(
                fields=["contract"], nulls_distinct=False, name="sla_policy_one_per_contract"
            )
        ]

    def __str__(self) -> str:
        return f"SLA policy for {self.contract or 'the scheme (default)'}"


class Measure(models.Model):
    """One line of the schedule of rates. A price change is a new row with a new effective date."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.SlugField(max_length=40)
    description = models.CharField(max_length=300)
    unit = models.CharField(max_length=40, default="each")
    unit_cost = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal(0))]
    )
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)
    affects_escape_routes = models.BooleanField(
        default=False,
        help_text="Fitting it may affect a means of escape: a fire-safety check must be recorded.",
    )

    class Meta:
        ordering = ["code", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["code", "effective_from"], name="measure_unique_code_effective_from"
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_to__gte=models.F("effective_from")),
                name="measure_effective_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(unit_cost__gte=0), name="measure_unit_cost_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.description} (£{self.unit_cost} per {self.unit})"

    def is_effective_on(self, day: dt.date) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )


class SecurityJobQuerySet(models.QuerySet["SecurityJob"]):
    def open(self) -> SecurityJobQuerySet:
        return self.exclude(status__in=CLOSED_STATUSES)

    def closed(self) -> SecurityJobQuerySet:
        return self.filter(status__in=CLOSED_STATUSES)

    def by_nearest_breach(self) -> SecurityJobQuerySet:
        """Jobs whose next deadline is soonest first; jobs with no running clock last."""
        return self.order_by(models.F("next_due_at").asc(nulls_last=True), "allocated_at")

    def visible_to(self, user: User | object) -> SecurityJobQuerySet:
        """Every list of jobs starts here: see ``security_works.selectors.jobs_visible_to``."""
        from security_works.selectors import job_scope_filter

        return self.filter(job_scope_filter(user))


# ``household`` is the case file's (which never changes): no history event of its own.
@pghistory.track(exclude=["household"])
class SecurityJob(Versioned):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=20, unique=True)
    case_file = models.ForeignKey(CaseFile, on_delete=models.PROTECT, related_name="security_jobs")
    # Copied from the case file when the job is created: the returns find a household's works
    # without joining a million case files (issue 17).
    # No index of its own: it is read in hash joins, and a household is never deleted while a
    # case file (itself protecting it) exists.
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="+", editable=False, db_index=False
    )
    # Copied from the case file when the job is created: jobs are scoped and reported by them.
    authority = models.ForeignKey(
        CommissioningAuthority, on_delete=models.PROTECT, related_name="+"
    )
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, null=True, blank=True, related_name="security_jobs"
    )
    contractor = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="security_jobs"
    )
    suggested_contractor = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    allocation_override_reason = models.CharField(max_length=500, blank=True)
    priority = models.CharField(max_length=20, choices=JobPriority.choices)
    status = models.CharField(
        max_length=30, choices=JobStatus.choices, default=JobStatus.ALLOCATED, db_index=True
    )
    status_before_hold = models.CharField(max_length=30, choices=JobStatus.choices, blank=True)
    hold_reason = models.CharField(max_length=30, choices=HoldReason.choices, blank=True)
    cancellation_reason = models.CharField(
        max_length=30, choices=CancellationReason.choices, blank=True
    )
    cancellation_note = models.CharField(max_length=500, blank=True)

    allocated_at = models.DateTimeField(default=timezone.now)
    made_safe_at = models.DateTimeField(null=True, blank=True)
    survey_booked_for = models.DateTimeField(null=True, blank=True)
    surveyed_at = models.DateTimeField(null=True, blank=True)
    survivor_consent_at = models.DateTimeField(null=True, blank=True)
    landlord_consent_required = models.BooleanField(default=False)
    landlord_consent_at = models.DateTimeField(null=True, blank=True)
    installation_booked_for = models.DateTimeField(null=True, blank=True)
    installed_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    # Written by the SPA for the contractor (the only free text a contractor reads of the case):
    # how to get in, parking, dogs, a hazard at the property. Never the referral's narrative.
    access_notes = models.TextField(
        "Access and hazard notes for the contractor", blank=True, max_length=1000
    )

    # Deadlines, recomputed by the services on every transition and hold (None: no clock running
    # yet, or paused). ``next_due_at`` is the soonest deadline of a clock still running.
    make_safe_due_at = models.DateTimeField(null=True, blank=True)
    survey_due_at = models.DateTimeField(null=True, blank=True)
    installation_due_at = models.DateTimeField(null=True, blank=True)
    next_due_at = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = SecurityJobQuerySet.as_manager()

    class Meta:
        ordering = ["-allocated_at"]
        indexes = [
            models.Index(fields=["contractor", "status"], name="security_job_contractor_idx"),
            models.Index(fields=["authority", "status"], name="security_job_authority_idx"),
            # Staff search lists the newest jobs first: when a name matches most people it walks
            # this index and stops at a page (migration 0007, issue 17).
            models.Index(fields=["allocated_at"], name="security_job_allocated_idx"),
            # The job list's default (open jobs by nearest deadline) and its "due" filters.
            models.Index(
                fields=["contractor", "next_due_at"],
                condition=~Q(status__in=["completed", "cancelled"]),
                name="security_job_open_due_idx",
            ),
            models.Index(
                fields=["authority", "next_due_at"],
                condition=~Q(status__in=["completed", "cancelled"]),
                name="security_job_auth_open_due_idx",
            ),
            # The KPI clocks (reports, dashboards): a job counts in the period its clock
            # stopped or, while it runs, the period its deadline passed (issue 17).
            models.Index(fields=["made_safe_at"], name="job_made_safe_idx"),
            models.Index(
                fields=["make_safe_due_at"],
                condition=Q(made_safe_at__isnull=True),
                name="job_made_safe_due_idx",
            ),
            models.Index(fields=["surveyed_at"], name="job_surveyed_idx"),
            models.Index(
                fields=["survey_due_at"],
                condition=Q(surveyed_at__isnull=True),
                name="job_surveyed_due_idx",
            ),
            models.Index(fields=["installed_at"], name="job_installed_idx"),
            models.Index(
                fields=["installation_due_at"],
                condition=Q(installed_at__isnull=True),
                name="job_installed_due_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=JobStatus.ON_HOLD) | ~Q(status_before_hold=""),
                name="security_job_hold_remembers_status",
            ),
            models.CheckConstraint(
                condition=~Q(status=JobStatus.CANCELLED) | ~Q(cancellation_reason=""),
                name="security_job_cancellation_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED_STATUSES

    @property
    def is_emergency(self) -> bool:
        return self.priority == JobPriority.EMERGENCY


@pghistory.track()
class JobHold(models.Model):
    """One spell on hold: the clock's pause interval."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.ForeignKey(SecurityJob, on_delete=models.CASCADE, related_name="holds")
    reason = models.CharField(max_length=30, choices=HoldReason.choices)
    note = models.CharField(max_length=500, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["job"], condition=Q(ended_at__isnull=True), name="job_hold_one_open"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="job_hold_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"Hold on {self.job_id} from {self.started_at:%Y-%m-%d}"


class ApprovalKind(models.TextChoices):
    THRESHOLD = "threshold", "Job total above the approval threshold"
    VARIATION = "variation", "Variation to the surveyed works"


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", "Awaiting approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Refused"
    SUPERSEDED = "superseded", "Superseded by a revised survey"


@pghistory.track()
class CostApproval(models.Model):
    """An SPA manager's decision on a variation or on a total above the threshold."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.ForeignKey(SecurityJob, on_delete=models.CASCADE, related_name="approvals")
    kind = models.CharField(max_length=20, choices=ApprovalKind.choices)
    status = models.CharField(
        max_length=20, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING
    )
    # The job's planned total (surveyed works plus approved variations) when it was requested.
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    reason = models.CharField(max_length=1000, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    # The SPA manager's deadline for a decision (the policy's working days from the request).
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["requested_at"]
        indexes = [
            # The approvals queue in its order (most overdue first), pending ones only (partial:
            # small): the SPA manager's home reads its first rows and capped counts from it.
            models.Index(
                F("due_at").asc(nulls_last=True),
                F("requested_at").asc(),
                F("id").asc(),
                condition=Q(status="pending"),
                name="approval_pending_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"


# A revised survey deletes the old plan's lines: keep a record of those too.
@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class SurveyMeasure(models.Model):
    """A measure the survey recommends (or a variation proposes), with its price at the time."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.ForeignKey(SecurityJob, on_delete=models.CASCADE, related_name="survey_measures")
    measure = models.ForeignKey(Measure, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(
        max_digits=8, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    unit_cost = models.DecimalField(max_digits=10, decimal_places=2)
    location = models.CharField(max_length=200, blank=True, help_text="e.g. front door")
    # Set when the line came from a variation: it counts only once the variation is approved.
    variation = models.ForeignKey(
        CostApproval, on_delete=models.CASCADE, null=True, blank=True, related_name="lines"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="survey_measure_quantity_pos")
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.measure.code}"

    @property
    def line_total(self) -> Decimal:
        return (self.quantity * self.unit_cost).quantize(Decimal("0.01"))


@pghistory.track()
class InstalledMeasure(models.Model):
    """What was fitted: quantity, actual cost (the line total) and how it differs from the plan."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.ForeignKey(
        SecurityJob, on_delete=models.CASCADE, related_name="installed_measures"
    )
    measure = models.ForeignKey(Measure, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(
        max_digits=8, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    actual_cost = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal(0))]
    )
    variation_note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="installed_measure_quantity_pos"
            ),
            models.CheckConstraint(
                condition=Q(actual_cost__gte=0), name="installed_measure_cost_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.measure.code} fitted"


class DocumentKind(models.TextChoices):
    SURVEY_PHOTO = "survey_photo", "Survey photo"
    SURVEY_REPORT = "survey_report", "Survey report"
    INSTALLATION_PHOTO = "installation_photo", "Installation photo"
    LANDLORD_CONSENT = "landlord_consent", "Landlord consent evidence"
    FIRE_SAFETY = "fire_safety", "Fire-safety check record"
    OTHER = "other", "Other document"


def _document_path(instance: JobDocument, filename: str) -> str:
    # Never the uploaded name: it may carry a street or a person's name.
    return f"security_works/{instance.job_id}/{instance.id}{instance.extension}"


@pghistory.track()
class JobDocument(models.Model):
    """A photo or document, kept in private storage and served only through a checked view."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.ForeignKey(SecurityJob, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=30, choices=DocumentKind.choices)
    file = models.FileField(upload_to=_document_path, max_length=200)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    extension = models.CharField(max_length=10)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {str(self.id)[:8]}"


class ConsentMethod(models.TextChoices):
    LETTER = "letter", "Letter"
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone call"
    IN_PERSON = "in_person", "In person"
    FORM = "form", "Signed consent form"


@pghistory.track()
class LandlordConsent(models.Model):
    """The landlord's or owner's answer: who, when, how, and the evidence."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.ForeignKey(SecurityJob, on_delete=models.CASCADE, related_name="landlord_consents")
    given_by = models.CharField(max_length=200)
    given_on = models.DateField()
    method = models.CharField(max_length=20, choices=ConsentMethod.choices)
    granted = models.BooleanField()
    evidence = models.ForeignKey(
        JobDocument, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    notes = models.CharField(max_length=1000, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["recorded_at"]

    def __str__(self) -> str:
        return f"Landlord consent {'granted' if self.granted else 'refused'} on {self.given_on}"


class FireSafetyCheckKind(models.TextChoices):
    HOME_FIRE_SAFETY_VISIT = "hfsv", "Fire and rescue home fire safety visit"
    SURVEYOR_CHECK = "surveyor", "Fire-safety check by the surveyor"
    FIRE_SERVICE_ADVICE = "advice", "Written advice from the fire and rescue service"


class FireSafetyOutcome(models.TextChoices):
    PASSED = "passed", "Passed: no means of escape is blocked"
    PASSED_WITH_ADVICE = "passed_with_advice", "Passed with advice (recorded in the notes)"
    FAILED = "failed", "Failed: the works would block a means of escape"

    @classmethod
    def passes(cls, value: str) -> bool:
        return value in (cls.PASSED, cls.PASSED_WITH_ADVICE)


@pghistory.track()
class FireSafetyCheck(models.Model):
    """Recorded for measures that may affect a means of escape, before they are fitted.

    The fire and rescue service can only advise in a private home; the landlord or owner decides.
    So the record says who carried the check out, when, what kind it was (a home fire safety
    visit counts) and its outcome; the latest check decides whether the job may be booked.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.ForeignKey(
        SecurityJob, on_delete=models.CASCADE, related_name="fire_safety_checks"
    )
    kind = models.CharField(max_length=20, choices=FireSafetyCheckKind.choices)
    carried_out_by = models.CharField(
        max_length=200, blank=True, help_text="Name and organisation of whoever did the check."
    )
    carried_out_on = models.DateField()
    outcome = models.CharField(max_length=30, choices=FireSafetyOutcome.choices)
    notes = models.CharField(max_length=1000, blank=True)
    document = models.ForeignKey(
        "JobDocument", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["recorded_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.carried_out_on}"


class FeelsSafer(models.TextChoices):
    """ "Do you feel safer in your home?" — five points, best first."""

    MUCH_SAFER = "much_safer", "Yes, much safer"
    A_LITTLE_SAFER = "a_little_safer", "Yes, a little safer"
    NO_DIFFERENT = "no_different", "No different"
    A_LITTLE_LESS_SAFE = "a_little_less_safe", "A little less safe"
    MUCH_LESS_SAFE = "much_less_safe", "Much less safe"

    @classmethod
    def counts_as_safer(cls, value: str) -> bool:
        return value in (cls.MUCH_SAFER, cls.A_LITTLE_SAFER)


@pghistory.track()
class PostInstallationCheck(models.Model):
    """The check after fitting, with the survivor's answer for the "feeling safer" KPI."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.OneToOneField(
        SecurityJob, on_delete=models.CASCADE, related_name="post_installation_check"
    )
    checked_on = models.DateField()
    measures_working = models.BooleanField()
    # Blank when the survivor chose not to answer.
    feels_safer = models.CharField(max_length=30, choices=FeelsSafer.choices, blank=True)
    comments = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Post-installation check on {self.checked_on}"
