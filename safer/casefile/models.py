"""The shared case file: one household, its people, and the case that ties every service together.

It lives in the core because every service reads it and a survivor is one person across all of
them: duplicate checks, subject access, retention and "who looked at this person" work on it.
Referrals, security jobs and support cases point at a ``CaseFile``; the case file points at none
of them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import OuterRef, Q
from django.db.models.functions import Lower, Upper
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from safer.access.grants import granted_q, holders_for_organisation, holders_for_person
from safer.access.probes import PerRowExists
from safer.access.request_cache import access_cached
from safer.access.roles import CASEWORK_ROLES, SPA_ROLES, user_roles
from safer.access.scoping import authority_scope_q
from safer.accounts.roles import Role
from safer.concurrency import Versioned
from safer.organisations.models import CommissioningAuthority, District
from safer.search.expressions import DigitsOnly, outward_code_key, postcode_key

if TYPE_CHECKING:
    from safer.accounts.models import User

WORK_ON_CASEFILE = "work_on_casefile"
VIEW_CASEFILE_ADDRESS = "view_casefile_address"
CASEFILE_PERMISSIONS = (WORK_ON_CASEFILE, VIEW_CASEFILE_ADDRESS)


def _trackers() -> tuple[pghistory.RowEvent, ...]:
    """Inserts, updates and deletes: a case-file record removed (by retention or by mistake)
    leaves a "Deleted" row in its history with who did it, so the trail never just stops.
    New instances for each model: a tracker binds its condition to the model it is given."""
    return (pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())


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


class CaseFileQuerySet(models.QuerySet["CaseFile"]):
    """Who sees which case files. The rules are documented in docs/security.md ("What each role
    sees"); every list of case files, and of anything hanging off one, starts here."""

    def visible_to(self, user: User | AnonymousUser, *, per_row: bool = False) -> CaseFileQuerySet:
        """``per_row`` as for ``address_visible_to``: the grants checked case file by case file,
        for a query that reads few of them (a search's page, newest first). The same rows."""
        q = _visible_q(user, per_row=per_row)
        return self.none() if q is None else self.filter(q)

    def spa_scope_for(self, user: User | AnonymousUser) -> CaseFileQuerySet:
        """Case files the user sees *as SPA staff* (everything, perpetrator details included):
        their authorities' cases, plus any open break-glass."""
        q = _spa_scope_q(user)
        return self.none() if q is None else self.filter(q)

    def spa_scope_parts(self, user: User | AnonymousUser) -> list[CaseFileQuerySet]:
        """``spa_scope_for`` as disjoint parts whose union it is: their authorities' case files,
        and for an SPA manager those open to them by break-glass outside that. A count over the
        scope counts each part apart (and adds them): the OR of the two is planned as a hash
        of every case file of the authority (a million), each part as a join of its own."""
        roles = user_roles(user)
        if not roles & SPA_ROLES:
            return []
        assert not isinstance(user, AnonymousUser)
        authorities = authority_scope_q(user)
        parts = [self.filter(authorities)]
        if Role.SPA_MANAGER in roles:
            parts.append(self.filter(_break_glass_q(user)).exclude(authorities))
        return parts

    def address_visible_to(
        self, user: User | AnonymousUser, *, per_row: bool = False
    ) -> CaseFileQuerySet:
        """Case files whose address the user may see: SPA scope, or an address grant held by
        the user, their team or their organisation (a contractor's, while its job is open).

        ``per_row``: the grants are checked for each case file the plan reads, for a filter
        that already keeps few (a postcode's households); without it they are read whole and
        hashed, better when most case files are read anyway. The same case files."""
        q = _address_visible_q(user, per_row=per_row)
        return self.none() if q is None else self.filter(q)


def _address_visible_q(user: User | AnonymousUser, *, per_row: bool) -> Q | None:
    """The filter behind ``address_visible_to`` (None: no address at all); ``per_row`` as for
    ``_visible_q``."""
    if not user.is_authenticated:
        return None
    assert not isinstance(user, AnonymousUser)
    spa = _spa_scope_q(user)
    if spa is not None:
        # SPA staff see every address of their scope, and a grant adds nothing: every reason
        # of ``visible_to`` is inside the authority scope or a break-glass, both in ``spa``.
        # A condition on the row itself, not "pk IN (every case file of the authority)" nor a
        # sub-select over the organisation's grants: a search by postcode reads the case
        # files at that postcode, whatever the size of the authority (issue 17).
        return spa
    visible = _visible_q(user, per_row=per_row)
    if visible is None:
        return None
    holders = holders_for_person(user, include_team=True, include_organisation=True)
    return visible & granted_q(CaseFile, VIEW_CASEFILE_ADDRESS, holders, per_row=per_row)


def _visible_q(user: User | AnonymousUser, *, per_row: bool) -> Q | None:
    """The filter behind ``CaseFileQuerySet.visible_to`` (None: the user sees no case file).
    ``per_row``: the grants are probed for each case file (``granted_q``), for
    ``case_file_visible_q``."""
    roles = user_roles(user)
    if not roles:
        return None
    assert not isinstance(user, AnonymousUser)  # an anonymous user holds no role
    in_scope = authority_scope_q(user)
    reasons: list[Q] = []
    if roles & SPA_ROLES:
        reasons.append(in_scope)
    if roles & CASEWORK_ROLES:
        # Support workers: allocated to them or to their team; never the whole organisation.
        holders = holders_for_person(user, include_team=True)
        reasons.append(in_scope & granted_q(CaseFile, WORK_ON_CASEFILE, holders, per_row=per_row))
    if Role.CONTRACTOR in roles:
        # A job is allocated to the contractor organisation; its staff all work on it.
        holders = holders_for_person(user, include_team=True, include_organisation=True)
        reasons.append(in_scope & granted_q(CaseFile, WORK_ON_CASEFILE, holders, per_row=per_row))
    if Role.PROVIDER_MANAGER in roles:
        holders = holders_for_organisation(user.organisation_id)
        reasons.append(in_scope & granted_q(CaseFile, WORK_ON_CASEFILE, holders, per_row=per_row))
    if Role.SPA_MANAGER in roles:
        reasons.append(_break_glass_q(user))
    if not reasons:
        # Commissioner, auditor, system administrator, referrer: no person-level record.
        return None
    return reduce(or_, reasons)


def case_file_visible_q(user: User | AnonymousUser, *, field: str = "case_file_id") -> Q:
    """A filter on a model pointing at a case file (``field``): that case file is one
    ``CaseFile.objects.visible_to(user)`` returns, checked for each row the plan reads (the case
    file by primary key, then its grants by their object index) instead of
    ``field IN (every case file the user sees)``, which is hashed whole (issue 17, see
    ``safer.access.probes``). For lists read off an index and cut by ``LIMIT``, and capped
    counts; the rows are the same.

    Built once per request for each user and ``field`` (``access_cached``): the same rule for
    both kinds of support case, each page embedding it several times (issue 17). It holds only
    the roles, authorities and grant holders read in that request; the rows are decided by the
    database at each statement."""
    if isinstance(user, AnonymousUser):
        return _case_file_visible_q(user, field)
    key = ("case_file_visible_q", user.pk, user.organisation_id, user.team_id, field)
    return access_cached(key, lambda: _case_file_visible_q(user, field))


def _case_file_visible_q(user: User | AnonymousUser, field: str) -> Q:
    q = _visible_q(user, per_row=True)
    if q is None:
        return Q(pk__in=[])
    return Q(PerRowExists(CaseFile.objects.filter(q, pk=OuterRef(field))))


def case_file_address_visible_q(user: User | AnonymousUser, *, field: str = "case_file_id") -> Q:
    """As ``case_file_visible_q``, for ``CaseFile.objects.address_visible_to(user)``: the row's
    case file is one whose address the user may see, checked row by row. A contractor's
    organisation holds a grant on every case file with a job of theirs (235,000 at a million
    referrals): checking one job's address through ``IN`` hashed them all first (1.2 s)."""
    q = _address_visible_q(user, per_row=True)
    if q is None:
        return Q(pk__in=[])
    return Q(PerRowExists(CaseFile.objects.filter(q, pk=OuterRef(field))))


def _spa_scope_q(user: User | AnonymousUser) -> Q | None:
    """The SPA staff's scope as a filter on ``CaseFile`` (None for anyone else)."""
    roles = user_roles(user)
    if not roles & SPA_ROLES:
        return None
    assert not isinstance(user, AnonymousUser)
    q = authority_scope_q(user)
    if Role.SPA_MANAGER in roles:
        q |= _break_glass_q(user)
    return q


def _break_glass_q(user: User) -> Q:
    return Q(pk__in=BreakGlassGrant.objects.active().filter(user=user).values("case_file_id"))


class HouseholdQuerySet(models.QuerySet["Household"]):
    def visible_to(self, user: User | AnonymousUser) -> HouseholdQuerySet:
        """A household *is* an address: visible only where the case file's address is."""
        visible = CaseFile.objects.address_visible_to(user).values("household_id")
        return self.filter(pk__in=visible)


class PersonQuerySet(models.QuerySet["Person"]):
    def visible_to(self, user: User | AnonymousUser) -> PersonQuerySet:
        visible = CaseFile.objects.visible_to(user).values("household_id")
        return self.filter(household_id__in=visible)


class SafeContactRulesQuerySet(models.QuerySet["SafeContactRules"]):
    def visible_to(self, user: User | AnonymousUser) -> SafeContactRulesQuerySet:
        return self.filter(case_file_id__in=CaseFile.objects.visible_to(user).values("pk"))


class PerpetratorQuerySet(models.QuerySet["Perpetrator"]):
    def visible_to(self, user: User | AnonymousUser) -> PerpetratorQuerySet:
        """SPA staff only: support workers and contractors never see the perpetrator."""
        return self.filter(case_file_id__in=CaseFile.objects.spa_scope_for(user).values("pk"))


class CaseEventQuerySet(models.QuerySet["CaseEvent"]):
    def visible_to(self, user: User | AnonymousUser) -> CaseEventQuerySet:
        return self.filter(case_file_id__in=CaseFile.objects.visible_to(user).values("pk"))


@pghistory.track(*_trackers())
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

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        # Search (safer.search): a full postcode or its outward code, any case, with or
        # without the space. The expressions are the ones the search filters on.
        indexes = [
            models.Index(postcode_key(), name="household_postcode_key_idx"),
            models.Index(outward_code_key(), name="household_outward_code_idx"),
            # Duplicate matching at submission (referrals.services.matching): the first line
            # trigram-similar (pg_trgm's ``%``) to the new referral's, within the postcode.
            GinIndex(
                OpClass(Lower("address_line_1"), name="gin_trgm_ops"),
                name="household_address_trgm",
            ),
        ]

    def __str__(self) -> str:
        # Never the address: a household's label may reach a log or a page title.
        return f"Household {str(self.id)[:8]}"

    @property
    def address_lines(self) -> list[str]:
        """The address as lines, the empty ones left out (the one address formatter: pages use
        the ``address`` filter of ``casefile`` template tags, which is built on this)."""
        parts = (self.address_line_1, self.address_line_2, self.town, self.postcode)
        return [line.strip() for line in parts if line and line.strip()]


class HouseholdRole(models.TextChoices):
    SURVIVOR = "survivor", "Survivor"
    CHILD = "child", "Child"
    OTHER_ADULT = "other_adult", "Other adult"


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    PREFER_NOT = "prefer_not", "Prefer not to say"
    NOT_KNOWN = "not_known", "Not known"


@pghistory.track(*_trackers())
class Person(Versioned):
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

    objects = PersonQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["family_name", "date_of_birth"], name="person_name_dob_idx"),
            # Search (safer.search): any part of a name (trigram, for UPPER(...) LIKE '%…%',
            # which is what icontains is), and a date of birth alone.
            GinIndex(OpClass(Upper("given_name"), name="gin_trgm_ops"), name="person_given_trgm"),
            GinIndex(OpClass(Upper("family_name"), name="gin_trgm_ops"), name="person_family_trgm"),
            models.Index(fields=["date_of_birth"], name="person_dob_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_household_role_display()} {str(self.id)[:8]}"


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


@pghistory.track(*_trackers())
class CaseFile(Versioned):
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

    objects = CaseFileQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at"]
        # Search (safer.search) lists the newest case files first: when a name matches most
        # people it walks this index and stops at a page (migration 0010, issue 17).
        indexes = [models.Index(fields=["opened_at"], name="casefile_opened_idx")]
        permissions = [
            (WORK_ON_CASEFILE, "Can work on this case file"),
            (VIEW_CASEFILE_ADDRESS, "Can see this case file's address"),
        ]

    def __str__(self) -> str:
        return self.reference


class CaseFileUserObjectPermission(UserObjectPermissionBase):
    """A guardian grant to one user. Direct foreign keys (not guardian's generic text column) so
    ``visible_to`` joins on indexed UUIDs. Written only by ``safer.access.services``."""

    content_object = models.ForeignKey(CaseFile, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        abstract = False


class CaseFileGroupObjectPermission(GroupObjectPermissionBase):
    """A guardian grant to a team or organisation (through its linked group, see
    ``safer.access.grants``). Written only by ``safer.access.services``."""

    content_object = models.ForeignKey(CaseFile, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False


class BreakGlassGrantQuerySet(models.QuerySet["BreakGlassGrant"]):
    def active(self, at: datetime | None = None) -> BreakGlassGrantQuerySet:
        return self.filter(expires_at__gt=at or timezone.now())


class BreakGlassGrant(models.Model):
    """An SPA manager's time-limited access to one case file outside their scope, with the reason
    they gave. Append-only: it ends by expiring, never by being edited; the matching access-log
    row (BREAK_GLASS, with the reason) is what the auditor sees."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    case_file = models.ForeignKey(
        CaseFile, on_delete=models.PROTECT, related_name="break_glass_grants"
    )
    reason = models.CharField(max_length=500)
    opened_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    objects = BreakGlassGrantQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["user", "expires_at"], name="break_glass_user_expiry_idx")]
        triggers = [
            pgtrigger.Protect(
                name="break_glass_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            )
        ]

    def __str__(self) -> str:
        return f"Break-glass {str(self.id)[:8]} until {self.expires_at:%Y-%m-%d %H:%M}"


class ContactChannel(models.TextChoices):
    PHONE = "phone", "Phone call"
    TEXT = "text", "Text message"
    EMAIL = "email", "Email"
    LETTER = "letter", "Letter"
    VIA_REFERRER = "via_referrer", "Through the referrer"


class WhoMayAnswer(models.TextChoices):
    NOT_STATED = "", "Not stated"
    SURVIVOR_ONLY = "survivor_only", "Only the survivor"
    ANYONE = "anyone", "Anyone who answers may be told who is calling"


@pghistory.track(*_trackers())
class SafeContactRules(Versioned):
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
    # The survivor's own words, and what ``safer.casefile.contact.safe_times_parse`` read from
    # them: windows as ["HH:MM", "HH:MM"] pairs (an end before the start runs overnight) and
    # days as 0 (Monday) to 6. Empty means "not stated", and nothing is checked against it.
    safe_times = models.CharField(max_length=200, blank=True)
    safe_windows = models.JSONField(default=list, blank=True)
    safe_days = models.JSONField(default=list, blank=True)
    who_may_answer = models.CharField(
        max_length=20, choices=WhoMayAnswer.choices, blank=True, default=WhoMayAnswer.NOT_STATED
    )
    alternative_contact = models.CharField(max_length=300, blank=True)
    organisation_name_may_be_used = models.BooleanField(default=False)
    notes = models.TextField(blank=True)

    objects = SafeContactRulesQuerySet.as_manager()

    class Meta:
        # Search (safer.search): the phone number's digits, however it was typed.
        indexes = [models.Index(DigitsOnly("phone"), name="safe_contact_phone_digits_idx")]

    def __str__(self) -> str:
        return f"Safe contact rules for {self.case_file_id}"

    def channel_is_safe(self, channel: str) -> bool:
        return channel in self.safe_channels


class PerpetratorRelationship(models.TextChoices):
    """The perpetrator's relationship to the survivor (asked on the referral form)."""

    PARTNER = "partner", "Current partner"
    EX_PARTNER = "ex_partner", "Former partner"
    PARENT = "parent", "Parent"
    CHILD = "child", "Son or daughter (16 or over)"
    OTHER_FAMILY = "other_family", "Other family member"
    OTHER = "other", "Someone else"


@pghistory.track(*_trackers())
class Perpetrator(models.Model):
    """Details of the person causing harm. Never shown to contractors."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case_file = models.ForeignKey(CaseFile, on_delete=models.CASCADE, related_name="perpetrators")
    name = models.CharField(max_length=200, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    relationship = models.CharField(
        max_length=100, blank=True, choices=PerpetratorRelationship.choices
    )
    lives_at_address = models.BooleanField(null=True)
    has_keys = models.BooleanField(null=True)
    whereabouts_known = models.BooleanField(null=True)
    bail_or_court_orders = models.TextField(blank=True)
    police_reference = models.CharField(max_length=60, blank=True)

    objects = PerpetratorQuerySet.as_manager()

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

    objects = CaseEventQuerySet.as_manager()

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


class ContactService(models.TextChoices):
    SPA = "spa", "Single Point of Access"
    ADULT = "adult", "Adult support"
    CYP = "cyp", "Children and young people's support"
    WORKS = "works", "Security works"


# What each code of ``safer.casefile.contact.Code`` means, for the timeline and the managers.
CONTACT_RULE_LABELS = {
    "no_rules": "no rules recorded",
    "channel": "channel not marked safe",
    "text": "texts not marked safe",
    "voicemail": "voicemail not safe",
    "time": "outside the safe times",
    "day": "not on a safe day",
    "answer": "someone other than the survivor answered",
}


class SafeContactOverrideQuerySet(models.QuerySet["SafeContactOverride"]):
    def visible_to(self, user: User | AnonymousUser) -> SafeContactOverrideQuerySet:
        return self.filter(case_file_id__in=CaseFile.objects.visible_to(user).values("pk"))


class SafeContactOverride(models.Model):
    """A contact made (or arranged) against the survivor's safe-contact rules, with the reason
    the worker gave. Append-only. Its case event puts it on the timeline; the managers of the
    service that made it see it in their list (``safe_contact_overrides_for_manager``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case_file = models.ForeignKey(
        CaseFile, on_delete=models.PROTECT, related_name="contact_overrides"
    )
    case_event = models.OneToOneField(
        CaseEvent, on_delete=models.PROTECT, related_name="contact_override"
    )
    authority = models.ForeignKey(
        CommissioningAuthority, on_delete=models.PROTECT, related_name="+"
    )
    # The organisation of the worker who went ahead: whose managers are told.
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    service = models.CharField(max_length=10, choices=ContactService.choices)
    rules = models.JSONField(default=list)  # codes of safer.casefile.contact.Code
    reason = models.CharField(max_length=300)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = SafeContactOverrideQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at"]
        triggers = [
            pgtrigger.Protect(
                name="safe_contact_override_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            )
        ]

    def __str__(self) -> str:
        return f"Safe-contact override {str(self.id)[:8]}"

    @property
    def rule_labels(self) -> list[str]:
        return [CONTACT_RULE_LABELS.get(code, code) for code in self.rules]


class ReferenceCounter(models.Model):
    """Per prefix and year, where its references like SAFER-2026-000123 start numbering.

    The numbers come from a PostgreSQL sequence per prefix (``reference_next``), so issuing one
    holds no row lock; ``sequence_base`` is the sequence's value before the year's first number.
    ``last_number`` is what the row-locked counter had issued before the sequences (migration
    0007 carries it into the base); the bench and demo builders also use rows as markers.
    """

    prefix = models.CharField(max_length=10)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)
    sequence_base = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prefix", "year"], name="reference_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last_number}"
