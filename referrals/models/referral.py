"""The referral: what arrived through the Single Point of Access and what triage decided."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pghistory
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from safer.access.scoping import authority_scope_q
from safer.casefile.models import CaseFile, Person
from safer.concurrency import Versioned
from safer.organisations.models import AgencyType, CommissioningAuthority

if TYPE_CHECKING:
    from safer.accounts.models import User


class ReferralSource(models.TextChoices):
    PROFESSIONAL = "professional", "Professional or someone else"
    SELF = "self", "Self-referral"


class ReferralStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    IN_TRIAGE = "in_triage", "In triage"
    AWAITING_INFORMATION = "awaiting_information", "Awaiting information"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn"

    @classmethod
    def open_values(cls) -> list[str]:
        return [cls.RECEIVED, cls.IN_TRIAGE, cls.AWAITING_INFORMATION]


class RiskLevel(models.TextChoices):
    NOT_ASSESSED = "not_assessed", "Not assessed"
    STANDARD = "standard", "Standard"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


RISK_RANK: dict[str, int] = {
    RiskLevel.NOT_ASSESSED: 0,
    RiskLevel.STANDARD: 1,
    RiskLevel.MEDIUM: 2,
    RiskLevel.HIGH: 3,
}

# ``RISK_RANK`` in SQL: the triage queue sorts by it, and its priority index is built on it, so
# the queue's ORDER BY and the index's expression are this one object (they must match exactly
# for PostgreSQL to read the queue from the index).
RISK_RANK_SQL = models.Case(
    *(
        models.When(risk_level=level, then=models.Value(rank))
        for level, rank in sorted(RISK_RANK.items(), key=lambda item: -item[1])
        if rank
    ),
    default=models.Value(0),
    output_field=models.IntegerField(),
)


@pghistory.track()
class DeclineReason(models.Model):
    """Why a referral was declined. Data, not code: the list differs between areas."""

    code = models.SlugField(max_length=40, primary_key=True)
    label = models.CharField(max_length=120)
    description = models.CharField(max_length=300, blank=True)
    # Counted in "households that could not be supported" (duplicates and withdrawals are not).
    counts_as_not_supported = models.BooleanField(default=True)
    requires_note = models.BooleanField(default=False)
    # A duplicate submission: declining with it names the original, links the two and closes
    # the duplicate's case file (``referral_decline``).
    marks_duplicate = models.BooleanField(default=False, db_default=False)
    is_active = models.BooleanField(default=True)
    display_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["display_order", "label"]

    def __str__(self) -> str:
        return self.label


class ReferralQuerySet(models.QuerySet["Referral"]):
    def open(self) -> ReferralQuerySet:
        return self.filter(status__in=ReferralStatus.open_values())

    def for_authorities(self, authority_ids: list[uuid.UUID]) -> ReferralQuerySet:
        return self.filter(case_file__authority_id__in=authority_ids)

    def made_by(self, user: User) -> ReferralQuerySet:
        return self.filter(referrer_user=user)

    def visible_to(self, user: User | AnonymousUser) -> ReferralQuerySet:
        """Triage staff see the referrals of their authorities (and an SPA manager's open
        break-glass cases). A referrer's own referrals are read through ``made_by`` and show
        only their status.

        The authorities are checked on the referral's own copy of its case file's authority,
        a column of the row read, as support cases and jobs are: not "case file in every case
        file of the authority", which planned the queue and search from the authority's case
        files, probing each one's referrals (issue 17, ADR 0018). A break-glass case outside
        them is still found through its case file."""
        case_file_parts = CaseFile.objects.spa_scope_parts(user)
        if not case_file_parts:
            return self.none()
        scope = authority_scope_q(user)
        for part in case_file_parts[1:]:
            scope |= Q(case_file__in=part.values("pk"))
        return self.filter(scope)

    def visible_to_parts(self, user: User | AnonymousUser) -> list[ReferralQuerySet]:
        """``visible_to`` as disjoint parts, one per part of ``CaseFile.spa_scope_parts``: for
        counts, each planned on its own. Their union is ``visible_to(user)``. The first part,
        the user's authorities, is read by the referral's own copy of its case file's authority:
        a partial index on it holds an authority's open referrals, where the case files would
        be probed one by one (issue 17)."""
        case_file_parts = CaseFile.objects.spa_scope_parts(user)
        if not case_file_parts:
            return []
        return [
            self.filter(authority_scope_q(user)),
            *(self.filter(case_file__in=part.values("pk")) for part in case_file_parts[1:]),
        ]


# ``authority`` is the case file's, copied at intake for the scoped counts: it never changes
# on its own, so its history is the case file's.
@pghistory.track(exclude=["authority"])
class Referral(Versioned):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=20, unique=True)
    case_file = models.ForeignKey(CaseFile, on_delete=models.PROTECT, related_name="referrals")
    # The case file's authority, copied when the referral is made (a case file never moves
    # between authorities): the SPA home's queue counts read one authority's open referrals
    # from a partial index instead of probing every case file of the authority (issue 17,
    # ADR 0018). Not indexed on its own: the partial indexes below lead with it.
    authority = models.ForeignKey(
        CommissioningAuthority,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        editable=False,
    )
    source = models.CharField(max_length=20, choices=ReferralSource.choices)

    # Who referred. A referrer with an account is linked, so the portal can show them the status.
    referrer_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="referrals_made",
    )
    referrer_name = models.CharField(max_length=150, blank=True)
    referrer_organisation = models.CharField(max_length=200, blank=True)
    referrer_agency_type = models.CharField(max_length=20, choices=AgencyType.choices, blank=True)
    referrer_role = models.CharField(max_length=120, blank=True)
    referrer_email = models.EmailField(blank=True)
    referrer_phone = models.CharField(max_length=30, blank=True)

    # Consent. Without it a referral is refused unless a safeguarding override reason is given.
    consent_given = models.BooleanField()
    consent_date = models.DateField(null=True, blank=True)
    consent_method = models.CharField(max_length=20, blank=True)
    safeguarding_override_reason = models.TextField(blank=True)

    # What is asked for.
    requests_security_works = models.BooleanField(default=False)
    requests_adult_support = models.BooleanField(default=False)
    children_for_support = models.ManyToManyField(Person, related_name="+", blank=True)
    urgent = models.BooleanField(default=False)
    urgency_reason = models.TextField(blank=True)

    # Risk as the referrer reported it; triage records its own assessment (RiskAssessment).
    dash_completed = models.BooleanField(null=True, blank=True)
    dash_score = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(24)]
    )
    dash_date = models.DateField(null=True, blank=True)
    marac_referred = models.BooleanField(null=True, blank=True)
    marac_date = models.DateField(null=True, blank=True)
    other_risks = models.JSONField(default=list, blank=True)  # OtherRisk values
    # The current level: from the referrer's score at first, then from triage's assessment.
    risk_level = models.CharField(
        max_length=20, choices=RiskLevel.choices, default=RiskLevel.NOT_ASSESSED
    )

    # Triage.
    status = models.CharField(
        max_length=30, choices=ReferralStatus.choices, default=ReferralStatus.RECEIVED
    )
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    # When triage is due; None while the clock is paused (awaiting information).
    sla_due_at = models.DateTimeField(null=True, blank=True)
    triage_started_at = models.DateTimeField(null=True, blank=True)
    # The first attempt to reach the survivor (``ReferralContactAttempt``): due by the end of
    # the next working day, a high-risk referral the same working day (``referrals.sla``).
    first_contact_due_at = models.DateTimeField(null=True, blank=True)
    first_contact_attempted_at = models.DateTimeField(null=True, blank=True)
    triage_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Eligibility checklist; None = not yet checked.
    elig_resident_in_area = models.BooleanField(null=True, blank=True)
    elig_domestic_abuse = models.BooleanField(null=True, blank=True)
    elig_wishes_to_remain = models.BooleanField(null=True, blank=True)
    elig_perpetrator_not_resident = models.BooleanField(null=True, blank=True)
    elig_consent = models.BooleanField(null=True, blank=True)
    eligibility_checked_at = models.DateTimeField(null=True, blank=True)
    eligibility_checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # A repeat referral of the same person, linked by a person at triage (never automatically).
    repeat_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="repeats"
    )
    # A duplicate submission of an earlier referral, declined as such (never automatically).
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="duplicates"
    )

    # Decision.
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decline_reason = models.ForeignKey(
        DeclineReason, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_note = models.TextField(blank=True)
    # Acceptance needs a risk level assessed (the referrer's DASH score, or triage's checklist
    # with any professional judgement) and an attempt to contact the survivor; where either was
    # not possible, the reason is recorded here (``referral_accept``).
    risk_not_assessed_reason = models.TextField(blank=True, db_default="")
    no_contact_attempt_reason = models.TextField(blank=True, db_default="")
    route_security_works = models.BooleanField(default=False)
    route_adult_support = models.BooleanField(default=False)
    routed_children = models.ManyToManyField(Person, related_name="+", blank=True)

    objects = ReferralQuerySet.as_manager()

    ELIGIBILITY_FIELDS = (
        "elig_resident_in_area",
        "elig_domestic_abuse",
        "elig_wishes_to_remain",
        "elig_perpetrator_not_resident",
        "elig_consent",
    )

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["status", "urgent", "sla_due_at"], name="referral_queue_idx"),
            # Reporting counts a period's referrals by arrival and by decision (issue 17).
            models.Index(fields=["received_at"], name="referral_received_idx"),
            models.Index(fields=["decided_at"], name="referral_decided_idx"),
            # The queue's "due" filters and sorts, over open referrals only (partial: small).
            models.Index(
                fields=["sla_due_at"],
                condition=Q(status__in=["received", "in_triage", "awaiting_information"]),
                name="referral_open_due_idx",
            ),
            # The queue in its default order (urgent, risk, due, oldest): read from the index,
            # stopping at the page, instead of sorting every open referral in scope (issue 17:
            # 13,000 open referrals at a million took 0.9 s to join and sort for 50).
            models.Index(
                models.F("urgent").desc(),
                RISK_RANK_SQL.desc(),
                models.F("sla_due_at").asc(),
                models.F("received_at").asc(),
                models.F("id").asc(),
                condition=Q(status__in=["received", "in_triage", "awaiting_information"]),
                name="referral_open_priority_idx",
            ),
            models.Index(
                fields=["first_contact_due_at"],
                condition=Q(
                    status__in=["received", "in_triage", "awaiting_information"],
                    first_contact_attempted_at__isnull=True,
                ),
                name="referral_contact_due_idx",
            ),
            # The SPA home's queue counts, one authority's open referrals at a time (issue 17:
            # a national authority's 40 open referrals, not its 2,500 case files probed).
            models.Index(
                fields=["authority", "status", "sla_due_at"],
                condition=Q(status__in=["received", "in_triage", "awaiting_information"]),
                name="referral_open_authority_idx",
            ),
            models.Index(
                fields=["authority", "first_contact_due_at"],
                condition=Q(
                    status__in=["received", "in_triage", "awaiting_information"],
                    first_contact_attempted_at__isnull=True,
                ),
                name="referral_contact_authority_idx",
            ),
            # The KPI clocks (reports, dashboards): a referral counts in the period its clock
            # stopped (triage: decided, indexed above; the first contact attempt) or, while it
            # runs, the period its deadline passed (issue 17).
            models.Index(fields=["sla_due_at"], name="referral_sla_due_idx"),
            models.Index(fields=["first_contact_attempted_at"], name="referral_contacted_idx"),
            models.Index(
                fields=["first_contact_due_at"],
                condition=Q(first_contact_attempted_at__isnull=True),
                name="referral_contact_open_due_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(consent_given=True) | ~Q(safeguarding_override_reason=""),
                name="referral_consent_or_override",
            ),
            models.CheckConstraint(
                condition=~Q(status="declined") | Q(decline_reason__isnull=False),
                name="referral_declined_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in ReferralStatus.open_values()

    @property
    def other_risk_labels(self) -> list[str]:
        """The other risks reported, by their labels (stored as ``OtherRisk`` values)."""
        from referrals.choices import OtherRisk

        labels = dict(OtherRisk.choices)
        return [str(labels.get(value, value)) for value in self.other_risks or []]

    @property
    def eligibility_complete(self) -> bool:
        return all(getattr(self, name) is not None for name in self.ELIGIBILITY_FIELDS)

    @property
    def eligible(self) -> bool:
        return all(getattr(self, name) is True for name in self.ELIGIBILITY_FIELDS)


@pghistory.track()
class ReferralHold(models.Model):
    """A pause of the triage clock while information is awaited."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="holds")
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    # What was asked for and from whom: for staff, no survivor details.
    reason = models.TextField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["referral"],
                condition=Q(ended_at__isnull=True),
                name="referral_one_open_hold",
            )
        ]

    def __str__(self) -> str:
        return f"Hold on {self.referral_id} from {self.started_at:%Y-%m-%d}"


