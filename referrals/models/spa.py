"""The SPA's own work around a referral: its targets (per authority, as data), its attempts to
reach the survivor, and the information-and-advice contacts that never become a referral."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING

import pghistory
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.db.models import Q
from django.utils import timezone

from referrals.models.referral import Referral
from safer.access.roles import SPA_ROLES, user_roles
from safer.access.scoping import authority_scope_q
from safer.organisations.models import AgencyType, CommissioningAuthority, District

if TYPE_CHECKING:
    from safer.accounts.models import User


@pghistory.track()
class SpaPolicy(models.Model):
    """The SPA's targets for one authority (domain.md §8, configurable); the row without an
    authority is the scheme default. Read by ``referrals.sla``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    authority = models.OneToOneField(
        CommissioningAuthority,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="spa_policy",
    )
    triage_working_days = models.PositiveSmallIntegerField(
        default=2, help_text="A referral is due to be triaged within this many working days."
    )
    first_contact_working_days = models.PositiveSmallIntegerField(
        default=1,
        help_text="The first attempt to contact the survivor is due within this many working "
        "days of receipt.",
    )
    high_risk_first_contact_working_days = models.PositiveSmallIntegerField(
        default=0,
        help_text="For a high-risk referral: 0 means the same working day.",
    )
    working_day_ends_at = models.TimeField(
        default=dt.time(17, 0),
        help_text="A high-risk referral received after this time, or on a weekend or bank "
        "holiday, counts from the next working day.",
    )

    class Meta:
        verbose_name = "SPA policy"
        verbose_name_plural = "SPA policies"
        constraints = [
            models.UniqueConstraint(
                fields=["authority"], nulls_distinct=False, name="spa_policy_one_per_authority"
            )
        ]

    def __str__(self) -> str:
        return f"SPA policy for {self.authority or 'the scheme (default)'}"


class SpaContactChannel(models.TextChoices):
    """How the SPA tried to reach the survivor. The values shared with
    ``safer.casefile.models.ContactChannel`` are checked against the safe-contact rules."""

    PHONE = "phone", "Phone call"
    TEXT = "text", "Text message"
    EMAIL = "email", "Email"
    LETTER = "letter", "Letter"
    IN_PERSON = "in_person", "In person"
    VIA_REFERRER = "via_referrer", "Through the referrer"
    SAFE_THIRD_PARTY = "safe_third_party", "Through the safe third-party contact"


class SpaContactOutcome(models.TextChoices):
    SPOKE_TO_SURVIVOR = "spoke_to_survivor", "Spoke to the survivor"
    NO_ANSWER = "no_answer", "No answer"
    MESSAGE_LEFT = "message_left", "Left a message (only where the rules say it is safe)"
    UNSAFE_TO_CONTINUE = "unsafe_to_continue", "Not safe to continue: contact ended"
    SPOKE_TO_THIRD_PARTY = "spoke_to_third_party", "Spoke to the referrer or safe contact"
    WRONG_DETAILS = "wrong_details", "Wrong number or details"


