"""Who commissions, who provides and where: authorities, districts, organisations and teams."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.db import models


class CommissioningAuthority(models.Model):
    """A tier-one council with its own Part 4 duty (e.g. Kent County Council, Medway Council)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "commissioning authorities"

    def __str__(self) -> str:
        return self.name


class District(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    authority = models.ForeignKey(
        CommissioningAuthority, on_delete=models.PROTECT, related_name="districts"
    )
    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    # Census 2021 usual residents, for rates per 10,000 people (configurable data, not code).
    population = models.PositiveIntegerField(null=True, blank=True)
    # Postcode outward codes that fall wholly inside this district (space separated), used to
    # pre-select the district; an outward code shared by several districts is left for the user.
    outward_codes = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "name"], name="district_unique_name_per_authority"
            )
        ]

    def __str__(self) -> str:
        return self.name


class OrganisationKind(models.TextChoices):
    COUNCIL = "council", "Commissioning council"
    SPA_PROVIDER = "spa_provider", "Single Point of Access provider"
    SECURITY_CONTRACTOR = "security_contractor", "Security works contractor"
    ADULT_SUPPORT = "adult_support", "Adult support provider"
    CYP_SUPPORT = "cyp_support", "Children and young people provider"
    ACCOMMODATION = "accommodation", "Refuge or accommodation provider"
    REFERRING_AGENCY = "referring_agency", "Referring agency"


class AgencyType(models.TextChoices):
    POLICE = "police", "Police"
    IDVA = "idva", "IDVA service"
    HOUSING = "housing", "Housing"
    SOCIAL_CARE = "social_care", "Social care"
    HEALTH = "health", "Health"
    EDUCATION = "education", "Education"
    VOLUNTARY = "voluntary", "Voluntary sector"
    OTHER = "other", "Other"


