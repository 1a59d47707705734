"""Reads of the SPA. Every list starts from ``Referral.objects.visible_to(user)``; a single
referral is fetched through ``referral_get_for_user`` (404 for missing and not-yours alike)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import (
    Exists,
    F,
    Func,
    IntegerField,
    OrderBy,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.http import HttpRequest
from django.utils import timezone

from referrals.models import (
    AdviceContact,
    DeclineReason,
    MatchStatus,
    Referral,
    ReferralContactAttempt,
    ReferralMatch,
    ReferralStatus,
    RiskAssessment,
)
from referrals.models.referral import RISK_RANK_SQL
from safer import refdata
from safer.access.seams import get_for_user_or_404, record_get_for_user
from safer.accounts.models import User
from safer.audit.models import AccessAction
from safer.audit.services import access_log_record
from safer.casefile.models import CaseStatus
from safer.organisations.models import District
from safer.paging import CappedCount, capped_counts

# How many open possible-repeat matches a referral has, counted per row in a subquery rather
# than by COUNT over a join: a GROUP BY over every open referral in scope would have to finish
# before the queue's ORDER BY … LIMIT could stop at the page (issue 17).
_OPEN_MATCHES = Subquery(
    ReferralMatch.objects.filter(referral=OuterRef("pk"), status=MatchStatus.OPEN)
    .order_by()
    .annotate(n=Func(F("id"), function="COUNT"))
    .values("n"),
    output_field=IntegerField(),
)


@dataclass(frozen=True)
class QueueFilters:
    status: str = "open"  # "open", "all" or a ReferralStatus value
    district_id: uuid.UUID | None = None
    urgent: bool | None = None
    risk_level: str = ""
    possible_repeat: bool = False
    due: str = ""  # "", "overdue", "today", "contact_overdue"
    worker_id: uuid.UUID | None = None
    unassigned: bool = False
    sort: str = ""  # "" (priority), "due", "oldest", "newest"


_QUEUE_SORTS: dict[str, tuple[str | OrderBy, ...]] = {
    "due": (F("sla_due_at").asc(nulls_last=True), "received_at"),
    "oldest": ("received_at",),
    "newest": (F("received_at").desc(),),
}


def referral_queue(*, user: User | AnonymousUser, filters: QueueFilters) -> QuerySet[Referral]:
    """The triage queue: urgent first, then by risk, then by when triage is due (a paused clock
    last), then oldest first."""
    referrals = Referral.objects.visible_to(user)
    if filters.status == "open":
        referrals = referrals.open()
    elif filters.status in ReferralStatus.values:
        referrals = referrals.filter(status=filters.status)
    if filters.district_id:
        referrals = referrals.filter(case_file__household__district_id=filters.district_id)
    if filters.urgent is not None:
        referrals = referrals.filter(urgent=filters.urgent)
    if filters.risk_level:
        referrals = referrals.filter(risk_level=filters.risk_level)
    if filters.possible_repeat:
        referrals = referrals.filter(
            Exists(ReferralMatch.objects.filter(referral=OuterRef("pk"), status=MatchStatus.OPEN))
        )
    now = timezone.now()
    if filters.due == "overdue":
        referrals = referrals.filter(sla_due_at__lt=now)
    elif filters.due == "today":
        end_of_today = timezone.localtime(now).replace(hour=23, minute=59, second=59)
        referrals = referrals.filter(sla_due_at__gte=now, sla_due_at__lte=end_of_today)
    elif filters.due == "contact_overdue":
        referrals = referrals.filter(
            first_contact_attempted_at__isnull=True, first_contact_due_at__lt=now
        )
    if filters.unassigned:
        referrals = referrals.filter(triage_worker__isnull=True)
    elif filters.worker_id is not None:
        referrals = referrals.filter(triage_worker_id=filters.worker_id)
    order = _QUEUE_SORTS.get(
        filters.sort,
        (
            F("urgent").desc(),
            F("risk_rank").desc(),
            F("sla_due_at").asc(nulls_last=True),
            "received_at",
        ),
    )
    return (
        referrals.annotate(
            open_matches=_OPEN_MATCHES,
            risk_rank=RISK_RANK_SQL,
        )
        .select_related("case_file__household__district", "case_file__authority")
        .order_by(*order, "id")
    )


@dataclass(frozen=True)
class QueueCounts:
    open: CappedCount
    overdue: CappedCount
    awaiting: CappedCount
    contacts_to_make: CappedCount
    contacts_overdue: CappedCount


def referral_queue_counts(*, user: User | AnonymousUser, now: dt.datetime) -> QueueCounts:
    """The counts of the SPA home's queue panel over the open referrals the user may see, each
    capped at ``COUNT_CAP`` ("500+"): one statement, each count reading at most 501 referrals
    through the partial indexes on open referrals, instead of every open referral in scope
    (13,000 in Kent at a million referrals, a quarter of a second; issue 17). Counted per part
    of the scope (``visible_to_parts``: an SPA manager's break-glass cases apart), each part a
    join of its own; one statement per part."""
    counted = dict.fromkeys(
        ("open", "overdue", "awaiting", "contacts_to_make", "contacts_overdue"), CappedCount(0)
    )
    for part in Referral.objects.visible_to_parts(user):
        open_referrals = part.open()
        no_contact = open_referrals.filter(first_contact_attempted_at__isnull=True)
        part_counts = capped_counts(
            {
                "open": open_referrals,
                "overdue": open_referrals.filter(sla_due_at__lt=now),
                "awaiting": open_referrals.filter(status=ReferralStatus.AWAITING_INFORMATION),
                "contacts_to_make": no_contact.filter(first_contact_due_at__isnull=False),
                "contacts_overdue": no_contact.filter(first_contact_due_at__lt=now),
            }
        )
        for key, n in part_counts.items():
            counted[key] += n
    return QueueCounts(**counted)


def referral_get_for_user(
    *,
    user: User | AnonymousUser,
    referral_id: object,
    request: HttpRequest | None = None,
    action: AccessAction = AccessAction.VIEW,
) -> Referral:
    """One referral the user may triage; writes one access-log row."""
    return record_get_for_user(
        source=Referral.objects,
        user=user,
        pk=referral_id,
        request=request,
        action=action,
        select_related=(
            "case_file__household__district",
            "case_file__authority",
            "case_file__survivor",
            "case_file__safe_contact",
            "decline_reason",
            "triage_worker",
        ),
    )


def referral_matches(*, referral: Referral) -> QuerySet[ReferralMatch]:
    return referral.matches.select_related(
        "candidate__case_file__survivor", "candidate__case_file__household", "resolved_by"
    ).order_by("status", "-similarity")


def referral_duplicate_candidates(*, referral: Referral) -> QuerySet[Referral]:
    """The earlier referrals found as possible repeats of this one: what it may duplicate."""
    return Referral.objects.filter(
        pk__in=referral.matches.values("candidate_id"), duplicate_of__isnull=True
    ).order_by("-received_at")


def referral_linked_later(*, referral: Referral) -> QuerySet[Referral]:
    """Later referrals linked to this one: declined as its duplicates or linked as repeats."""
    return (
        Referral.objects.filter(Q(duplicate_of=referral) | Q(repeat_of=referral))
        .select_related("decline_reason")
        .order_by("received_at")
    )


def referral_latest_assessment(*, referral: Referral) -> RiskAssessment | None:
    return (
        referral.risk_assessments.select_related("questionnaire", "assessed_by")
        .prefetch_related("answers__question")
        .order_by("-assessed_at")
        .first()
    )


def decline_reasons_active() -> QuerySet[DeclineReason]:
    return DeclineReason.objects.filter(is_active=True)


def referral_contact_attempts(*, referral: Referral) -> QuerySet[ReferralContactAttempt]:
    return referral.contact_attempts.select_related("recorded_by").order_by("-attempted_at")


# --- Information-and-advice-only contacts -----------------------------------------------------


@dataclass(frozen=True)
class AdviceFilters:
    month: dt.date | None = None  # the first day of the month
    district_id: uuid.UUID | None = None


def advice_contacts(
    *, user: User | AnonymousUser, filters: AdviceFilters
) -> QuerySet[AdviceContact]:
    """The advice contacts of the user's authorities (SPA staff only), newest first."""
    contacts = AdviceContact.objects.visible_to(user)
    if filters.month is not None:
        year, month = divmod(filters.month.year * 12 + filters.month.month, 12)
        contacts = contacts.filter(
            contacted_on__gte=filters.month, contacted_on__lt=dt.date(year, month + 1, 1)
        )
    if filters.district_id:
        contacts = contacts.filter(district_id=filters.district_id)
    return contacts.select_related("authority", "district", "recorded_by").order_by(
        "-contacted_on", "-recorded_at"
    )


# --- The referrer portal ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReferralStatusRow:
    """What a referrer may know of a referral they made: its reference, date and status."""

    id: uuid.UUID
    reference: str
    received_on: str
    status: str


def referrals_made_by(*, user: User) -> list[ReferralStatusRow]:
    """The status of each referral the user made, and nothing about the case after that."""
    rows = (
        Referral.objects.made_by(user)
        .select_related("decline_reason", "case_file")
        .only(
            "id",
            "reference",
            "received_at",
            "status",
            "decline_reason__label",
            "case_file__status",
        )
        .order_by("-received_at")
    )
    return [
        ReferralStatusRow(
            id=r.id,
            reference=r.reference,
            received_on=_long_date(r.received_at),
            status=referrer_status(r),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class ReferralStatusDetail:
    """One referral as its referrer may follow it: still only its reference, dates and status
    (in words, with what it means), never the survivor's details or the case after the
    decision (docs/security.md)."""

    id: uuid.UUID
    reference: str
    received_on: str
    status: str
    meaning: str
    triage_started_on: str
    decided_on: str


_STATUS_MEANING = {
    "Received": (
        "The Single Point of Access team has the referral and will look at it within 2 working "
        "days."
    ),
    "In triage": (
        "The Single Point of Access team is looking at the referral. They may contact you if "
        "they need more information."
    ),
    "Accepted": (
        "The referral was accepted: the person is being offered the services they need. For "
        "their privacy, nothing more about the case is shown here."
    ),
    "Closed": "The referral is closed. For the person's privacy, nothing more is shown here.",
}


def _long_date(value: dt.datetime | None) -> str:
    return f"{timezone.localtime(value):%-d %B %Y}" if value else ""


def referral_status_for_referrer(
    *, user: User, referral_id: object, request: HttpRequest | None = None
) -> ReferralStatusDetail:
    """The status of one referral the user made: 404 for any other (missing and not-theirs
    alike); the read is access-logged like any other."""
    referral = get_for_user_or_404(
        Referral.objects.made_by(user).select_related("decline_reason", "case_file"),
        referral_id,
    )
    access_log_record(
        user=user,
        action=AccessAction.VIEW,
        record=referral,
        request=request,
        reason="The referrer followed the referral's status",
    )
    status = referrer_status(referral)
    if status.startswith("Declined"):
        meaning = (
            "The referral was declined for the reason shown. If you think this is wrong, or "
            "things have changed, you can make a new referral."
        )
    else:
        meaning = _STATUS_MEANING[status]
    return ReferralStatusDetail(
        id=referral.id,
        reference=referral.reference,
        received_on=_long_date(referral.received_at),
        status=status,
        meaning=meaning,
        triage_started_on=_long_date(referral.triage_started_at),
        decided_on=_long_date(referral.decided_at),
    )


def referrer_status(referral: Referral) -> str:
    if referral.status == ReferralStatus.RECEIVED:
        return "Received"
    if referral.status in (ReferralStatus.IN_TRIAGE, ReferralStatus.AWAITING_INFORMATION):
        return "In triage"
    if referral.status == ReferralStatus.DECLINED:
        reason = referral.decline_reason.label if referral.decline_reason else ""
        return f"Declined: {reason}" if reason else "Declined"
    if referral.status == ReferralStatus.ACCEPTED:
        return "Closed" if referral.case_file.status == CaseStatus.CLOSED else "Accepted"
    return "Closed"  # withdrawn


# --- The district page ------------------------------------------------------------------------

DISTRICTS = "districts"  # their reference data name (``safer.refdata``; tracked in apps.py)


@dataclass(frozen=True)
class DistrictPage:
    """Every district with its authority, by name, and their lookups, built once per version of
    the districts: by the page's key, by code (the partner API names a district by code) and by
    postcode outward code (the page's guess). Shared between requests: read it, never change it."""

    by_key: dict[str, District]
    by_code: dict[str, District]
    by_outward: dict[str, tuple[District, ...]]
    choices: tuple[tuple[str, str], ...]  # (key, name), by name

    def for_postcode_outward(self, outward: str) -> District | None:
        """The one district whose outward codes include ``outward``, if exactly one does (an
        outward code shared by several districts is left for the person to choose)."""
        matches = self.by_outward.get(outward.upper(), ())
        return matches[0] if len(matches) == 1 else None


def district_page_of(districts: Iterable[District]) -> DistrictPage:
    by_key = {str(d.id): d for d in districts}
    by_outward: dict[str, list[District]] = {}
    for d in by_key.values():
        for outward in dict.fromkeys((d.outward_codes or "").upper().split()):
            by_outward.setdefault(outward, []).append(d)
    return DistrictPage(
        by_key=by_key,
        by_code={d.code: d for d in by_key.values()},
        by_outward={outward: tuple(ds) for outward, ds in by_outward.items()},
        choices=tuple((key, d.name) for key, d in by_key.items()),
    )


def district_page() -> DistrictPage:
    """Every district and its lookups, kept per process with the districts themselves
    (``safer.refdata``, ADR 0014). Inside a transaction that changed districts every call reads
    them again: a caller that needs the page twice keeps the one it got (the API's adapter
    does)."""
    return refdata.cached(DISTRICTS, "page", lambda: district_page_of(_districts_read()))


def _districts_read() -> tuple[District, ...]:
    return tuple(District.objects.select_related("authority").order_by("name"))
