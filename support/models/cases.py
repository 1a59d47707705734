"""The two kinds of support case: an adult survivor's, and one child's (CYP).

Both point at the shared ``CaseFile`` (never at the referral). ``status`` moves only through
``support.services``; the legal moves are ``ADULT_TRANSITIONS`` and ``CYP_TRANSITIONS``.
Who sees which case is decided in ``support.access`` (``visible_to`` / ``workable_by``).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pghistory
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from safer.casefile.models import CaseFile, Household, Person
from safer.concurrency import Versioned
from safer.organisations.models import CommissioningAuthority, Organisation, Team
from support.models.config import ClosureReason

if TYPE_CHECKING:
    from safer.accounts.models import User

# Object permission: read a case of another service (its notes included), given by a service.
READ_SUPPORT_NOTES = "read_support_notes"


class AdultStatus(models.TextChoices):
    AWAITING_ALLOCATION = "awaiting_allocation", "Waiting for allocation"
    ALLOCATED = "allocated", "Allocated"
    IN_CONTACT = "in_contact", "In contact"
    ACTIVE = "active", "Active support"
    CLOSED = "closed", "Closed"


class CypStatus(models.TextChoices):
    AWAITING_ALLOCATION = "awaiting_allocation", "Waiting for allocation"
    ALLOCATED = "allocated", "Allocated"
    # Participation and engagement: keeping in touch until the child is ready for support.
    ENGAGEMENT = "engagement", "Participation and engagement"
    THERAPEUTIC = "therapeutic", "Therapeutic work"
    CLOSED = "closed", "Closed"


CLOSED = "closed"
AWAITING_ALLOCATION = "awaiting_allocation"

ADULT_TRANSITIONS: dict[str, frozenset[str]] = {
    AdultStatus.AWAITING_ALLOCATION: frozenset({AdultStatus.ALLOCATED, AdultStatus.CLOSED}),
    AdultStatus.ALLOCATED: frozenset(
        {AdultStatus.IN_CONTACT, AdultStatus.ACTIVE, AdultStatus.CLOSED}
    ),
    AdultStatus.IN_CONTACT: frozenset({AdultStatus.ACTIVE, AdultStatus.CLOSED}),
    AdultStatus.ACTIVE: frozenset({AdultStatus.CLOSED}),
    AdultStatus.CLOSED: frozenset(),
}

CYP_TRANSITIONS: dict[str, frozenset[str]] = {
    CypStatus.AWAITING_ALLOCATION: frozenset({CypStatus.ALLOCATED, CypStatus.CLOSED}),
    CypStatus.ALLOCATED: frozenset({CypStatus.ENGAGEMENT, CypStatus.THERAPEUTIC, CypStatus.CLOSED}),
    CypStatus.ENGAGEMENT: frozenset({CypStatus.THERAPEUTIC, CypStatus.CLOSED}),
    # A child may step back from therapeutic work and be kept in touch with.
    CypStatus.THERAPEUTIC: frozenset({CypStatus.ENGAGEMENT, CypStatus.CLOSED}),
    CypStatus.CLOSED: frozenset(),
}

# States in which a worker is allocated (transfer, contact, sessions are possible).
ADULT_ALLOCATED_STATES = frozenset(
    {AdultStatus.ALLOCATED, AdultStatus.IN_CONTACT, AdultStatus.ACTIVE}
)
CYP_ALLOCATED_STATES = frozenset({CypStatus.ALLOCATED, CypStatus.ENGAGEMENT, CypStatus.THERAPEUTIC})


class ExitOutcome(models.TextChoices):
    PLANNED_GOALS_MET = "planned_goals_met", "Planned ending: goals met"
    PLANNED_PARTLY_MET = "planned_partly_met", "Planned ending: some goals met"
    UNPLANNED = "unplanned", "Unplanned ending"


class SafeAccommodationType(models.TextChoices):
    """The safe accommodation types of the Part 4 regulations. Bed and breakfast never counts."""

    REFUGE = "refuge", "Refuge"
    SPECIALIST = "specialist", "Specialist safe accommodation"
    DISPERSED = "dispersed", "Dispersed accommodation"
    MOVE_ON = "move_on", "Second stage or move-on accommodation"
    EMERGENCY = "emergency", "Other domestic abuse emergency accommodation"
    SANCTUARY = "sanctuary", "Sanctuary scheme"


# Providers of these may refer a child directly (the others come through the SPA).
DIRECT_REFERRAL_ACCOMMODATION = (
    SafeAccommodationType.REFUGE,
    SafeAccommodationType.SPECIALIST,
    SafeAccommodationType.DISPERSED,
    SafeAccommodationType.MOVE_ON,
    SafeAccommodationType.EMERGENCY,
)


class CypSource(models.TextChoices):
    SPA = "spa", "Single Point of Access"
    DIRECT = "direct", "Direct referral by an accommodation provider"


def open_case_indexes(kind: str) -> list[models.Index]:
    """Partial indexes for the caseload and team lists, over open cases only (closed ones are
    most of the table and never listed there): a worker's open cases by date opened; an
    organisation's cases waiting for allocation, oldest first; its open cases by first-contact
    due date while not yet contacted, and by review date; a worker's open cases by next due date
    (issue 17). Each list's index ends with its whole order (the ``id`` tie-break included), so
    a page is read off the index and stops, however many cases share a date. The manager's
    counts per worker: a worker's open cases of a provider, late first contacts, late reviews.
    """
    is_open = ~models.Q(status="closed")
    no_contact = is_open & models.Q(first_contact_at__isnull=True)
    return [
        models.Index(
            fields=["allocated_worker", "opened_at"],
            name=f"{kind}_case_worker_open_idx",
            condition=is_open,
        ),
        # The three below are prefixes of the ``*_order_idx`` ones after them, kept until a
        # later migration drops them (issue 17).
        models.Index(
            fields=["provider", "opened_at"],
            name=f"{kind}_case_waiting_idx",
            condition=models.Q(status="awaiting_allocation"),
        ),
        models.Index(
            fields=["provider", "first_contact_due_on"],
            name=f"{kind}_case_contact_due_idx",
            condition=no_contact,
        ),
        models.Index(
            fields=["provider", "review_due_on"],
            name=f"{kind}_case_review_due_idx",
            condition=is_open,
        ),
        models.Index(
            fields=["provider", "opened_at", "id"],
            name=f"{kind}_case_waiting_order_idx",
            condition=models.Q(status="awaiting_allocation"),
        ),
        models.Index(
            fields=["provider", "first_contact_due_on", "id"],
            name=f"{kind}_case_contact_order_idx",
            condition=no_contact,
        ),
        models.Index(
            fields=["provider", "review_due_on", "id"],
            name=f"{kind}_case_review_order_idx",
            condition=is_open,
        ),
        # The caseload's default order (next due first), so a page is read off the index.
        models.Index(
            fields=["allocated_worker", "next_due_on", "opened_at", "id"],
            name=f"{kind}_case_worker_due_idx",
            condition=is_open,
        ),
        models.Index(
            fields=["allocated_worker", "provider"],
            name=f"{kind}_case_worker_prov_idx",
            condition=is_open,
        ),
        models.Index(
            fields=["allocated_worker", "first_contact_due_on"],
            name=f"{kind}_case_worker_contact_idx",
            condition=no_contact,
        ),
        models.Index(
            fields=["allocated_worker", "review_due_on"],
            name=f"{kind}_case_worker_review_idx",
            condition=is_open,
        ),
    ]


def reporting_case_indexes(kind: str) -> list[models.Index]:
    """For the reports and dashboards, which count a period's cases (issue 17): the KPI
    "first contact within target" counts a case in the period its first contact was made or,
    while none has been, the period its deadline passed; the exit KPIs count cases closed in the
    period. Without these each read every case of the authority."""
    return [
        models.Index(fields=["first_contact_at"], name=f"{kind}_case_contacted_idx"),
        models.Index(
            fields=["first_contact_due_on"],
            name=f"{kind}_case_contact_open_idx",
            condition=models.Q(first_contact_at__isnull=True),
        ),
        models.Index(fields=["closed_at"], name=f"{kind}_case_closed_idx"),
    ]


class SupportCaseQuerySet(models.QuerySet):
    """Shared by both case kinds. The access rules are in ``support.access``."""

    def open(self) -> SupportCaseQuerySet:
        return self.exclude(status=CLOSED)

    def visible_to(self, user: User | AnonymousUser) -> SupportCaseQuerySet:
        from support.access import support_case_scope_q

        return self.filter(support_case_scope_q(self.model, user, include_shared=True))

    def workable_by(self, user: User | AnonymousUser) -> SupportCaseQuerySet:
        """Cases the user may change: their service's own, never one only shared with them."""
        from support.access import support_case_scope_q

        return self.filter(support_case_scope_q(self.model, user, include_shared=False))


