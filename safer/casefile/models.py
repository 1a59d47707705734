"""The shared case file: one household, its people, and the case that ties every service together.

It lives in the core because every service reads it and a survivor is one person across all of
them: duplicate checks, subject access, retention and "who looked at this person" work on it.
Referrals, security jobs and support cases point at a ``CaseFile``; the case file points at none
of them.
"""

from __future__ import annotations

import uuid

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone

from safer.organisations.models import CommissioningAuthority, District


class Tenure(models.TextChoices):
    OWNER_OCCUPIER = "owner_occupier", "Owner-occupier"
    COUNCIL = "council", "Council tenant"
    HOUSING_ASSOCIATION = "housing_association", "Housing association tenant"
    PRIVATE_RENTED = "private_rented", "Private rented"
    OTHER = "other", "Other"

    @classmethod
    def needs_landlord_consent(cls, tenure: str) -> bool:
        return tenure != cls.OWNER_OCCUPIER


class TenancyHolder(models.TextChoices):
    SURVIVOR = "survivor", "The survivor"
    PERPETRATOR = "perpetrator", "The perpetrator"
    JOINT = "joint", "Joint"
    OTHER = "other", "Someone else"


@pghistory.track()
class Household(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    authority = models.ForeignKey(
        CommissioningAuthority, on_delete=models.PROTECT, related_name="+"
    )
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    address_line_1 = models.CharField(max_length=200)
    address_line_2 = models.CharField(max_length=200, blank=True)
    town = models.CharField(max_length=100)
    postcode = models.CharField(max_length=10, db_index=True)
    tenure = models.CharField(max_length=30, choices=Tenure.choices)
    tenancy_holder = models.CharField(max_length=20, choices=TenancyHolder.choices, blank=True)
    landlord_name = models.CharField(max_length=200, blank=True)
    landlord_contact = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        # Never the address: a household's label may reach a log or a page title.
        return f"Household {str(self.id)[:8]}"


class HouseholdRole(models.TextChoices):
    SURVIVOR = "survivor", "Survivor"
    CHILD = "child", "Child"
    OTHER_ADULT = "other_adult", "Other adult"


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    PREFER_NOT = "prefer_not", "Prefer not to say"
    NOT_KNOWN = "not_known", "Not known"


@pghistory.track()
class Person(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="people")
    household_role = models.CharField(max_length=20, choices=HouseholdRole.choices)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    # When only an age was given (a child's, typically), with the date it was given.
    stated_age = models.PositiveSmallIntegerField(null=True, blank=True)
    sex = models.CharField(max_length=20, choices=Sex.choices, default=Sex.NOT_KNOWN)
    gender_identity = models.CharField(max_length=100, blank=True)
    # True when gender identity differs from sex registered at birth; None when not asked/said.
    is_trans = models.BooleanField(null=True, blank=True)
    ethnicity = models.CharField(max_length=40, blank=True)  # ONS 2021 category code
    disability = models.CharField(max_length=200, blank=True)
    sexual_orientation = models.CharField(max_length=40, blank=True)
    religion = models.CharField(max_length=60, blank=True)
    preferred_language = models.CharField(max_length=60, blank=True)
    interpreter_needed = models.BooleanField(default=False)
    no_recourse_to_public_funds = models.BooleanField(null=True, blank=True)
    lives_at_address = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["family_name", "date_of_birth"], name="person_name_dob_idx")
        ]

    def __str__(self) -> str:
        return f"{self.get_household_role_display()} {str(self.id)[:8]}"


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


@pghistory.track()
class CaseFile(models.Model):
    """The case of one household in the scheme, from referral to the last service closing."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=20, unique=True)
    authority = models.ForeignKey(
        CommissioningAuthority, on_delete=models.PROTECT, related_name="+"
    )
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="case_files")
    survivor = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    safeguarding_flag = models.BooleanField(default=False)
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    retention_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        permissions = [
            ("work_on_casefile", "Can work on this case file"),
            ("view_casefile_address", "Can see this case file's address"),
        ]

    def __str__(self) -> str:
        return self.reference


class ContactChannel(models.TextChoices):
    PHONE = "phone", "Phone call"
    TEXT = "text", "Text message"
    EMAIL = "email", "Email"
    LETTER = "letter", "Letter"
    VIA_REFERRER = "via_referrer", "Through the referrer"


@pghistory.track()
class SafeContactRules(models.Model):
    """How the survivor may be contacted without alerting the perpetrator. Shown at the top of
    every case page; checked before any contact attempt and any notification."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case_file = models.OneToOneField(
        CaseFile, on_delete=models.CASCADE, related_name="safe_contact"
    )
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    safe_channels = models.JSONField(default=list)  # list of ContactChannel values
    voicemail_safe = models.BooleanField(default=False)
    text_safe = models.BooleanField(default=False)
    safe_times = models.CharField(max_length=200, blank=True)
    alternative_contact = models.CharField(max_length=300, blank=True)
    organisation_name_may_be_used = models.BooleanField(default=False)
    notes = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"Safe contact rules for {self.case_file_id}"

    def channel_is_safe(self, channel: str) -> bool:
        return channel in self.safe_channels


@pghistory.track()
class Perpetrator(models.Model):
    """Details of the person causing harm. Never shown to contractors."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case_file = models.ForeignKey(CaseFile, on_delete=models.CASCADE, related_name="perpetrators")
    name = models.CharField(max_length=200, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    relationship = models.CharField(max_length=100, blank=True)
    lives_at_address = models.BooleanField(null=True)
    has_keys = models.BooleanField(null=True)
    whereabouts_known = models.BooleanField(null=True)
    bail_or_court_orders = models.TextField(blank=True)
    police_reference = models.CharField(max_length=60, blank=True)

    def __str__(self) -> str:
        return f"Perpetrator {str(self.id)[:8]}"


class CaseEvent(models.Model):
    """The typed timeline of a case: what happened, when, by whom. Append-only.

    ``summary`` is for people and carries no personal details; ``data`` holds ids and codes.
    """

    id = models.BigAutoField(primary_key=True)
    case_file = models.ForeignKey(CaseFile, on_delete=models.PROTECT, related_name="timeline")
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    kind = models.CharField(max_length=60)
    summary = models.CharField(max_length=300)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [
            models.Index(fields=["case_file", "occurred_at"], name="case_event_timeline_idx")
        ]
        triggers = [
            pgtrigger.Protect(
                name="case_event_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} at {self.occurred_at:%Y-%m-%d %H:%M}"


class ReferenceCounter(models.Model):
    """The last number issued per prefix and year, for references like SAFER-2026-000123."""

    prefix = models.CharField(max_length=10)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prefix", "year"], name="reference_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last_number}"
