"""Reads for security works: who sees which job, clocks and RAG, the works and the budget.

Access rules (docs/security.md, "What each role sees"):

- SPA staff see every job of the case files in their SPA scope (their authorities, plus an open
  break-glass), with the address.
- A contractor (and a provider manager of a contractor) sees its *own organisation's* jobs in its
  authorities. The survivor's address, first name and safe-contact rules only while the job is
  open *and* the organisation still holds the case file's address grant; afterwards only the job
  reference. Never the perpetrator, the risk assessment or the children.
- Everyone else (commissioners, auditors, support workers, referrers): no job at all. Commissioners
  see the budget through reporting's aggregates.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, DecimalField, F, OrderBy, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncQuarter
from django.http import HttpRequest
from django.utils import timezone

from safer import workdays
from safer.access.roles import SPA_ROLES, user_roles
from safer.access.scoping import authority_scope_q
from safer.access.seams import record_get_for_user
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.audit.models import AccessAction
from safer.audit.services import access_log_record
from safer.casefile.models import CaseFile, case_file_address_visible_q
from safer.organisations.models import (
    CommissioningAuthority,
    Contract,
    District,
    Organisation,
    OrganisationKind,
    ServiceElement,
)
from safer.organisations.selectors import contract_live_for, no_live_contract_warning
from safer.paging import CappedCount, capped_counts
from security_works.contractor_view import JobAddress, job_address_for_contractor
from security_works.models import (
    CLOSED_STATUSES,
    ApprovalKind,
    ApprovalStatus,
    CostApproval,
    FireSafetyCheck,
    FireSafetyOutcome,
    InstalledMeasure,
    JobPriority,
    JobStatus,
    Measure,
    SecurityJob,
    SecurityJobQuerySet,
    SlaPolicy,
    SurveyMeasure,
)

CONTRACTOR_ROLES = frozenset({Role.CONTRACTOR, Role.PROVIDER_MANAGER})
MONEY: DecimalField[Decimal, Decimal] = DecimalField(max_digits=14, decimal_places=2)
ZERO = Decimal("0.00")


# --- Access -----------------------------------------------------------------------------------


def job_scope_filter(user: User | AnonymousUser | object) -> Q:
    """The filter behind ``SecurityJob.objects.visible_to(user)``. Nothing for anyone else."""
    if not isinstance(user, User):
        return Q(pk__in=[])
    roles = user_roles(user)
    reasons: list[Q] = []
    if roles & SPA_ROLES:
        reasons.append(Q(case_file__in=CaseFile.objects.spa_scope_for(user).values("pk")))
    if roles & CONTRACTOR_ROLES and user.organisation_id is not None:
        reasons.append(authority_scope_q(user) & Q(contractor_id=user.organisation_id))
    if not reasons:
        return Q(pk__in=[])
    combined = reasons[0]
    for reason in reasons[1:]:
        combined |= reason
    return combined


def jobs_visible_to(user: User | AnonymousUser) -> SecurityJobQuerySet:
    return SecurityJob.objects.visible_to(user)


def security_job_get_for_user(
    *, user: User | AnonymousUser, job_id: object, request: HttpRequest | None = None
) -> SecurityJob:
    """The one way to open a job: 404 for "missing" and "not yours" alike; logs one VIEW."""
    return record_get_for_user(
        source=SecurityJob.objects,
        user=user,
        pk=job_id,
        request=request,
        select_related=("contractor", "district", "case_file", "contract"),
    )


def job_address_visible(user: User | AnonymousUser, job: SecurityJob) -> bool:
    """Whether this user may see the job's address and safe-contact rules now."""
    if not isinstance(user, User):
        return False
    in_spa_scope = CaseFile.objects.spa_scope_for(user).filter(pk=job.case_file_id).exists()
    if in_spa_scope:
        return True
    if not (user_roles(user) & CONTRACTOR_ROLES):
        return False
    # Both must hold: the job's own rule (own organisation, still open) and the grant the
    # services give on allocation and withdraw on closure.
    own_open_job = job.is_open and job.contractor_id == user.organisation_id
    return (
        own_open_job
        and SecurityJob.objects.filter(pk=job.pk).filter(case_file_address_visible_q(user)).exists()
    )