class SupportCase(Versioned):
    """What an adult case and a CYP case have in common: allocation, clocks, closure."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=20, unique=True)
    case_file = models.ForeignKey(CaseFile, on_delete=models.PROTECT, related_name="+")
    # Copied from the case file when the case opens (a case file's household never changes):
    # the returns count cases by household without joining a million case files (issue 17).
    # No index of its own: it is read in hash joins, and a household is never deleted while a
    # case file (itself protecting it) exists.
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="+", editable=False, db_index=False
    )
    # Copied from the case file: cases are scoped and reported by authority.
    authority = models.ForeignKey(
        CommissioningAuthority, on_delete=models.PROTECT, related_name="+"
    )
    provider = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    allocated_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    opened_at = models.DateTimeField(default=timezone.now)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    allocated_at = models.DateTimeField(null=True, blank=True)
    # The first-contact clock: starts at allocation, due at the end of this day (working days).
    first_contact_due_on = models.DateField(null=True, blank=True)
    first_contact_at = models.DateTimeField(null=True, blank=True)
    review_due_on = models.DateField(null=True, blank=True)
    # The soonest date of the case's running clocks (``support.models.due``), stored so the
    # caseload is sorted and cut by an index. Kept by the services that move a clock
    # (``support.services.common.next_due_refresh``), repaired nightly; NULL once closed.
    next_due_on = models.DateField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True)
    closure_reason = models.ForeignKey(
        ClosureReason, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    exit_outcome = models.CharField(max_length=30, choices=ExitOutcome.choices, blank=True)
    closure_note = models.TextField(blank=True)
    # Who closed it: they land on the closed case's summary, though a worker loses the case.
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # A planned ending needs the exit measures (adult: outcome measures at exit and every goal's
    # final status; CYP: every goal's end score) or this reason why they could not be recorded.
    exit_measures_missing_reason = models.TextField(blank=True, db_default="")
    retention_until = models.DateField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_open(self) -> bool:
        return self.status != CLOSED  # type: ignore[attr-defined]


# ``next_due_on`` is derived from the clocks, which are tracked, and ``household`` is the case
# file's: neither has a history event of its own.
@pghistory.track(exclude=["next_due_on", "household"])
class AdultSupportCase(SupportCase):
    """Specialist support for an adult survivor living in the sanctuary property."""

    survivor = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=30, choices=AdultStatus.choices, default=AdultStatus.AWAITING_ALLOCATION
    )

    objects = SupportCaseQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at"]
        permissions = [(READ_SUPPORT_NOTES, "Can read this case and its notes (shared)")]
        indexes = [
            models.Index(fields=["provider", "status"], name="adult_case_provider_status_idx"),
            models.Index(fields=["allocated_worker", "status"], name="adult_case_worker_idx"),
            # Search's newest-first list when a name matches most cases (issue 17).
            models.Index(fields=["opened_at"], name="adult_case_opened_idx"),
            *open_case_indexes("adult"),
            *reporting_case_indexes("adult"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="closed", closed_at__isnull=False)
                | (~models.Q(status="closed") & models.Q(closed_at__isnull=True)),
                name="adult_case_closed_at_iff_closed",
            ),
            models.CheckConstraint(
                condition=models.Q(status="awaiting_allocation")
                | models.Q(status="closed")
                | models.Q(allocated_worker__isnull=False),
                name="adult_case_allocated_has_worker",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


@pghistory.track(exclude=["next_due_on", "household"])
class CypCase(SupportCase):
    """Support for one child living in safe accommodation (one case per child)."""

    child = models.OneToOneField(Person, on_delete=models.PROTECT, related_name="cyp_case")
    status = models.CharField(
        max_length=30, choices=CypStatus.choices, default=CypStatus.AWAITING_ALLOCATION
    )
    source = models.CharField(max_length=10, choices=CypSource.choices, default=CypSource.SPA)
    referring_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Eligibility: the child lives in safe accommodation, of this type.
    accommodation_type = models.CharField(max_length=20, choices=SafeAccommodationType.choices)
    lives_in_safe_accommodation = models.BooleanField(default=True)
    # Support coordination: the referral has been reviewed (and eligibility confirmed or not).
    referral_reviewed_at = models.DateTimeField(null=True, blank=True)
    referral_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Why a provider referred the child directly (an SPA referral keeps its own).
    referral_note = models.TextField(blank=True)
    # Shown to CYP staff before allocation; people decide, nothing is merged.
    possible_duplicates = models.ManyToManyField("self", symmetrical=False, blank=True)

    objects = SupportCaseQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at"]
        permissions = [(READ_SUPPORT_NOTES, "Can read this case and its notes (shared)")]
        indexes = [
            models.Index(fields=["provider", "status"], name="cyp_case_provider_status_idx"),
            models.Index(fields=["allocated_worker", "status"], name="cyp_case_worker_idx"),
            # Search's newest-first list when a name matches most cases (issue 17).
            models.Index(fields=["opened_at"], name="cyp_case_opened_idx"),
            *open_case_indexes("cyp"),
            *reporting_case_indexes("cyp"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="closed", closed_at__isnull=False)
                | (~models.Q(status="closed") & models.Q(closed_at__isnull=True)),
                name="cyp_case_closed_at_iff_closed",
            ),
            models.CheckConstraint(
                condition=models.Q(status="awaiting_allocation")
                | models.Q(status="closed")
                | models.Q(allocated_worker__isnull=False),
                name="cyp_case_allocated_has_worker",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class AdultSupportCaseUserObjectPermission(UserObjectPermissionBase):
    """A read grant on one adult case to one user. Written only by ``support.services``."""

    content_object = models.ForeignKey(AdultSupportCase, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        abstract = False


class AdultSupportCaseGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(AdultSupportCase, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False


class CypCaseUserObjectPermission(UserObjectPermissionBase):
    """A read grant on one CYP case to one user. Written only by ``support.services``."""

    content_object = models.ForeignKey(CypCase, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        abstract = False


class CypCaseGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(CypCase, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False
