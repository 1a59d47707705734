"""Contract KPIs (domain.md §8): each a numerator over a denominator, counted in SQL.

Time-based KPIs read the deadlines the services store on each record (``sla_due_at``,
``first_contact_due_at``, ``survey_due_at``, ``first_contact_due_on``, …), which already skip
weekends and bank holidays and allow for holds (``safer.workdays``). A record counts in the
period in which its clock *stopped*; if the clock is still running and already past its
deadline, it counts (as a breach) in the period in which it breached. A record that ended
without the clock stopping (a job cancelled, a case closed) counts only if it had already
breached.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    DateTimeField,
    Exists,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models import Count as _Count
from django.db.models.functions import Coalesce, TruncDate

from referrals.models import Referral, ReferralStatus
from reporting.metrics.common import Scope, percent
from reporting.periods import Period
from safer.workdays import LOCAL_TZ
from security_works.models import FeelsSafer, JobPriority, PostInstallationCheck, SecurityJob
from support.models import (
    AdultSupportCase,
    CypCase,
    ExitOutcome,
    GboGoal,
    GboScore,
    GboTimePoint,
    SupportPolicy,
    TimePoint,
    VoiceOfChild,
)
from support.selectors.gbo import gbo_cases_annotated


@dataclass(frozen=True)
class KpiCount:
    numerator: int
    denominator: int
    # Records left out of the denominator for a stated reason (e.g. GBO goals without an end
    # score), reported alongside.
    excluded: int = 0

    @property
    def percent(self) -> Decimal | None:
        return percent(self.numerator, self.denominator)


@dataclass(frozen=True)
class Clock:
    """Where a clock's stop and deadline are stored on a record."""

    stop: str
    due: str
    due_is_date: bool = False
    ended: str | None = None  # the record ended here without the clock stopping
    # When ``stop`` is an annotation (triage's ``triaged_at``): the stored column it is read
    # from, set whenever the stop is (``_clock_bound``). None: ``stop`` is the column itself.
    stop_column: str | None = None


def _clock_filters(clock: Clock, period: Period, as_of: dt.datetime) -> tuple[Q, Q]:
    """(counted in the period, met) for records annotated with ``clock``'s fields."""
    stopped_in = period.q_moment(clock.stop) & Q(**{f"{clock.due}__isnull": False})
    running = Q(**{f"{clock.stop}__isnull": True})
    if clock.due_is_date:
        as_of_day = as_of.astimezone(LOCAL_TZ).date()
        breached = running & period.q_day(clock.due) & Q(**{f"{clock.due}__lt": as_of_day})
        if clock.ended:
            breached &= Q(**{f"{clock.ended}__isnull": True}) | Q(_ended_day__gt=F(clock.due))
        met = Q(_stop_day__lte=F(clock.due))
    else:
        breached = running & period.q_moment(clock.due) & Q(**{f"{clock.due}__lt": as_of})
        if clock.ended:
            breached &= Q(**{f"{clock.ended}__isnull": True}) | Q(
                **{f"{clock.ended}__gt": F(clock.due)}
            )
        met = Q(**{f"{clock.stop}__lte": F(clock.due)})
    # "Stopped" spelt out: negated (a breach list's ``exclude(met)``), a comparison with a
    # running clock's NULL is unknown, and the row would drop out. Django guards that for a
    # nullable column but not for an annotated stop such as triage's ``triaged_at``.
    stopped = Q(**{f"{clock.stop}__isnull": False})
    return stopped_in | breached, stopped & stopped_in & met


def _clock_bound(clock: Clock, periods: Sequence[Period]) -> Q:
    """A superset of the records ``_clock_filters`` counts in any of ``periods``, on stored,
    indexed columns, so a period reads its own records, not the scope's every record: each
    record counted has its stop in a period (``stopped_in``) or is running with its deadline in
    one (``breached``). The figures are the FILTERs' alone; this only bounds the scan."""
    span = Period(min(p.start for p in periods), max(p.end for p in periods), "span")
    stop_column = clock.stop_column or clock.stop
    due = span.q_day(clock.due) if clock.due_is_date else span.q_moment(clock.due)
    if clock.stop_column is None:
        # A running clock's stop is NULL: the deadline's index holds only those records.
        due &= Q(**{f"{clock.stop}__isnull": True})
    return span.q_moment(stop_column) | due


def _with_days(queryset: QuerySet[Any], clock: Clock) -> QuerySet[Any]:
    if not clock.due_is_date:
        return queryset
    annotated = queryset.annotate(_stop_day=TruncDate(clock.stop, tzinfo=LOCAL_TZ))
    if clock.ended:
        annotated = annotated.annotate(_ended_day=TruncDate(clock.ended, tzinfo=LOCAL_TZ))
    return annotated