def job_address_reveal(
    *, user: User | AnonymousUser, job: SecurityJob, request: HttpRequest | None = None
) -> JobAddress | None:
    """The contractor's allow-listed view of the address and how to arrange a visit
    (``security_works.contractor_view``) if the user may see it now (logged), else None."""
    if not job_address_visible(user, job):
        return None
    address = job_address_for_contractor(job=job)
    access_log_record(
        user=user,
        action=AccessAction.REVEAL_ADDRESS,
        record=job.case_file,
        request=request,
    )
    return address


@dataclass(frozen=True)
class JobListFilters:
    """What the job list is narrowed by (``security_works.forms.JobFilterForm``)."""

    status: str = "open"  # "open", "all", "closed" or a JobStatus value
    district_id: uuid.UUID | None = None
    due: str = ""  # "", "overdue", "soon" (a deadline within 2 days, overdue included)
    priority: str = ""
    sort: str = ""  # "" (nearest breach), "newest", "oldest", "reference"


_JOB_SORTS: dict[str, tuple[str | OrderBy, ...]] = {
    "newest": (F("allocated_at").desc(),),
    "oldest": ("allocated_at",),
    "reference": ("reference",),
}


def job_list_for_user(
    user: User | AnonymousUser, filters: JobListFilters | None = None
) -> SecurityJobQuerySet:
    """The job list: nearest breach first unless sorted otherwise, in a fixed number of
    queries. Filters use the partial index on open jobs' deadlines."""
    filters = filters or JobListFilters(status="all")
    jobs = SecurityJob.objects.visible_to(user)
    if filters.status == "open":
        jobs = jobs.open()
    elif filters.status == "closed":
        jobs = jobs.closed()
    elif filters.status in JobStatus.values:
        jobs = jobs.filter(status=filters.status)
    if filters.district_id:
        jobs = jobs.filter(district_id=filters.district_id)
    if filters.priority in JobPriority.values:
        jobs = jobs.filter(priority=filters.priority)
    now = timezone.now()
    if filters.due == "overdue":
        jobs = jobs.filter(next_due_at__lt=now)
    elif filters.due == "soon":
        jobs = jobs.filter(next_due_at__lt=now + dt.timedelta(days=2))
    jobs = jobs.select_related("district", "contractor")
    if filters.sort in _JOB_SORTS:
        return jobs.order_by(*_JOB_SORTS[filters.sort], "id")
    return jobs.order_by(F("next_due_at").asc(nulls_last=True), "allocated_at", "id")


# --- Policy and clocks ------------------------------------------------------------------------


def sla_policy_for(*, contract_id: uuid.UUID | None) -> SlaPolicy:
    """The contract's policy, else the scheme default, else the built-in defaults."""
    policies = {
        p.contract_id: p
        for p in SlaPolicy.objects.filter(Q(contract_id=contract_id) | Q(contract__isnull=True))
    }
    return policies.get(contract_id) or policies.get(None) or SlaPolicy()


@dataclass(frozen=True)
class Clock:
    name: str
    label: str
    target: workdays.Target
    started_at: dt.datetime | None
    due_at: dt.datetime | None
    stopped_at: dt.datetime | None
    rag: workdays.Rag | None  # None when the clock has not started or has stopped

    @property
    def running(self) -> bool:
        return self.started_at is not None and self.stopped_at is None

    @property
    def met(self) -> bool | None:
        """True/False once stopped (or once breached); None while it can still be met."""
        if self.due_at is None:
            return None
        if self.stopped_at is not None:
            return self.stopped_at <= self.due_at
        return False if timezone.now() > self.due_at else None


def installation_clock_start(job: SecurityJob) -> dt.datetime | None:
    """Installation is timed from the survey, or from landlord consent when that is needed."""
    if job.landlord_consent_required:
        return job.landlord_consent_at
    return job.surveyed_at


