"""Who commissions, who provides and where: authorities, districts, organisations and teams."""

from __future__ import annotations

import uuid

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
