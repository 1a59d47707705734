"""Reporting: report runs and their files, and the data that shapes returns and KPIs.

What changes from year to year or council to council is data here, edited in the admin: the
return templates (sections, lines, category mappings) per financial year, KPI targets, age bands
and the small-number threshold. The figures themselves come from ``reporting.metrics``.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pghistory
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from safer.access.roles import user_roles
from safer.access.scoping import user_authorities
from safer.accounts.roles import Role
from safer.organisations.models import (
    CommissioningAuthority,
    Contract,
    Organisation,
    ServiceElement,
)
from support.models import SafeAccommodationType

if TYPE_CHECKING:
    from safer.accounts.models import User


class ReportKind(models.TextChoices):
    QUARTERLY_GRANT = "quarterly_grant", "Quarterly grant update"
    ANNUAL_RETURN = "annual_return", "Annual Part 4 return"
    CONTRACT_KPI = "contract_kpi", "Contract KPI report"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Ready"
    FAILED = "failed", "Failed"


class OutputFormat(models.TextChoices):
    XLSX = "xlsx", "Excel workbook (XLSX)"
    CSV = "csv", "CSV"
    PDF = "pdf", "PDF"


CONTENT_TYPES = {
    OutputFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    OutputFormat.CSV: "text/csv; charset=utf-8",
    OutputFormat.PDF: "application/pdf",
}

# Who may see which runs (docs/security.md): commissioners their authorities' runs without case
# references; provider managers the KPI reports of their own organisation's contracts; SPA
# managers every run of their authorities.
RUN_ROLES = frozenset({Role.COMMISSIONER, Role.PROVIDER_MANAGER, Role.SPA_MANAGER})


class ReportRunQuerySet(models.QuerySet["ReportRun"]):
    def visible_to(self, user: User | AnonymousUser) -> ReportRunQuerySet:
        roles = user_roles(user)
        if not roles & RUN_ROLES:
            return self.none()
        assert not isinstance(user, AnonymousUser)
        # Every authority of the run must be in the user's scope (a joint run needs them all).
        outside = CommissioningAuthority.objects.exclude(pk__in=user_authorities(user).values("pk"))
        in_scope = self.exclude(authorities__in=outside).filter(
            authorities__in=user_authorities(user)
        )
        reasons = Q(pk__in=[])
        if Role.SPA_MANAGER in roles:
            reasons |= Q(pk__in=in_scope.values("pk"))
        if Role.COMMISSIONER in roles:
            reasons |= Q(pk__in=in_scope.filter(includes_case_references=False).values("pk"))
        if Role.PROVIDER_MANAGER in roles and user.organisation_id is not None:
            reasons |= Q(
                pk__in=in_scope.filter(
                    kind=ReportKind.CONTRACT_KPI, contract__provider_id=user.organisation_id
                ).values("pk")
            )
        return self.filter(reasons)


class ReportRun(models.Model):
    """One request for a report and what came of it. One run id gives one set of files."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=30, choices=ReportKind.choices)
    # The request as given: {"period": "2025-26-Q1", "authority_ids": [...], "contract_id": …}.
    parameters = models.JSONField(default=dict)
    # The same, as relations, so scoping is a join rather than a JSON search.
    period_code = models.CharField(max_length=40)
    authorities = models.ManyToManyField(CommissioningAuthority, related_name="+")
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    template = models.ForeignKey(
        "ReturnTemplate", on_delete=models.PROTECT, null=True, blank=True, related_name="runs"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    # Set for runs made by the schedule, so a day's second look at the schedule adds nothing.
    schedule_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    # Small numbers shown as "<5" (figures leaving the council); False for exact internal reports.
    suppressed = models.BooleanField(default=True)
    # A provider's KPI report lists breaches by case reference (never names); commissioners
    # get the copy without them.
    includes_case_references = models.BooleanField(default=False)

    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(
        default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    # The Celery task (message) id holding the claim. The same task delivered again means the
    # worker that held it died (acks_late): that delivery may take the claim over at once.
    claimed_by_task = models.CharField(max_length=64, blank=True, default="", db_default="")
    finished_at = models.DateTimeField(null=True, blank=True)
    # For staff: the exception's type and message. Users see that it failed and whom to tell.
    error = models.TextField(blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    # Which return this is a version of: the kind, period and authorities in one sortable key
    # ("annual_return|2025-26|<authority ids>"), so a re-run finds the versions before it.
    return_key = models.CharField(max_length=400, blank=True, db_default="", db_index=True)
    # Every cell of the document as produced: table, row and column codes and labels, the exact
    # value, what the published files show, and whether it is hidden (``reporting.records``).
    # Kept for restatements and for suppression across the returns already published.
    cells = models.JSONField(default=list, blank=True, db_default=[])
    cells_sha256 = models.CharField(max_length=64, blank=True, db_default="")
    # The highest history-event id of each tracked source table when the figures were read:
    # an event above it is a record entered or corrected after this run (``reporting.records``).
    record_marks = models.JSONField(default=dict, blank=True, db_default={})
    # A run of a return that was already submitted: the version it would be, the submission it
    # restates, and the cells whose published value changed (with the records behind them).
    version = models.PositiveSmallIntegerField(default=1, db_default=1)
    restates = models.ForeignKey(
        "ReturnSubmission",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="restated_by",
    )
    restatement = models.JSONField(default=dict, blank=True, db_default={})

    objects = ReportRunQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["status", "requested_at"], name="report_run_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__gte=0) & Q(progress__lte=100),
                name="report_run_progress_0_100",
            ),
            models.CheckConstraint(
                condition=~Q(status="succeeded") | Q(finished_at__isnull=False),
                name="report_run_succeeded_has_finish",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period_code} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (RunStatus.SUCCEEDED, RunStatus.FAILED)


def _output_path(instance: ReportOutput, filename: str) -> str:
    return f"reports/{instance.run_id}/{filename}"


class ReportOutput(models.Model):
    """A file a run produced, in private storage; served only by the checked download view."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    run = models.ForeignKey(ReportRun, on_delete=models.CASCADE, related_name="outputs")
    format = models.CharField(max_length=10, choices=OutputFormat.choices)
    file = models.FileField(upload_to=_output_path, max_length=300)
    filename = models.CharField(max_length=200)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["format"]
        constraints = [
            models.UniqueConstraint(fields=["run", "format"], name="report_output_one_per_format")
        ]

    def __str__(self) -> str:
        return self.filename

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[OutputFormat(self.format)]


class ReturnSubmissionQuerySet(models.QuerySet["ReturnSubmission"]):
    def visible_to(self, user: User | AnonymousUser) -> ReturnSubmissionQuerySet:
        """Commissioners and auditors of every authority of the return; nobody else."""
        if not user_roles(user) & SUBMISSION_ROLES:
            return self.none()
        assert not isinstance(user, AnonymousUser)
        outside = CommissioningAuthority.objects.exclude(pk__in=user_authorities(user).values("pk"))
        return (
            self.exclude(run__authorities__in=outside)
            .filter(run__authorities__in=user_authorities(user))
            .distinct()
        )


SUBMISSION_ROLES = frozenset({Role.COMMISSIONER, Role.AUDITOR})


@pghistory.track()
class ReturnSubmission(models.Model):
    """A return as sent: who sent it, when and to whom, with its cells and files frozen.

    Append-only: made by ``return_submission_record`` and never changed or deleted. The hashes
    let anyone check later that the files and figures are those that were sent; a later run of
    the same return is a new version that lists what it restates (``ReportRun.restatement``).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    run = models.OneToOneField(ReportRun, on_delete=models.PROTECT, related_name="submission")
    return_key = models.CharField(max_length=400, db_index=True)
    version = models.PositiveSmallIntegerField()
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(default=timezone.now)
    submitted_to = models.CharField(max_length=200)
    note = models.TextField(blank=True)
    cells_sha256 = models.CharField(max_length=64)
    # Format → SHA-256 of the file as submitted.
    files_sha256 = models.JSONField(default=dict)

    objects = ReturnSubmissionQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["return_key", "version"], name="return_submission_one_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.run.get_kind_display()} {self.run.period_code} version {self.version}"


# --- Configurable data --------------------------------------------------------------------------


def _default_minoritised() -> list[str]:
    # Every ONS 2021 category outside "White: British/Irish/Other White", plus Gypsy or Irish
    # Traveller and Roma (commonly counted as minoritised communities).
    return [
        "asian_bangladeshi",
        "asian_chinese",
        "asian_indian",
        "asian_pakistani",
        "asian_other",
        "black_african",
        "black_caribbean",
        "black_other",
        "mixed_white_asian",
        "mixed_white_black_african",
        "mixed_white_black_caribbean",
        "mixed_other",
        "white_gypsy_traveller",
        "white_roma",
        "other_arab",
        "other_any",
    ]


class ReportingPolicy(models.Model):
    """Local choices for reporting, per authority; the row without one is the scheme default."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    authority = models.OneToOneField(
        CommissioningAuthority,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reporting_policy",
    )
    suppression_threshold = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(1)],
        help_text='Counts from 1 up to (not including) this are shown as "<N" outside the council.',
    )
    older_age_from = models.PositiveSmallIntegerField(
        default=60, help_text="An adult this age or older counts as 'older' (specialist)."
    )
    young_age_below = models.PositiveSmallIntegerField(
        default=25, help_text="An adult younger than this counts as 'young' (specialist)."
    )
    minoritised_ethnicities = ArrayField(
        models.CharField(max_length=40),
        default=_default_minoritised,
        blank=True,
        help_text="ONS 2021 codes counted as 'Black and minoritised'.",
    )
    duplicate_decline_reasons = ArrayField(
        models.CharField(max_length=40),
        default=list,
        blank=True,
        help_text="Decline reasons meaning 'a duplicate submission': not counted as received.",
    )

    class Meta:
        verbose_name_plural = "reporting policies"
        constraints = [
            models.UniqueConstraint(
                fields=["authority"],
                nulls_distinct=False,
                name="reporting_policy_one_per_authority",
            ),
            models.CheckConstraint(
                condition=Q(suppression_threshold__gte=1), name="reporting_policy_threshold_pos"
            ),
        ]

    def __str__(self) -> str:
        return f"Reporting policy for {self.authority or 'the scheme (default)'}"


class KpiDefinition(models.Model):
    """A contract KPI: which measure (in ``reporting.metrics.kpis``), its target and RAG bands.

    The clocks themselves (start, stop, working days or hours) are the services' deadlines, set
    from their own policies (``SlaPolicy``, ``SupportPolicy``); this row says what counts as good.
    """

    code = models.SlugField(max_length=60, primary_key=True)
    label = models.CharField(max_length=200)
    service_element = models.CharField(max_length=20, choices=ServiceElement.choices)
    target_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    amber_margin = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("5.00"),
        help_text="Within this many points below target is amber; further below is red.",
    )
    lower_is_better = models.BooleanField(
        default=False, help_text="For a ceiling such as spend against the contract value."
    )
    definition = models.TextField(blank=True, help_text="How it is counted, for the notes.")
    display_order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["service_element", "display_order", "code"]
        verbose_name = "KPI definition"

    def __str__(self) -> str:
        return self.label


class KpiContractTarget(models.Model):
    """A contract's own target for a KPI, where it differs from the default."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kpi = models.ForeignKey(KpiDefinition, on_delete=models.CASCADE, related_name="overrides")
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="+")
    target_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kpi", "contract"], name="kpi_contract_target_once")
        ]

    def __str__(self) -> str:
        return f"{self.kpi_id} for {self.contract_id}: {self.target_percent}%"


