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
    against budget). Values are per contract year; a period's budget is pro-rated by days within
    each contract year (see ``budget_between``), so two full years of £400,000 are £800,000 exactly.
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
    # The end of the initial term; extensions taken add whole years after it.
    end_date = models.DateField()
    value_per_year = models.DecimalField(max_digits=12, decimal_places=2)
    extension_options = models.PositiveSmallIntegerField(
        default=0, help_text="How many optional extensions the contract allows."
    )
    extension_years = models.PositiveSmallIntegerField(
        default=1, help_text="The length of each extension, in years."
    )
    extensions_taken = models.PositiveSmallIntegerField(
        default=0, help_text="How many of the extensions have been taken up."
    )

    class Meta:
        ordering = ["authority__name", "service_element", "start_date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gt=models.F("start_date")),
                name="contract_ends_after_it_starts",
            ),
            models.CheckConstraint(
                condition=models.Q(extensions_taken__lte=models.F("extension_options")),
                name="contract_extensions_taken_within_options",
            ),
            models.CheckConstraint(
                condition=models.Q(value_per_year__gte=0), name="contract_value_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.get_service_element_display()})"

    @property
    def current_end_date(self) -> dt.date:
        """The end of the contract including the extensions taken so far."""
        return _add_years(self.end_date, self.extensions_taken * self.extension_years)

    @property
    def maximum_end_date(self) -> dt.date:
        """The end if every extension were taken."""
        return _add_years(self.end_date, self.extension_options * self.extension_years)

    def is_active_on(self, day: dt.date) -> bool:
        return self.start_date <= day <= self.current_end_date

    def budget_between(self, start: dt.date, end: dt.date) -> Decimal:
        """The contract value for the days from ``start`` to ``end`` inclusive (within its term).

        Each contract year is worth ``value_per_year``; a part year is pro-rated by its days, so
        a leap day makes a day slightly cheaper rather than a year dearer.
        """
        start = max(start, self.start_date)
        end = min(end, self.current_end_date)
        if end < start:
            return Decimal("0.00")
        total = Decimal(0)
        year_start = self.start_date
        while year_start <= end:
            next_year = _add_years(self.start_date, (year_start.year - self.start_date.year) + 1)
            year_end = next_year - dt.timedelta(days=1)
            lo, hi = max(start, year_start), min(end, year_end)
            if hi >= lo:
                year_days = (year_end - year_start).days + 1
                total += self.value_per_year * Decimal((hi - lo).days + 1) / Decimal(year_days)
            year_start = next_year
        return total.quantize(Decimal("0.01"))

    @property
    def total_value(self) -> Decimal:
        """The value over the current term (initial term plus extensions taken)."""
        return self.budget_between(self.start_date, self.current_end_date)


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)