def job_clocks(
    job: SecurityJob, *, policy: SlaPolicy, now: dt.datetime | None = None
) -> list[Clock]:
    """The job's clocks with their RAG now, from the deadlines the services stored."""
    now = now or timezone.now()
    clocks: list[Clock] = []
    specs: list[tuple[str, str, workdays.Target, dt.datetime | None, dt.datetime | None]] = []
    if job.priority == JobPriority.EMERGENCY:
        specs.append(
            (
                "make_safe",
                "Make safe",
                workdays.Target(policy.emergency_make_safe_hours, workdays.TargetUnit.HOURS),
                job.allocated_at,
                job.made_safe_at,
            )
        )
    specs.append(
        (
            "survey",
            "Survey",
            workdays.Target(policy.survey_working_days, workdays.TargetUnit.WORKING_DAYS),
            job.allocated_at,
            job.surveyed_at,
        )
    )
    specs.append(
        (
            "installation",
            "Installation",
            workdays.Target(policy.installation_working_days, workdays.TargetUnit.WORKING_DAYS),
            installation_clock_start(job),
            job.installed_at,
        )
    )
    due_by_name = {
        "make_safe": job.make_safe_due_at,
        "survey": job.survey_due_at,
        "installation": job.installation_due_at,
    }
    closed = job.status in CLOSED_STATUSES
    for name, label, target, started, stopped in specs:
        due = due_by_name[name]
        running = started is not None and stopped is None and not closed
        rag = (
            workdays.rag(
                now=now,
                deadline=due,
                target=target,
                amber_working_days=policy.amber_working_days,
            )
            if running
            else None
        )
        clocks.append(Clock(name, label, target, started, due, stopped, rag))
    return clocks


def job_rag(job: SecurityJob, *, policy: SlaPolicy, now: dt.datetime | None = None) -> str:
    """The job's worst running clock: red, amber, green, or "" when none is running."""
    order = {workdays.Rag.RED: 3, workdays.Rag.AMBER: 2, workdays.Rag.GREEN: 1}
    rags = [c.rag for c in job_clocks(job, policy=policy, now=now) if c.rag is not None]
    return max(rags, key=order.__getitem__).value if rags else ""


# --- Works ------------------------------------------------------------------------------------


def measures_effective_on(day: dt.date) -> list[Measure]:
    """The schedule of rates in force on ``day``, one row per code."""
    return list(
        Measure.objects.filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))
        .filter(effective_from__lte=day)
        .order_by("code", "-effective_from")
        .distinct("code")
    )


def planned_lines(job: SecurityJob) -> list[SurveyMeasure]:
    """The approved scope: the survey's lines plus lines of approved variations."""
    return list(
        SurveyMeasure.objects.filter(job=job)
        .filter(Q(variation__isnull=True) | Q(variation__status=ApprovalStatus.APPROVED))
        .select_related("measure")
    )


def planned_total(lines: Sequence[SurveyMeasure]) -> Decimal:
    return sum((line.line_total for line in lines), ZERO)


def planned_quantities_by_code(lines: Sequence[SurveyMeasure]) -> dict[str, Decimal]:
    quantities: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        quantities[line.measure.code] += line.quantity
    return dict(quantities)


def installed_total(job: SecurityJob) -> Decimal:
    total = InstalledMeasure.objects.filter(job=job).aggregate(
        total=Coalesce(Sum("actual_cost"), Value(ZERO), output_field=MONEY)
    )["total"]
    return Decimal(total)


# --- Allocation -------------------------------------------------------------------------------


def contractor_suggest(
    *, authority: CommissioningAuthority, district: District
) -> Organisation | None:
    """The active contractor covering the district for this authority with the fewest open jobs
    (ties by name, so the suggestion is stable)."""
    return (
        Organisation.objects.filter(
            kind=OrganisationKind.SECURITY_CONTRACTOR,
            is_active=True,
            districts_covered=district,
            authorities=authority,
        )
        .annotate(
            open_jobs=Count(
                "security_jobs",
                filter=~Q(security_jobs__status__in=CLOSED_STATUSES),
                distinct=True,
            )
        )
        .order_by("open_jobs", "name")
        .first()
    )


def security_contract_for(
    *, contractor: Organisation, authority: CommissioningAuthority, on: dt.date
) -> Contract | None:
    """The contractor's security contract with the authority in force on ``on`` (extensions
    exercised included)."""
    return contract_live_for(
        provider=contractor, authority=authority, service_element=ServiceElement.SECURITY, on=on
    )