def clock_kpi(
    queryset: QuerySet[Any], clock: Clock, *, period: Period, as_of: dt.datetime
) -> KpiCount:
    counted, met = _clock_filters(clock, period, as_of)
    result = (
        _with_days(queryset, clock)
        .filter(_clock_bound(clock, [period]))
        .aggregate(denominator=_Count("pk", filter=counted), numerator=_Count("pk", filter=met))
    )
    return KpiCount(result["numerator"], result["denominator"])


def clock_kpi_periods(
    queryset: QuerySet[Any], clock: Clock, *, periods: Sequence[Period], as_of: dt.datetime
) -> list[KpiCount]:
    """``clock_kpi`` for several periods in one query (a FILTERed count per period): a KPI
    report's quarter and its trend are one round trip, not one each."""
    aggregates = {}
    for index, period in enumerate(periods):
        counted, met = _clock_filters(clock, period, as_of)
        aggregates[f"denominator_{index}"] = _Count("pk", filter=counted)
        aggregates[f"numerator_{index}"] = _Count("pk", filter=met)
    if not periods:
        return []
    result = (
        _with_days(queryset, clock).filter(_clock_bound(clock, periods)).aggregate(**aggregates)
    )
    return [
        KpiCount(result[f"numerator_{index}"], result[f"denominator_{index}"])
        for index in range(len(periods))
    ]


def clock_breaches(
    queryset: QuerySet[Any], clock: Clock, *, period: Period, as_of: dt.datetime
) -> QuerySet[Any]:
    """The records counted in the period that missed the target (for a breach list)."""
    counted, met = _clock_filters(clock, period, as_of)
    return (
        _with_days(queryset, clock)
        .filter(_clock_bound(clock, [period]))
        .filter(counted)
        .exclude(met)
    )


# --- The clocks ---------------------------------------------------------------------------------


def triage_records(scope: Scope) -> QuerySet[Referral]:
    # Triage ends with a decision (accept or decline); a withdrawal ends the referral untriaged.
    return Referral.objects.filter(scope.q_referrals()).annotate(
        triaged_at=Case(
            When(
                status__in=[ReferralStatus.ACCEPTED, ReferralStatus.DECLINED],
                then=F("decided_at"),
            ),
            default=Value(None),
            output_field=DateTimeField(),
        )
    )


def spa_first_contact_records(scope: Scope) -> QuerySet[Referral]:
    # The SPA's first attempt to reach the survivor. A decline or withdrawal ends the referral
    # without an attempt being due any longer; an acceptance does not (the attempt was owed).
    return Referral.objects.filter(scope.q_referrals()).annotate(
        first_contact_ended_at=Case(
            When(
                status__in=[ReferralStatus.DECLINED, ReferralStatus.WITHDRAWN],
                then=F("decided_at"),
            ),
            default=Value(None),
            output_field=DateTimeField(),
        )
    )


TRIAGE = Clock(stop="triaged_at", due="sla_due_at", ended="decided_at", stop_column="decided_at")
SPA_FIRST_CONTACT = Clock(
    stop="first_contact_attempted_at", due="first_contact_due_at", ended="first_contact_ended_at"
)
MAKE_SAFE = Clock(stop="made_safe_at", due="make_safe_due_at", ended="cancelled_at")
SURVEY = Clock(stop="surveyed_at", due="survey_due_at", ended="cancelled_at")
INSTALLATION = Clock(stop="installed_at", due="installation_due_at", ended="cancelled_at")
FIRST_CONTACT = Clock(
    stop="first_contact_at", due="first_contact_due_on", due_is_date=True, ended="closed_at"
)


@dataclass(frozen=True)
class ClockMeasure:
    records: Callable[[Scope], QuerySet[Any]]
    clock: Clock
    reference: str  # the field shown in a breach list