class AgeBand(models.Model):
    """One band of a band set (ONS 5-year bands, or the adult bands 16-17, 18-24, …)."""

    band_set = models.SlugField(max_length=40)
    code = models.SlugField(max_length=40)
    label = models.CharField(max_length=60)
    min_age = models.PositiveSmallIntegerField()
    max_age = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Inclusive.")
    display_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["band_set", "display_order", "min_age"]
        constraints = [
            models.UniqueConstraint(fields=["band_set", "code"], name="age_band_code_unique"),
            models.CheckConstraint(
                condition=Q(max_age__isnull=True) | Q(max_age__gte=models.F("min_age")),
                name="age_band_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.band_set}: {self.label}"


class ReturnTemplate(models.Model):
    """The layout of one return for one financial year. Next year's changes are a new template
    (copy in the admin, edit the lines and mappings), never a code change."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=30, choices=ReportKind.choices)
    financial_year = models.CharField(max_length=7, help_text="e.g. 2025-26")
    title = models.CharField(max_length=200)
    notes = models.TextField(blank=True, help_text="Shown on the notes sheet of every output.")
    is_active = models.BooleanField(default=True)
    # A template made by the yearly roll-forward rather than by a person: it keeps last year's
    # lines and categories, so an administrator is asked to check it against the new guidance.
    derived_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="derivatives"
    )
    derived_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["kind", "-financial_year"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "financial_year"], name="return_template_one_per_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} {self.financial_year}"

    @property
    def needs_check(self) -> bool:
        """Derived automatically and not yet confirmed by an administrator."""
        return self.derived_from_id is not None and self.checked_at is None

    @property
    def derived_from_year(self) -> str:
        return self.derived_from.financial_year if self.derived_from else "an earlier year"


class SectionKind(models.TextChoices):
    LINES = "lines", "Lines (one figure per line and column)"
    SPEND = "spend", "Spend by contract and district against budget"
    DISTRICTS = "districts", "Referrals received by district"


class ReturnSection(models.Model):
    """One section of a return: one sheet of the workbook, one table of the PDF."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    template = models.ForeignKey(ReturnTemplate, on_delete=models.CASCADE, related_name="sections")
    code = models.SlugField(max_length=40)
    title = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=SectionKind.choices, default=SectionKind.LINES)
    description = models.TextField(blank=True)
    # Columns: [{"code": "period", "label": "This quarter", "period": "period"|"year_to_date",
    # "split": ""|"sanctuary"|"other", "total": false}]. A "total" column is the sum of the others.
    columns = models.JSONField(default=list)
    display_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["template", "display_order"]
        constraints = [
            models.UniqueConstraint(fields=["template", "code"], name="return_section_code_unique")
        ]

    def __str__(self) -> str:
        return self.title


class ReturnLine(models.Model):
    """One line: a metric family (``reporting.metrics.FAMILIES``) and the return's category.

    A line with ``is_total`` is the sum of the lines above it back to the previous total; its
    figure is computed independently and checked against that sum.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    section = models.ForeignKey(ReturnSection, on_delete=models.CASCADE, related_name="lines")
    code = models.SlugField(max_length=60)
    label = models.CharField(max_length=300)
    metric = models.CharField(max_length=60)
    category = models.CharField(max_length=60, blank=True)
    is_total = models.BooleanField(default=False)
    display_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["section", "display_order"]
        constraints = [
            models.UniqueConstraint(fields=["section", "code"], name="return_line_code_unique")
        ]

    def __str__(self) -> str:
        return self.label


class MappingDimension(models.TextChoices):
    DECLINE_REASON = "decline_reason", "Decline reason → reason could not be supported"
    CLOSURE_REASON = "closure_reason", "Support-ended reason → return reason"
    ACCOMMODATION = "accommodation", "Safe accommodation type → return type"
    ETHNICITY = "ethnicity", "ONS 2021 ethnicity → return group"
    SUPPORT_TYPE = "support_type", "SAFER support record → type of support given"


class CategoryMapping(models.Model):
    """SAFER's category (a decline reason code, an ONS code, …) → the return's category, per
    template. A SAFER category with no row is counted under the dimension's ``other`` line."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    template = models.ForeignKey(ReturnTemplate, on_delete=models.CASCADE, related_name="mappings")
    dimension = models.CharField(max_length=30, choices=MappingDimension.choices)
    source_code = models.CharField(max_length=60)
    target_code = models.CharField(max_length=60)

    class Meta:
        ordering = ["template", "dimension", "source_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "dimension", "source_code"], name="category_mapping_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dimension}: {self.source_code} → {self.target_code}"


class DashboardSnapshot(models.Model):
    """Dashboard figures computed ahead (by a Celery task) or on first view, with their time.

    ``key`` names the scope, period and filters; the payload holds aggregates only (already
    suppressed when the dashboard is a commissioner's), never a person.
    """

    key = models.CharField(max_length=300, primary_key=True)
    payload = models.JSONField(default=dict)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-computed_at"]

    def __str__(self) -> str:
        return f"{self.key} at {self.computed_at:%Y-%m-%d %H:%M}"


# --- Commissioning data (what the returns count that no case records) ---------------------------


class CommissioningQuerySet(models.QuerySet[Any]):
    """Rows of an authority: a commissioner sees their own authorities' rows; nobody else any."""

    authority_field = "authority"

    def visible_to(self, user: User | AnonymousUser) -> CommissioningQuerySet:
        if Role.COMMISSIONER not in user_roles(user):
            return self.none()
        assert not isinstance(user, AnonymousUser)
        return self.filter(**{f"{self.authority_field}__in": user_authorities(user)})


class ContractSpendQuerySet(CommissioningQuerySet):
    authority_field = "contract__authority"


@pghistory.track()
class CommissionedUnits(models.Model):
    """Units of safe accommodation an authority commissioned in a financial year, by type (the
    Part 4 return counts them). Several rows may share a type (one per provider or contract);
    the return adds them up. Corrections are edits: pghistory keeps every earlier value."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    authority = models.ForeignKey(
        CommissioningAuthority, on_delete=models.PROTECT, related_name="+"
    )
    financial_year = models.CharField(max_length=7, help_text="e.g. 2025-26")
    accommodation_type = models.CharField(max_length=20, choices=SafeAccommodationType.choices)
    units = models.PositiveIntegerField(help_text="Units (bed spaces or homes) commissioned.")
    provider = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = CommissioningQuerySet.as_manager()

    class Meta:
        ordering = ["authority__name", "-financial_year", "accommodation_type", "recorded_at"]
        verbose_name = "commissioned units"
        verbose_name_plural = "commissioned units"
        indexes = [
            models.Index(fields=["authority", "financial_year"], name="commissioned_units_year_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(financial_year__regex=r"^[0-9]{4}-[0-9]{2}$"),
                name="commissioned_units_year_format",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.units} {self.get_accommodation_type_display()} ({self.financial_year})"


@pghistory.track()
class ContractSpend(models.Model):
    """An actual payment (or invoice paid) under a support contract, for the period it covers.

    Append-only: an entry is never edited or deleted. A mistake is put right by an *adjusting
    entry* (a negative or positive amount that names the entry it ``corrects``), so a return
    already sent can be reproduced from the entries that existed then, and the ledger shows who
    changed what and when without reading the history tables. A period's spend is each entry's
    amount pro-rated by the days of its cover that fall in the period
    (``reporting.metrics.commissioning``).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField(help_text="First day of the month or quarter covered.")
    period_end = models.DateField(help_text="Last day of the month or quarter covered.")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    reference = models.CharField(max_length=60, help_text="Invoice or payment reference.")
    note = models.TextField(blank=True)
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = ContractSpendQuerySet.as_manager()

    class Meta:
        ordering = ["contract", "period_start", "recorded_at"]
        verbose_name = "contract spend entry"
        verbose_name_plural = "contract spend entries"
        indexes = [
            models.Index(
                fields=["contract", "period_start", "period_end"], name="contract_spend_period_idx"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="contract_spend_period_ordered",
            ),
            models.CheckConstraint(condition=~Q(amount=0), name="contract_spend_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: £{self.amount} ({self.period_start} to {self.period_end})"

    @property
    def days(self) -> int:
        return (self.period_end - self.period_start).days + 1
