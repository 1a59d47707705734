"""Risk tools as versioned questionnaires (DASH RIC today, DARA tomorrow), the thresholds each
authority uses, the assessments triage records, and MARAC referrals built from them."""

from __future__ import annotations

import uuid

import pghistory
from django.conf import settings
from django.db import models
from django.utils import timezone

from referrals.models.referral import Referral, RiskLevel
from safer.organisations.models import CommissioningAuthority


class RiskAnswerValue(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    NOT_KNOWN = "not_known", "Not known"


@pghistory.track()
class RiskQuestionnaire(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.SlugField(max_length=40)  # e.g. "dash-ric"
    name = models.CharField(max_length=200)
    version = models.PositiveSmallIntegerField()
    source = models.CharField(max_length=300, blank=True)
    is_current = models.BooleanField(default=False)

    class Meta:
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="risk_questionnaire_version"),
            models.UniqueConstraint(
                fields=["code"],
                condition=models.Q(is_current=True),
                name="risk_questionnaire_one_current",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


@pghistory.track()
class RiskQuestion(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    questionnaire = models.ForeignKey(
        RiskQuestionnaire, on_delete=models.CASCADE, related_name="questions"
    )
    number = models.PositiveSmallIntegerField()
    text = models.TextField()

    class Meta:
        ordering = ["questionnaire", "number"]
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "number"], name="risk_question_number")
        ]

    def __str__(self) -> str:
        return f"Q{self.number}"


@pghistory.track()
class RiskPolicy(models.Model):
    """How one authority reads a questionnaire: score bands and other MARAC grounds.

    The policy with no authority is the default for authorities without their own.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    questionnaire = models.ForeignKey(
        RiskQuestionnaire, on_delete=models.PROTECT, related_name="policies"
    )
    authority = models.ForeignKey(
        CommissioningAuthority,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Escalation: this many incidents (or crimes) within the window is a high-risk ground.
    escalation_min_incidents = models.PositiveSmallIntegerField(null=True, blank=True, default=3)
    escalation_min_crimes = models.PositiveSmallIntegerField(null=True, blank=True)
    escalation_window_days = models.PositiveSmallIntegerField(default=365)
    # A new incident within this many days of the last MARAC referral is a repeat.
    repeat_window_days = models.PositiveSmallIntegerField(default=365)
    # Some areas refer suspected honour-based abuse to MARAC automatically.
    honour_based_abuse_refers = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "risk policies"
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "authority"],
                nulls_distinct=False,
                name="risk_policy_one_per_authority",
            )
        ]

    def __str__(self) -> str:
        return f"{self.questionnaire} - {self.authority or 'default'}"


@pghistory.track()
class RiskBand(models.Model):
    """A level reached at ``min_yes`` "yes" answers. The high band's minimum is the visible
    high-risk threshold (14 in SafeLives' guidance)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    policy = models.ForeignKey(RiskPolicy, on_delete=models.CASCADE, related_name="bands")
    level = models.CharField(max_length=20, choices=RiskLevel.choices)
    min_yes = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["policy", "min_yes"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "level"], name="risk_band_level"),
            models.UniqueConstraint(fields=["policy", "min_yes"], name="risk_band_min"),
        ]

    def __str__(self) -> str:
        return f"{self.level} from {self.min_yes}"


class MaracGround(models.TextChoices):
    VISIBLE_HIGH_RISK = "visible_high_risk", "Visible high risk (score)"
    PROFESSIONAL_JUDGEMENT = "professional_judgement", "Professional judgement"
    ESCALATION = "escalation", "Escalation"
    REPEAT = "repeat", "Repeat (within a year of the last MARAC referral)"
    HONOUR_BASED_ABUSE = "honour_based_abuse", "Honour-based abuse"


def marac_ground_labels(values: list[str] | None) -> list[str]:
    """MARAC grounds by their labels ("Visible high risk (score)", not "visible_high_risk")."""
    labels = dict(MaracGround.choices)
    return [str(labels.get(value, value)) for value in values or []]


@pghistory.track()
class RiskAssessment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    referral = models.ForeignKey(
        Referral, on_delete=models.PROTECT, related_name="risk_assessments"
    )
    questionnaire = models.ForeignKey(RiskQuestionnaire, on_delete=models.PROTECT, related_name="+")
    policy = models.ForeignKey(RiskPolicy, on_delete=models.PROTECT, related_name="+")
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assessed_at = models.DateTimeField(default=timezone.now)
    completed_on = models.DateField()
    yes_count = models.PositiveSmallIntegerField()
    not_known_count = models.PositiveSmallIntegerField()
    actuarial_level = models.CharField(max_length=20, choices=RiskLevel.choices)
    professional_judgement_level = models.CharField(
        max_length=20, choices=RiskLevel.choices, blank=True
    )
    professional_judgement_reason = models.TextField(blank=True)
    incidents_in_window = models.PositiveSmallIntegerField(null=True, blank=True)
    crimes_in_window = models.PositiveSmallIntegerField(null=True, blank=True)
    honour_based_abuse = models.BooleanField(default=False)
    final_level = models.CharField(max_length=20, choices=RiskLevel.choices)
    marac_grounds = models.JSONField(default=list)  # MaracGround values

    class Meta:
        ordering = ["-assessed_at"]
        get_latest_by = "assessed_at"

    def __str__(self) -> str:
        return f"Risk assessment {str(self.id)[:8]} ({self.final_level})"

    @property
    def marac_recommended(self) -> bool:
        return bool(self.marac_grounds)

    @property
    def marac_ground_labels(self) -> list[str]:
        return marac_ground_labels(self.marac_grounds)


@pghistory.track()
class RiskAnswer(models.Model):
    id = models.BigAutoField(primary_key=True)
    assessment = models.ForeignKey(RiskAssessment, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(RiskQuestion, on_delete=models.PROTECT, related_name="+")
    answer = models.CharField(max_length=10, choices=RiskAnswerValue.choices)

    class Meta:
        ordering = ["question__number"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "question"], name="risk_answer_once")
        ]

    def __str__(self) -> str:
        return f"{self.question} {self.answer}"


@pghistory.track()
class MaracReferral(models.Model):
    """A referral to the area MARAC. It points at the assessment instead of re-asking the
    questions: the MARAC form is filled from the DASH answers already given."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="marac_referrals")
    assessment = models.ForeignKey(
        RiskAssessment, on_delete=models.PROTECT, related_name="marac_referrals"
    )
    area = models.CharField(max_length=120)
    referred_on = models.DateField()
    # The meeting it is listed for; ``heard_on`` is set only when the hearing is recorded.
    meeting_on = models.DateField(null=True, blank=True)
    heard_on = models.DateField(null=True, blank=True)
    outcome = models.TextField(blank=True)  # the outcome and action plan summary, once heard
    heard_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    grounds = models.JSONField(default=list)  # MaracGround values, from the assessment
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-referred_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(heard_on__isnull=True)
                | models.Q(heard_on__gte=models.F("referred_on")),
                name="marac_heard_after_referral",
            )
        ]

    def __str__(self) -> str:
        return f"MARAC referral {self.referred_on:%Y-%m-%d}"

    @property
    def ground_labels(self) -> list[str]:
        return marac_ground_labels(self.grounds)