def security_contract_warning(
    *, case_file: CaseFile, contractor: Organisation | None, on: dt.date
) -> str:
    """Words for the person allocating a job for the case when the contractor (by default the
    one suggested for the district) has no security contract with the case's authority live on
    ``on``: the job would carry no contract. "" when there is one."""
    authority = case_file.authority
    if contractor is None:
        district = case_file.household.district
        if district is not None:
            contractor = contractor_suggest(authority=authority, district=district)
        if contractor is None:
            return ""  # the allocation itself says no contractor covers the district
    if security_contract_for(contractor=contractor, authority=authority, on=on):
        return ""
    return no_live_contract_warning(provider=contractor, authority=authority, on=on)


# --- Budget -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpendCell:
    district: str
    quarter_start: dt.date  # first day of the calendar quarter (financial quarters start Apr)
    financial_year: str  # e.g. "2024-25"
    financial_quarter: int  # 1 = April to June
    spend: Decimal
    jobs: int


def contract_spend_by_district_quarter(contract: Contract) -> list[SpendCell]:
    """Spend to date (actual cost of measures, by installation date) per district and quarter,
    grouped in SQL."""
    rows = (
        InstalledMeasure.objects.filter(job__contract=contract, job__installed_at__isnull=False)
        .annotate(quarter=TruncQuarter("job__installed_at", tzinfo=workdays.LOCAL_TZ))
        .values("job__district__name", "quarter")
        .annotate(spend=Sum("actual_cost"), jobs=Count("job", distinct=True))
        .order_by("quarter", "job__district__name")
    )
    cells = []
    for row in rows:
        quarter = row["quarter"]
        quarter_date = quarter.date() if isinstance(quarter, dt.datetime) else quarter
        fy_start = quarter_date.year if quarter_date.month >= 4 else quarter_date.year - 1
        cells.append(
            SpendCell(
                district=row["job__district__name"],
                quarter_start=quarter_date,
                financial_year=f"{fy_start}-{(fy_start + 1) % 100:02d}",
                financial_quarter=((quarter_date.month - 4) % 12) // 3 + 1,
                spend=row["spend"],
                jobs=row["jobs"],
            )
        )
    return cells


@dataclass(frozen=True)
class BudgetSummary:
    contract: Contract
    as_of: dt.date
    total_value: Decimal  # over the current term (initial term plus extensions taken)
    budget_to_date: Decimal  # the value pro-rated to ``as_of``
    spend_to_date: Decimal
    committed: Decimal  # planned totals of open jobs not yet installed
    forecast_at_end: Decimal  # spend to date carried on at the same pace to the current end

    @property
    def remaining(self) -> Decimal:
        return self.total_value - self.spend_to_date

    @property
    def forecast_variance(self) -> Decimal:
        """Positive: forecast to overspend by this much."""
        return self.forecast_at_end - self.total_value


def contract_budget_summary(contract: Contract, *, as_of: dt.date | None = None) -> BudgetSummary:
    """Spend against the contract's value, and a straight-line forecast to its current end."""
    as_of = as_of or timezone.localdate()
    spend = InstalledMeasure.objects.filter(
        job__contract=contract, job__installed_at__isnull=False
    ).aggregate(total=Coalesce(Sum("actual_cost"), Value(ZERO), output_field=MONEY))["total"]
    committed = (
        SurveyMeasure.objects.filter(
            job__contract=contract,
            job__installed_at__isnull=True,
        )
        .exclude(job__status__in=CLOSED_STATUSES)
        .filter(Q(variation__isnull=True) | Q(variation__status=ApprovalStatus.APPROVED))
        .aggregate(
            total=Coalesce(Sum(F("quantity") * F("unit_cost")), Value(ZERO), output_field=MONEY)
        )["total"]
    )
    spend = Decimal(spend)
    total_value = contract.total_value
    budget_to_date = contract.budget_between(contract.start_date, as_of)
    # Straight line in contract-value terms: spend keeps pace with the budget as it accrues.
    if budget_to_date > 0:
        forecast = (spend * total_value / budget_to_date).quantize(Decimal("0.01"))
    else:
        forecast = spend
    return BudgetSummary(
        contract=contract,
        as_of=as_of,
        total_value=total_value,
        budget_to_date=budget_to_date,
        spend_to_date=spend,
        committed=Decimal(committed).quantize(Decimal("0.01")),
        forecast_at_end=forecast,
    )


# --- Fire safety, money and approvals ---------------------------------------------------------


