"""Configurable data of the support services (domain.md §7, §8): admin-editable tables seeded by
data migrations, never constants in code."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models

from safer.organisations.models import CommissioningAuthority


class NeedsArea(models.Model):
    """One area of an adult needs assessment (safety, housing, finances and benefits, …)."""

    code = models.SlugField(max_length=40, unique=True)
    label = models.CharField(max_length=120)
    display_order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["display_order", "label"]

    def __str__(self) -> str:
        return self.label


class ClosureReason(models.Model):
    """Why support ended (adult and CYP alike), as counted in the Part 4 return."""

    code = models.SlugField(max_length=40, unique=True)
    label = models.CharField(max_length=120)
    display_order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    requires_note = models.BooleanField(default=False)

    class Meta:
        ordering = ["display_order", "label"]

    def __str__(self) -> str:
        return self.label


class SupportPolicy(models.Model):
    """Targets and periods for support cases, per authority; the row without one is the default.

    The GBO reliable-change threshold is here because it is a local choice (2.45 is commonly
    quoted, unverified), and retention because it is the council's records policy.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    authority = models.OneToOneField(
        CommissioningAuthority,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="support_policy",
    )
    adult_contact_working_days = models.PositiveSmallIntegerField(
        default=2, help_text="First contact with an adult due within this many working days."
    )
    cyp_contact_working_days = models.PositiveSmallIntegerField(
        default=5, help_text="First contact for a child due within this many working days."
    )
    review_interval_weeks = models.PositiveSmallIntegerField(
        default=12, help_text="A case is reviewed this many weeks after contact or its last review."
    )
    safety_plan_review_weeks = models.PositiveSmallIntegerField(
        default=4, help_text="Default time to a safety plan's next review."
    )
    retention_years = models.PositiveSmallIntegerField(
        default=6, help_text="Years a closed case is kept."
    )
    cyp_retain_until_age = models.PositiveSmallIntegerField(
        default=25, help_text="A child's case is kept at least until this birthday."
    )
    gbo_reliable_change = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        default=Decimal("2.45"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="A GBO change (end - start) at or above this counts as improvement.",
    )

    class Meta:
        verbose_name = "support policy"
        verbose_name_plural = "support policies"
        constraints = [
            models.UniqueConstraint(
                fields=["authority"], nulls_distinct=False, name="support_policy_one_per_authority"
            ),
            models.CheckConstraint(
                condition=models.Q(gbo_reliable_change__gte=0),
                name="support_policy_gbo_threshold_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"Support policy for {self.authority or 'the scheme (default)'}"