class Organisation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=30, choices=OrganisationKind.choices)
    agency_type = models.CharField(max_length=20, choices=AgencyType.choices, blank=True)
    # The authorities whose cases this organisation's staff may work on.
    authorities = models.ManyToManyField(
        CommissioningAuthority, related_name="organisations", blank=True
    )
    # For security contractors: the districts they cover (used to suggest an allocation).
    districts_covered = models.ManyToManyField(District, related_name="contractors", blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["organisation__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="team_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.organisation} — {self.name}"


class ServiceElement(models.TextChoices):
    SECURITY = "security", "Property security"
    SPA = "spa", "Single Point of Access"
    ADULT_SUPPORT = "adult_support", "Adult support"
    CYP = "cyp", "Children and young people"


class Contract(models.Model):
    """A commissioned contract: who provides which service element, for how long, for how much.

    Shared by security works (which job is bought under which contract) and reporting (spend
    against budget). The initial term runs from ``start_date`` to ``end_date`` and is worth
    ``value_per_year`` a contract year; each extension exercised is a ``ContractExtension`` row
    (exercised on, new end date, value added), so the contract's current end and value derive
    from them. A period's budget is pro-rated by days: within each contract year of the initial
    term, then within each extension's span (see ``budget_between``), so two full years of
    £400,000 are £800,000 exactly.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    authority = models.ForeignKey(
        CommissioningAuthority, on_delete=models.PROTECT, related_name="contracts"
    )
    provider = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="contracts")
    service_element = models.CharField(max_length=20, choices=ServiceElement.choices)
    reference = models.CharField(max_length=60, unique=True)
    title = models.CharField(max_length=200, blank=True)
    start_date = models.DateField()
    # The end of the initial term; the extensions exercised carry the contract beyond it.
    end_date = models.DateField()
    value_per_year = models.DecimalField(max_digits=12, decimal_places=2)
    extension_options = models.PositiveSmallIntegerField(
        default=0, help_text="How many optional extensions the contract allows."
    )
    extension_years = models.PositiveSmallIntegerField(
        default=1, help_text="The length of each extension, in years."
    )

    class Meta:
        ordering = ["authority__name", "service_element", "start_date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gt=models.F("start_date")),
                name="contract_ends_after_it_starts",
            ),
            models.CheckConstraint(
                condition=models.Q(value_per_year__gte=0), name="contract_value_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.get_service_element_display()})"

    @property
    def extensions_exercised(self) -> list[ContractExtension]:
        """The extensions in the order they run (``prefetch_related("extensions")`` avoids a
        query per contract)."""
        return sorted(self.extensions.all(), key=lambda e: e.new_end_date)

    @property
    def extensions_taken(self) -> int:
        return len(self.extensions_exercised)

    @property
    def current_end_date(self) -> dt.date:
        """The end of the contract including the extensions exercised so far."""
        extensions = self.extensions_exercised
        return extensions[-1].new_end_date if extensions else self.end_date

    @property
    def maximum_end_date(self) -> dt.date:
        """The end if every remaining extension were taken."""
        remaining = max(self.extension_options - self.extensions_taken, 0)
        return _add_years(self.current_end_date, remaining * self.extension_years)

    def is_active_on(self, day: dt.date) -> bool:
        return self.start_date <= day <= self.current_end_date

    def budget_between(self, start: dt.date, end: dt.date) -> Decimal:
        """The contract value for the days from ``start`` to ``end`` inclusive (within its term).

        Each contract year of the initial term is worth ``value_per_year``, pro-rated by its
        days, so a leap day makes a day slightly cheaper rather than a year dearer; each
        extension's value added is spread over its own days in the same way.
        """
        end = min(end, self.current_end_date)
        if end < max(start, self.start_date):
            return Decimal("0.00")
        total = Decimal(0)
        year_start = self.start_date
        while year_start <= min(end, self.end_date):
            next_year = _add_years(self.start_date, (year_start.year - self.start_date.year) + 1)
            lo, hi = max(start, year_start), min(end, self.end_date, next_year - dt.timedelta(1))
            if hi >= lo:
                year_days = (next_year - year_start).days
                total += self.value_per_year * Decimal((hi - lo).days + 1) / Decimal(year_days)
            year_start = next_year
        span_start = self.end_date + dt.timedelta(days=1)
        for extension in self.extensions_exercised:
            span_end = extension.new_end_date
            total += _pro_rata(extension.value_added, span_start, span_end, start, end)
            span_start = extension.new_end_date + dt.timedelta(days=1)
        return total.quantize(Decimal("0.01"))

    @property
    def total_value(self) -> Decimal:
        """The value over the current term (initial term plus extensions exercised)."""
        return self.budget_between(self.start_date, self.current_end_date)


def _pro_rata(
    value: Decimal, span_start: dt.date, span_end: dt.date, start: dt.date, end: dt.date
) -> Decimal:
    """The share of ``value`` (spread evenly over the span's days) that falls in start..end."""
    lo, hi = max(start, span_start), min(end, span_end)
    if hi < lo or span_end < span_start:
        return Decimal(0)
    return value * Decimal((hi - lo).days + 1) / Decimal((span_end - span_start).days + 1)


class ContractExtension(models.Model):
    """An optional extension exercised: the contract now runs to ``new_end_date`` and is worth
    ``value_added`` more. Written by ``contract_extension_record`` only; never changed or
    deleted (a wrong entry is a matter for the contract, not for editing history)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="extensions")
    exercised_on = models.DateField(help_text="The day the council exercised the option.")
    new_end_date = models.DateField(help_text="The day the contract now ends.")
    value_added = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="What the extension adds to the value."
    )
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["contract", "new_end_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "new_end_date"], name="contract_extension_unique_end"
            ),
            models.CheckConstraint(
                condition=models.Q(value_added__gte=0), name="contract_extension_value_not_negative"
            ),
        ]

    def __str__(self) -> str:
        end = f"{self.new_end_date:%-d %B %Y}" if self.new_end_date else "a new end date"
        return f"{self.contract.reference} extended to {end}"


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)