CLOCK_MEASURES: dict[str, ClockMeasure] = {
    "spa_triage": ClockMeasure(triage_records, TRIAGE, "reference"),
    "spa_first_contact": ClockMeasure(spa_first_contact_records, SPA_FIRST_CONTACT, "reference"),
    "security_make_safe": ClockMeasure(
        lambda s: SecurityJob.objects.filter(s.q_jobs(), priority=JobPriority.EMERGENCY),
        MAKE_SAFE,
        "reference",
    ),
    "security_survey": ClockMeasure(
        lambda s: SecurityJob.objects.filter(s.q_jobs()), SURVEY, "reference"
    ),
    "security_installation": ClockMeasure(
        lambda s: SecurityJob.objects.filter(s.q_jobs()), INSTALLATION, "reference"
    ),
    "adult_first_contact": ClockMeasure(
        lambda s: AdultSupportCase.objects.filter(s.q_support(), allocated_at__isnull=False),
        FIRST_CONTACT,
        "reference",
    ),
    "cyp_first_contact": ClockMeasure(
        lambda s: CypCase.objects.filter(s.q_support(), allocated_at__isnull=False),
        FIRST_CONTACT,
        "reference",
    ),
}


# --- Outcome KPIs -------------------------------------------------------------------------------


def security_feel_safer(*, scope: Scope, period: Period, as_of: dt.datetime) -> KpiCount:
    """Post-installation checks in the period where the survivor answered: much or a little
    safer over all answers (a check without an answer is left out and counted separately)."""
    safer = [FeelsSafer.MUCH_SAFER, FeelsSafer.A_LITTLE_SAFER]
    result = PostInstallationCheck.objects.filter(
        scope.q_jobs("job__"), period.q_day("checked_on")
    ).aggregate(
        numerator=_Count("pk", filter=Q(feels_safer__in=safer)),
        denominator=_Count("pk", filter=~Q(feels_safer="")),
        excluded=_Count("pk", filter=Q(feels_safer="")),
    )
    return KpiCount(**result)


def security_feel_safer_periods(
    *, scope: Scope, periods: Sequence[Period], as_of: dt.datetime
) -> list[KpiCount]:
    """``security_feel_safer`` for several periods in one query (FILTERed counts per period)."""
    safer = [FeelsSafer.MUCH_SAFER, FeelsSafer.A_LITTLE_SAFER]
    aggregates = {}
    for index, period in enumerate(periods):
        checked = period.q_day("checked_on")
        aggregates[f"numerator_{index}"] = _Count("pk", filter=checked & Q(feels_safer__in=safer))
        aggregates[f"denominator_{index}"] = _Count("pk", filter=checked & ~Q(feels_safer=""))
        aggregates[f"excluded_{index}"] = _Count("pk", filter=checked & Q(feels_safer=""))
    result = PostInstallationCheck.objects.filter(scope.q_jobs("job__")).aggregate(**aggregates)
    return [
        KpiCount(
            result[f"numerator_{index}"],
            result[f"denominator_{index}"],
            result[f"excluded_{index}"],
        )
        for index in range(len(periods))
    ]


def _closed_allocated(model: type[Any], scope: Scope, period: Period) -> QuerySet[Any]:
    return model.objects.filter(
        scope.q_support(), period.q_moment("closed_at"), allocated_at__isnull=False
    )


def adult_planned_close(*, scope: Scope, period: Period, as_of: dt.datetime) -> KpiCount:
    """Adult cases closed in the period (once allocated) with a planned ending."""
    planned = [ExitOutcome.PLANNED_GOALS_MET, ExitOutcome.PLANNED_PARTLY_MET]
    result = _closed_allocated(AdultSupportCase, scope, period).aggregate(
        numerator=_Count("pk", filter=Q(exit_outcome__in=planned)), denominator=_Count("pk")
    )
    return KpiCount(**result)


def adult_feel_safer_exit(*, scope: Scope, period: Period, as_of: dt.datetime) -> KpiCount:
    """Adult cases closed in the period with a start and a close measure: feeling safe (0-10)
    higher at close than at start. Cases without both measures are counted separately."""

    # Each case's start and close measure by a LEFT JOIN (at most one of each per case:
    # ``outcome_one_start_one_close``), where a correlated sub-query per score was inlined into
    # every FILTER that read it, a dozen look-ups per case (issue 17).
    closed = _closed_allocated(AdultSupportCase, scope, period).annotate(
        start_measure=FilteredRelation(
            "outcomes", condition=Q(outcomes__time_point=TimePoint.START)
        ),
        close_measure=FilteredRelation(
            "outcomes", condition=Q(outcomes__time_point=TimePoint.CLOSE)
        ),
        start_safe=F("start_measure__feeling_safe"),
        close_safe=F("close_measure__feeling_safe"),
    )
    both = Q(start_safe__isnull=False, close_safe__isnull=False)
    result = closed.aggregate(
        numerator=_Count("pk", filter=both & Q(close_safe__gt=F("start_safe"))),
        denominator=_Count("pk", filter=both),
        excluded=_Count("pk", filter=~both),
    )
    return KpiCount(**result)