@pghistory.track()
class ReferralContactAttempt(models.Model):
    """One attempt by the SPA to reach the survivor of a referral. The first one stops the
    "first contact attempt" clock (``Referral.first_contact_attempted_at``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    referral = models.ForeignKey(
        Referral, on_delete=models.PROTECT, related_name="contact_attempts"
    )
    attempted_at = models.DateTimeField()
    channel = models.CharField(max_length=20, choices=SpaContactChannel.choices)
    outcome = models.CharField(max_length=30, choices=SpaContactOutcome.choices)
    # Set when the safe-contact rules warned against the channel and the worker went ahead.
    unsafe_channel_reason = models.CharField(max_length=300, blank=True)
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-attempted_at"]
        indexes = [
            models.Index(fields=["referral", "attempted_at"], name="referral_contact_attempt_idx")
        ]

    def __str__(self) -> str:
        return f"Contact attempt {self.get_channel_display()} ({self.get_outcome_display()})"


class CallerType(models.TextChoices):
    SURVIVOR = "survivor", "Survivor"
    PROFESSIONAL = "professional", "Professional"
    FRIEND_OR_FAMILY = "friend_or_family", "Friend or family member"
    OTHER = "other", "Someone else"


class AdviceMethod(models.TextChoices):
    PHONE = "phone", "Phone"
    EMAIL = "email", "Email"
    TEXT = "text", "Text message"
    ONLINE = "online", "Web chat or online form"
    IN_PERSON = "in_person", "In person"
    OTHER = "other", "Other"


class AdviceTopic(models.TextChoices):
    SCHEME_ELIGIBILITY = "scheme_eligibility", "Whether the sanctuary scheme can help"
    HOW_TO_REFER = "how_to_refer", "How to make a referral"
    SAFETY_PLANNING = "safety_planning", "Safety planning"
    HOME_SECURITY = "home_security", "Home security"
    HOUSING_OPTIONS = "housing_options", "Housing options"
    LEGAL_OPTIONS = "legal_options", "Legal options and court orders"
    RISK_AND_MARAC = "risk_and_marac", "Risk assessment and MARAC"
    CHILDREN = "children", "Children and young people"
    SUPPORT_SERVICES = "support_services", "Support services"
    OTHER = "other", "Something else"


class Signpost(models.TextChoices):
    NATIONAL_HELPLINE = "national_helpline", "National Domestic Abuse Helpline"
    LOCAL_DA_SERVICE = "local_da_service", "Local domestic abuse service"
    POLICE = "police", "Police"
    HOUSING_OPTIONS = "housing_options", "Council housing options"
    LEGAL_ADVICE = "legal_advice", "Legal advice"
    CHILDRENS_SERVICES = "childrens_services", "Children's services"
    HEALTH = "health", "Health services"
    REFUGE = "refuge", "Refuge or other safe accommodation"
    OTHER = "other", "Other"


class AdviceContactQuerySet(models.QuerySet["AdviceContact"]):
    def visible_to(self, user: User | AnonymousUser) -> AdviceContactQuerySet:
        """SPA staff see the advice contacts of their authorities; nobody else sees any."""
        if not user_roles(user) & SPA_ROLES:
            return self.none()
        return self.filter(authority_scope_q(user))


@pghistory.track()
class AdviceContact(models.Model):
    """An information-and-advice-only contact with the SPA: someone asked for advice and no
    referral was made (domain.md §8, "information-and-advice-only contacts").

    It holds NO personal data: no name, phone number, email, address, date of birth or any
    other identifier of the caller or of anyone they spoke about. It is a count with a
    category, and stays one; the optional note says so on the form and the service refuses a
    note that contains a phone number or an email address.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    authority = models.ForeignKey(
        CommissioningAuthority, on_delete=models.PROTECT, related_name="+"
    )
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    contacted_on = models.DateField()
    caller_type = models.CharField(max_length=20, choices=CallerType.choices)
    # Only for a professional caller: the kind of agency, never its name or the person's.
    agency_type = models.CharField(max_length=20, choices=AgencyType.choices, blank=True)
    method = models.CharField(max_length=20, choices=AdviceMethod.choices)
    topics = models.JSONField(default=list)  # AdviceTopic values
    signposted_to = models.JSONField(default=list, blank=True)  # Signpost values
    duration_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = AdviceContactQuerySet.as_manager()

    class Meta:
        ordering = ["-contacted_on", "-recorded_at"]
        indexes = [
            models.Index(fields=["authority", "contacted_on"], name="advice_contact_period_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(caller_type="professional") | Q(agency_type=""),
                name="advice_contact_agency_only_for_professionals",
            )
        ]

    def __str__(self) -> str:
        return f"Advice contact {self.contacted_on:%Y-%m-%d}"
