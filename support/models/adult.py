"""The records of an adult support case: needs, safety plan, support plan, sessions, outcomes.

Free-text notes here are sensitive: they are shown only on the case's own pages (never in lists,
case events or messages) to people who can see the case (``AdultSupportCase.visible_to``).
"""

from __future__ import annotations

import uuid

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from safer.concurrency import Versioned
from support.models.cases import AdultSupportCase
from support.models.config import NeedsArea

SCORE_0_10 = [MinValueValidator(0), MaxValueValidator(10)]


class NeedLevel(models.TextChoices):
    NONE = "none", "No need"
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class SessionMode(models.TextChoices):
    FACE_TO_FACE = "face_to_face", "Face to face"
    PHONE = "phone", "Phone"
    VIDEO = "video", "Video call"
    MESSAGE = "message", "Text or email"
    GROUP = "group", "Group"
    SCHOOL = "school", "At school or college"


class TimePoint(models.TextChoices):
    START = "start", "Start"
    REVIEW = "review", "Review"
    CLOSE = "close", "Close"


class AbuseType(models.TextChoices):
    """The abuse types of the SafeLives Insights outcome measures."""

    PHYSICAL = "physical", "Physical"
    SEXUAL = "sexual", "Sexual"
    HARASSMENT_STALKING = "harassment_stalking", "Harassment and stalking"
    CONTROLLING = "controlling", "Jealous and controlling behaviour (coercive control)"
    ECONOMIC = "economic", "Economic"
    EMOTIONAL = "emotional", "Emotional"


class AbuseStatus(models.TextChoices):
    STOPPED = "stopped", "Stopped"
    REDUCED = "reduced", "Reduced"
    CONTINUING = "continuing", "Continuing"
    NOT_KNOWN = "not_known", "Not known"


@pghistory.track()
class NeedsAssessment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    adult_case = models.ForeignKey(
        AdultSupportCase, on_delete=models.CASCADE, related_name="needs_assessments"
    )
    assessed_on = models.DateField()
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    summary = models.TextField(blank=True)

    class Meta:
        ordering = ["-assessed_on"]

    def __str__(self) -> str:
        return f"Needs assessment {self.assessed_on:%Y-%m-%d}"


@pghistory.track()
class NeedsAssessmentItem(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    assessment = models.ForeignKey(NeedsAssessment, on_delete=models.CASCADE, related_name="items")
    area = models.ForeignKey(NeedsArea, on_delete=models.PROTECT, related_name="+")
    level = models.CharField(max_length=10, choices=NeedLevel.choices)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["area__display_order"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "area"], name="needs_item_one_per_area")
        ]

    def __str__(self) -> str:
        return f"{self.area}: {self.get_level_display()}"


class SafetyPlanStatus(models.TextChoices):
    ACTIVE = "active", "Current"
    SUPERSEDED = "superseded", "Replaced by a newer plan"


@pghistory.track()
class SafetyPlan(models.Model):
    """The survivor's safety plan. A new plan supersedes the current one; reviews move its date."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    adult_case = models.ForeignKey(
        AdultSupportCase, on_delete=models.CASCADE, related_name="safety_plans"
    )
    agreed_on = models.DateField()
    plan = models.TextField()
    review_due_on = models.DateField()
    last_reviewed_on = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=12, choices=SafetyPlanStatus.choices, default=SafetyPlanStatus.ACTIVE
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-agreed_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["adult_case"],
                condition=Q(status="active"),
                name="safety_plan_one_current_per_case",
            )
        ]

    def __str__(self) -> str:
        return f"Safety plan {self.agreed_on:%Y-%m-%d}"


class GoalStatus(models.TextChoices):
    OPEN = "open", "Working on it"
    ACHIEVED = "achieved", "Achieved"
    DROPPED = "dropped", "No longer a goal"


@pghistory.track()
class SupportGoal(Versioned):
    """A goal of the support plan, with its actions."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    adult_case = models.ForeignKey(
        AdultSupportCase, on_delete=models.CASCADE, related_name="support_goals"
    )
    need_area = models.ForeignKey(
        NeedsArea, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    description = models.CharField(max_length=300)
    status = models.CharField(max_length=10, choices=GoalStatus.choices, default=GoalStatus.OPEN)
    created_on = models.DateField(default=timezone.localdate)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["created_on", "id"]

    def __str__(self) -> str:
        return f"Support goal {str(self.id)[:8]}"


@pghistory.track()
class SupportAction(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    goal = models.ForeignKey(SupportGoal, on_delete=models.CASCADE, related_name="actions")
    description = models.CharField(max_length=300)
    responsible = models.CharField(max_length=120, blank=True)
    due_on = models.DateField(null=True, blank=True)
    done_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["done_on", "due_on", "id"]

    def __str__(self) -> str:
        return f"Support action {str(self.id)[:8]}"


@pghistory.track()
class SessionLog(models.Model):
    """A contact or support session with the survivor."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    adult_case = models.ForeignKey(
        AdultSupportCase, on_delete=models.CASCADE, related_name="sessions"
    )
    occurred_on = models.DateField()
    mode = models.CharField(max_length=20, choices=SessionMode.choices)
    duration_minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_on", "-recorded_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=1), name="session_log_duration_positive"
            )
        ]

    def __str__(self) -> str:
        return f"Session {self.occurred_on:%Y-%m-%d}"


@pghistory.track()
class OutcomeMeasure(models.Model):
    """The outcome measures at start, review and close (the SafeLives Insights approach)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    adult_case = models.ForeignKey(
        AdultSupportCase, on_delete=models.CASCADE, related_name="outcomes"
    )
    time_point = models.CharField(max_length=10, choices=TimePoint.choices)
    recorded_on = models.DateField()
    feeling_safe = models.PositiveSmallIntegerField(validators=SCORE_0_10)
    abuse_types = ArrayField(
        models.CharField(max_length=30, choices=AbuseType.choices), default=list, blank=True
    )
    abuse_status = models.CharField(
        max_length=12, choices=AbuseStatus.choices, default=AbuseStatus.NOT_KNOWN
    )
    # A DASH re-score, when one was done, and whether the worker judges the risk reduced.
    dash_score = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(24)]
    )
    risk_reduced = models.BooleanField(null=True, blank=True)
    quality_of_life = models.PositiveSmallIntegerField(validators=SCORE_0_10)
    confidence = models.PositiveSmallIntegerField(
        validators=SCORE_0_10, help_text="Confidence to access support (0-10)."
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["recorded_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["adult_case", "time_point"],
                condition=Q(time_point__in=["start", "close"]),
                name="outcome_one_start_one_close",
            ),
            models.CheckConstraint(
                condition=Q(feeling_safe__lte=10)
                & Q(quality_of_life__lte=10)
                & Q(confidence__lte=10),
                name="outcome_scores_0_10",
            ),
            models.CheckConstraint(
                condition=Q(dash_score__isnull=True) | Q(dash_score__lte=24),
                name="outcome_dash_score_0_24",
            ),
        ]

    def __str__(self) -> str:
        return f"Outcomes at {self.get_time_point_display().lower()} ({self.recorded_on:%Y-%m-%d})"