def cyp_gbo_improved(*, scope: Scope, period: Period, as_of: dt.datetime) -> KpiCount:
    """Children whose case closed in the period with at least one goal scored at start and end:
    improved when the mean change over those goals reaches the authority's reliable-change
    threshold. Goals without an end score are left out (``excluded`` counts them)."""
    threshold = Coalesce(
        Subquery(
            SupportPolicy.objects.filter(authority=OuterRef("authority")).values(
                "gbo_reliable_change"
            )[:1]
        ),
        Subquery(
            SupportPolicy.objects.filter(authority__isnull=True).values("gbo_reliable_change")[:1]
        ),
        Value(Decimal("2.45")),
    )
    closed = CypCase.objects.filter(pk__in=_closed_allocated(CypCase, scope, period).values("pk"))
    annotated = gbo_cases_annotated(closed).annotate(gbo_threshold=threshold)
    scored = Q(gbo_goals_with_both__gt=0)
    result = annotated.aggregate(
        numerator=_Count("pk", filter=scored & Q(gbo_mean_change__gte=F("gbo_threshold"))),
        denominator=_Count("pk", filter=scored),
    )
    start_only = _gbo_goals_start_only(closed)
    return KpiCount(result["numerator"], result["denominator"], start_only)


def _gbo_goals_start_only(cases: QuerySet[CypCase]) -> int:
    ended = GboScore.objects.filter(goal=OuterRef("pk"), time_point=GboTimePoint.END)
    started = GboScore.objects.filter(goal=OuterRef("pk"), time_point=GboTimePoint.START)
    return (
        GboGoal.objects.filter(cyp_case__in=cases)
        .filter(Exists(started))
        .exclude(Exists(ended))
        .count()
    )


def cyp_feedback(*, scope: Scope, period: Period, as_of: dt.datetime) -> KpiCount:
    """Children whose case closed in the period whose own feedback was recorded."""
    feedback = VoiceOfChild.objects.filter(cyp_case=OuterRef("pk"))
    result = _closed_allocated(CypCase, scope, period).aggregate(
        numerator=_Count("pk", filter=Q(Exists(feedback))), denominator=_Count("pk")
    )
    return KpiCount(**result)


OUTCOME_MEASURES: dict[str, Callable[..., KpiCount]] = {
    "security_feel_safer": security_feel_safer,
    "adult_planned_close": adult_planned_close,
    "adult_feel_safer_exit": adult_feel_safer_exit,
    "cyp_gbo_improved": cyp_gbo_improved,
    "cyp_feedback": cyp_feedback,
}

# KPIs of domain.md §8 that SAFER cannot measure yet, with the reason (shown in the notes).
NOT_MEASURABLE: dict[str, str] = {}


def kpi_measure(code: str, *, scope: Scope, period: Period, as_of: dt.datetime) -> KpiCount | None:
    """The KPI's figures for the scope and period; None when SAFER cannot measure it."""
    if code in CLOCK_MEASURES:
        measure = CLOCK_MEASURES[code]
        return clock_kpi(measure.records(scope), measure.clock, period=period, as_of=as_of)
    if code in OUTCOME_MEASURES:
        return OUTCOME_MEASURES[code](scope=scope, period=period, as_of=as_of)
    return None


def kpi_measures(
    code: str, *, scope: Scope, periods: Sequence[Period], as_of: dt.datetime
) -> list[KpiCount | None]:
    """``kpi_measure`` for each of ``periods``: a time-based KPI in one query for them all."""
    if code in CLOCK_MEASURES:
        measure = CLOCK_MEASURES[code]
        return list(
            clock_kpi_periods(measure.records(scope), measure.clock, periods=periods, as_of=as_of)
        )
    if code == "security_feel_safer":
        return list(security_feel_safer_periods(scope=scope, periods=periods, as_of=as_of))
    return [kpi_measure(code, scope=scope, period=p, as_of=as_of) for p in periods]


def kpi_breaches(
    code: str, *, scope: Scope, period: Period, as_of: dt.datetime
) -> list[dict[str, Any]]:
    """For a time-based KPI: each record that missed its target, by reference (never a name)."""
    measure = CLOCK_MEASURES.get(code)
    if measure is None:
        return []
    clock = measure.clock
    rows = (
        clock_breaches(measure.records(scope), clock, period=period, as_of=as_of)
        .order_by(clock.due, measure.reference)
        .values(measure.reference, clock.due, clock.stop)
    )
    return [
        {"reference": row[measure.reference], "due": row[clock.due], "stopped": row[clock.stop]}
        for row in rows
    ]