class MatchStatus(models.TextChoices):
    OPEN = "open", "To check"
    LINKED = "linked", "Linked as a repeat"
    DISMISSED = "dismissed", "Not the same person"


@pghistory.track()
class ReferralMatch(models.Model):
    """A possible earlier referral of the same person or address, for a person to decide on."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="matches")
    candidate = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="+")
    on_person = models.BooleanField(default=False)
    on_address = models.BooleanField(default=False)
    similarity = models.FloatField(default=0)
    status = models.CharField(max_length=20, choices=MatchStatus.choices, default=MatchStatus.OPEN)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-similarity"]
        constraints = [
            models.UniqueConstraint(fields=["referral", "candidate"], name="referral_match_pair")
        ]

    def __str__(self) -> str:
        return f"Possible match {self.referral_id} ~ {self.candidate_id}"


class NotificationKind(models.TextChoices):
    ACKNOWLEDGEMENT = "acknowledgement", "Acknowledgement to the referrer"
    TRIAGE_ALERT = "triage_alert", "Alert to the SPA team"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class ReferralNotification(models.Model):
    """One email about a referral, to one professional address. The row is the sent-marker that
    makes delivery idempotent: a task claims it (pending → sending) before sending."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    # A professional's address (a referrer or SPA staff), never the survivor's.
    recipient = models.EmailField()
    status = models.CharField(
        max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["referral", "kind", "recipient"], name="referral_notification_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.referral_id} ({self.status})"


class ReferralDraft(models.Model):
    """A public referral being typed: Fernet-encrypted, reachable only from its session, and
    deleted after two idle hours. Never tracked by pghistory (it would keep clear copies)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    token = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"Draft {str(self.id)[:8]}"