def fire_safety_check_due(job: SecurityJob, plan: Sequence[SurveyMeasure]) -> bool:
    """The works affect a means of escape and the latest check (if any) did not pass."""
    if not any(line.measure.affects_escape_routes for line in plan):
        return False
    latest = FireSafetyCheck.objects.filter(job=job).order_by("-recorded_at").first()
    return latest is None or not FireSafetyOutcome.passes(latest.outcome)


@dataclass(frozen=True)
class JobMoney:
    """The job's money in words that cannot mislead: "approved" only once it is."""

    planned_total: Decimal  # the survey's works plus approved variations
    awaiting_approval: bool  # the planned total waits for (or needs) an SPA manager's approval
    pending_variation_lines: list[SurveyMeasure]
    pending_variation_total: Decimal

    @property
    def caption(self) -> str:
        amount = f"£{self.planned_total:,.2f}"
        if self.awaiting_approval:
            return f"Planned works, awaiting approval: {amount}"
        return f"Approved works: {amount}"


def job_money(job: SecurityJob, plan: Sequence[SurveyMeasure]) -> JobMoney:
    total = planned_total(plan)
    policy = sla_policy_for(contract_id=job.contract_id)
    threshold_pending = CostApproval.objects.filter(
        job=job, kind=ApprovalKind.THRESHOLD, status=ApprovalStatus.PENDING
    ).exists()
    over_unapproved = (
        total > policy.approval_threshold
        and not CostApproval.objects.filter(
            job=job, status=ApprovalStatus.APPROVED, amount__gte=total
        ).exists()
    )
    pending_lines = list(
        SurveyMeasure.objects.filter(job=job, variation__status=ApprovalStatus.PENDING)
        .select_related("measure")
        .order_by("created_at", "id")
    )
    return JobMoney(
        planned_total=total,
        awaiting_approval=threshold_pending or over_unapproved,
        pending_variation_lines=pending_lines,
        pending_variation_total=planned_total(pending_lines),
    )


# The queue's order, read from the partial index on pending approvals (approval_pending_due_idx).
_MOST_OVERDUE_FIRST = (F("due_at").asc(nulls_last=True), F("requested_at").asc(), F("id").asc())


def _approvals_pending(user: User | AnonymousUser) -> QuerySet[CostApproval]:
    """Cost approvals and variations waiting for a decision on jobs the user may see."""
    return CostApproval.objects.filter(
        status=ApprovalStatus.PENDING, job__in=SecurityJob.objects.visible_to(user)
    )


def approvals_pending_for_user(user: User | AnonymousUser) -> QuerySet[CostApproval]:
    """The SPA manager's queue: cost approvals and variations waiting for a decision on jobs the
    user may see, the most overdue first. ``extra`` is a variation's own lines (0 for a total)."""
    return (
        _approvals_pending(user)
        .select_related("job", "job__district", "job__contractor")
        .annotate(
            extra=Coalesce(
                Sum(F("lines__quantity") * F("lines__unit_cost")), Value(ZERO), output_field=MONEY
            )
        )
        .order_by(*_MOST_OVERDUE_FIRST)
    )


def approvals_most_overdue_for_user(
    user: User | AnonymousUser, *, limit: int
) -> list[CostApproval]:
    """For a home page: the first ``limit`` of the queue, without the variations' sums (the home
    does not show them). Read in the queue's order from the partial index on pending approvals
    and stopped at ``limit``, instead of summing the lines of every pending approval in scope
    and sorting them (408 ms at a million referrals; issue 17)."""
    return list(
        _approvals_pending(user)
        .select_related("job", "job__district")
        .order_by(*_MOST_OVERDUE_FIRST)[:limit]
    )


@dataclass(frozen=True)
class ApprovalCounts:
    waiting: CappedCount
    overdue: CappedCount


def approvals_counts_for_user(
    user: User | AnonymousUser, *, now: dt.datetime | None = None
) -> ApprovalCounts:
    """For a home page: how many requests wait for the user's decision, and how many are late,
    each capped at ``COUNT_CAP`` ("500+"): one statement."""
    now = now or timezone.now()
    pending = _approvals_pending(user)
    counts = capped_counts({"waiting": pending, "overdue": pending.filter(due_at__lt=now)})
    return ApprovalCounts(waiting=counts["waiting"], overdue=counts["overdue"])
