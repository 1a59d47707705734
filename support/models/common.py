"""Records both case kinds keep: contact attempts and handovers.

Each belongs to exactly one case, adult or CYP (two foreign keys and a check), so a list of one
case's records is one indexed filter and no generic relation hides what a row belongs to.
"""

from __future__ import annotations

import uuid

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from safer.casefile.models import ContactChannel
from support.models.cases import AdultSupportCase, CypCase

ONE_CASE = (Q(adult_case__isnull=False) & Q(cyp_case__isnull=True)) | (
    Q(adult_case__isnull=True) & Q(cyp_case__isnull=False)
)


class ContactOutcome(models.TextChoices):
    CONTACTED = "contacted", "Spoke to them"
    NO_ANSWER = "no_answer", "No answer"
    MESSAGE_LEFT = "message_left", "Left a message"
    NOT_SAFE_TO_TALK = "not_safe_to_talk", "Not safe to talk"
    WRONG_DETAILS = "wrong_details", "Wrong number or address"
    DECLINED = "declined", "Declined support"


@pghistory.track()
class ContactAttempt(models.Model):
    """An attempt to reach the survivor (or, for a child, the parent or carer)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    adult_case = models.ForeignKey(
        AdultSupportCase,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="contact_attempts",
    )
    cyp_case = models.ForeignKey(
        CypCase, on_delete=models.CASCADE, null=True, blank=True, related_name="contact_attempts"
    )
    attempted_at = models.DateTimeField(default=timezone.now)
    channel = models.CharField(max_length=20, choices=ContactChannel.choices)
    outcome = models.CharField(max_length=20, choices=ContactOutcome.choices)
    # Set when the channel was not marked safe and the worker went ahead after the warning.
    unsafe_channel_reason = models.CharField(max_length=300, blank=True)
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-attempted_at"]
        constraints = [models.CheckConstraint(condition=ONE_CASE, name="contact_attempt_one_case")]

    def __str__(self) -> str:
        return f"Contact attempt {self.get_channel_display()} ({self.get_outcome_display()})"

    @property
    def channel_was_unsafe(self) -> bool:
        return bool(self.unsafe_channel_reason)


@pghistory.track()
class Handover(models.Model):
    """A case passed from one worker to another, with what the new worker needs to know."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    adult_case = models.ForeignKey(
        AdultSupportCase, on_delete=models.CASCADE, null=True, blank=True, related_name="handovers"
    )
    cyp_case = models.ForeignKey(
        CypCase, on_delete=models.CASCADE, null=True, blank=True, related_name="handovers"
    )
    from_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    to_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField()
    handed_over_at = models.DateTimeField(default=timezone.now)
    handed_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-handed_over_at"]
        constraints = [models.CheckConstraint(condition=ONE_CASE, name="handover_one_case")]

    def __str__(self) -> str:
        return f"Handover at {self.handed_over_at:%Y-%m-%d}"
