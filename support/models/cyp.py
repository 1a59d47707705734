"""The records of a child's case: sessions for each service function, the exit plan, Goal-Based
Outcomes, the child's own feedback and safeguarding concerns.

Therapeutic session notes and safeguarding details are sensitive: shown only on the case's own
pages to people who can see the case (``CypCase.visible_to``), never in lists or case events.
"""

from __future__ import annotations

import uuid

import pghistory
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from support.models.adult import SessionMode
from support.models.cases import CypCase

GBO_MAX_GOALS = 3


class ServiceFunction(models.TextChoices):
    """The three functions of the CYP service (the client's commissioning report)."""

    COORDINATION = "coordination", "Support coordination"
    ENGAGEMENT = "engagement", "Participation and engagement"
    THERAPEUTIC = "therapeutic", "Therapeutic work (one to one)"


@pghistory.track()
class CypSession(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    cyp_case = models.ForeignKey(CypCase, on_delete=models.CASCADE, related_name="sessions")
    function = models.CharField(max_length=20, choices=ServiceFunction.choices)
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
                condition=Q(duration_minutes__gte=1), name="cyp_session_duration_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_function_display()} session {self.occurred_on:%Y-%m-%d}"


@pghistory.track()
class ExitPlan(models.Model):
    """How therapeutic work will end, agreed with the child: one per case, revised in place."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    cyp_case = models.OneToOneField(CypCase, on_delete=models.CASCADE, related_name="exit_plan")
    planned_end_on = models.DateField()
    plan = models.TextField()
    agreed_with_child = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"Exit plan to {self.planned_end_on:%Y-%m-%d}"


class GoalOwner(models.TextChoices):
    CHILD = "child", "The child or young person"
    PARENT = "parent", "Parent or carer"


class GboTimePoint(models.TextChoices):
    START = "start", "Start"
    REVIEW = "review", "Review"
    END = "end", "End"


class RatedBy(models.TextChoices):
    CHILD = "child", "Child or young person"
    PARENT = "parent", "Parent or carer"
    WORKER = "worker", "Worker"


@pghistory.track()
class GboGoal(models.Model):
    """One of up to three goals agreed with the child (CORC Goal-Based Outcomes)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    cyp_case = models.ForeignKey(CypCase, on_delete=models.CASCADE, related_name="gbo_goals")
    # 1..GBO_MAX_GOALS, unique per case: the database itself refuses a fourth goal.
    number = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(GBO_MAX_GOALS)]
    )
    description = models.CharField(max_length=300)
    owner = models.CharField(max_length=10, choices=GoalOwner.choices, default=GoalOwner.CHILD)
    agreed_on = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["cyp_case", "number"], name="gbo_goal_number_unique"),
            models.CheckConstraint(
                condition=Q(number__gte=1) & Q(number__lte=GBO_MAX_GOALS),
                name="gbo_goal_at_most_three",
            ),
        ]

    def __str__(self) -> str:
        return f"Goal {self.number}"


@pghistory.track()
class GboScore(models.Model):
    """A 0-10 rating of a goal: one at the start, any number at reviews, one at the end."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    goal = models.ForeignKey(GboGoal, on_delete=models.CASCADE, related_name="scores")
    time_point = models.CharField(max_length=10, choices=GboTimePoint.choices)
    score = models.PositiveSmallIntegerField(validators=[MaxValueValidator(10)])
    rated_by = models.CharField(max_length=10, choices=RatedBy.choices)
    scored_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["scored_on", "recorded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["goal", "time_point"],
                condition=Q(time_point__in=["start", "end"]),
                name="gbo_score_one_start_one_end",
            ),
            models.CheckConstraint(condition=Q(score__lte=10), name="gbo_score_0_10"),
        ]
        indexes = [models.Index(fields=["goal", "time_point"], name="gbo_score_goal_point_idx")]

    def __str__(self) -> str:
        return f"{self.get_time_point_display()} score {self.score}"


class FeedbackMethod(models.TextChoices):
    CONVERSATION = "conversation", "Talking with the child"
    QUESTIONNAIRE = "questionnaire", "Questionnaire"
    CREATIVE = "creative", "Drawing or creative activity"
    OTHER = "other", "Other"


@pghistory.track()
class VoiceOfChild(models.Model):
    """The child's own feedback, in their words."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    cyp_case = models.ForeignKey(CypCase, on_delete=models.CASCADE, related_name="feedback")
    collected_on = models.DateField()
    time_point = models.CharField(max_length=10, choices=GboTimePoint.choices)
    method = models.CharField(max_length=20, choices=FeedbackMethod.choices)
    what_helped = models.TextField(blank=True)
    what_could_be_better = models.TextField(blank=True)
    in_their_words = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-collected_on"]
        verbose_name = "voice of the child"
        verbose_name_plural = "voice of the child"

    def __str__(self) -> str:
        return f"Feedback {self.collected_on:%Y-%m-%d}"


class ConcernCategory(models.TextChoices):
    PHYSICAL = "physical", "Physical abuse"
    EMOTIONAL = "emotional", "Emotional abuse"
    SEXUAL = "sexual", "Sexual abuse"
    NEGLECT = "neglect", "Neglect"
    EXPLOITATION = "exploitation", "Exploitation"
    OTHER = "other", "Other"


class ConcernStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


@pghistory.track()
class SafeguardingConcern(models.Model):
    """A safeguarding concern about the child, and the referral made to children's social care."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    cyp_case = models.ForeignKey(
        CypCase, on_delete=models.CASCADE, related_name="safeguarding_concerns"
    )
    raised_on = models.DateField()
    category = models.CharField(max_length=20, choices=ConcernCategory.choices)
    details = models.TextField()
    immediate_action = models.TextField(blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=ConcernStatus.choices, default=ConcernStatus.OPEN
    )
    social_care_referred_on = models.DateField(null=True, blank=True)
    social_care_reference = models.CharField(max_length=60, blank=True)
    social_care_outcome = models.TextField(blank=True)

    class Meta:
        ordering = ["-raised_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(social_care_referred_on__isnull=False) | Q(social_care_reference=""),
                name="safeguarding_reference_needs_referral_date",
            )
        ]

    def __str__(self) -> str:
        return f"Safeguarding concern {self.raised_on:%Y-%m-%d}"

    @property
    def referred_to_social_care(self) -> bool:
        return self.social_care_referred_on is not None
