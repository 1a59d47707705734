"""Reporting's demo data: the units of safe accommodation Kent and Medway each commissioned, and
quarterly payments against the support contracts of the core's demo, so the returns'
commissioned units and spend sections have figures; then about two years of history (see
``benchmarks.data.history``) so the trends have figures. Fictional, realistic in size
(domain.md §1), idempotent: a row is written only when missing, through the services, as the
demo commissioner."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import timezone

from benchmarks.data.history import history_ensure
from reporting.commissioning.services import commissioned_units_record, contract_spend_record
from reporting.exceptions import ReportRequestError
from reporting.models import (
    CommissionedUnits,
    ContractSpend,
    DashboardSnapshot,
    ReportKind,
    ReturnSubmission,
    RunStatus,
)
from reporting.periods import Period
from reporting.returns import TemplateMissing
from reporting.rollover import return_templates_roll_forward
from reporting.services import report_run_request, return_submission_record
from safer.demo import CONTRACTOR_EAST, REFUGE, DemoContext, demo_seeder
from safer.organisations.models import CommissioningAuthority, ServiceElement

# Units commissioned per year: (authority, type, units, provider or None, contract reference).
UNITS = [
    ("kent", "refuge", 38, REFUGE, ""),
    ("kent", "specialist", 8, REFUGE, ""),
    ("kent", "dispersed", 24, REFUGE, ""),
    ("kent", "move_on", 14, REFUGE, ""),
    ("kent", "emergency", 6, None, ""),
    ("kent", "sanctuary", 420, CONTRACTOR_EAST, "23/00074"),
    ("medway", "refuge", 12, REFUGE, ""),
    ("medway", "dispersed", 8, REFUGE, ""),
    ("medway", "move_on", 4, REFUGE, ""),
    ("medway", "sanctuary", 110, None, ""),
]

# Each quarter's payment as a share of its pro-rated budget: a realistic under- and overspend.
SPEND_PATTERN = [Decimal("0.93"), Decimal("0.98"), Decimal("1.02"), Decimal("0.96")]


@demo_seeder
def reporting_demo(context: DemoContext) -> Iterator[str]:
    commissioner = context.users.get("commissioner")
    authorities = {a.code: a for a in CommissioningAuthority.objects.all()}
    contracts = context.contracts  # core's demo: live today, extensions as data
    today = timezone.localdate()
    this_year = Period.year_containing(today)
    units_added = 0
    for year in (this_year.previous(), this_year):
        present = set(
            CommissionedUnits.objects.filter(financial_year=year.code).values_list(
                "authority__code", "accommodation_type"
            )
        )
        for authority, kind, units, provider, reference in UNITS:
            if (authority, kind) in present:
                continue
            commissioned_units_record(
                authority=authorities[authority],
                financial_year=year.code,
                accommodation_type=kind,
                units=units,
                provider=context.organisations[provider] if provider else None,
                contract=contracts[reference] if reference else None,
                note="Demo figure.",
                recorded_by=commissioner,
            )
            units_added += 1
    # Quarterly payments for every complete quarter of last year and this year, in term.
    last_complete = Period.quarter_containing(today).previous()
    quarters = [
        q
        for q in this_year.previous().quarters() + this_year.quarters()
        if q.end <= last_complete.end
    ]
    existing = set(ContractSpend.objects.values_list("contract__reference", "reference"))
    entries_added = 0
    for reference, contract in contracts.items():
        if contract.service_element == ServiceElement.SECURITY:
            continue
        for index, quarter in enumerate(quarters):
            if quarter.start < contract.start_date or quarter.end > contract.current_end_date:
                continue
            invoice = f"{reference}-{quarter.code}"
            if (reference, invoice) in existing:
                continue
            budget = contract.budget_between(quarter.start, quarter.end)
            amount = (budget * SPEND_PATTERN[index % len(SPEND_PATTERN)]).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_UP
            )
            contract_spend_record(
                contract=contract,
                period_start=quarter.start,
                period_end=quarter.end,
                amount=amount,
                reference=invoice,
                note="Demo quarterly payment.",
                recorded_by=commissioner,
            )
            entries_added += 1
    history = history_ensure(context)
    if history is not None:
        # Snapshots computed before the history would hide it until they age out.
        DashboardSnapshot.objects.all().delete()
        summary = ", ".join(f"{n:,} {name.replace('_', ' ')}" for name, n in history.items())
        yield f"History (about twenty months, fictional): {summary}."
    yield (
        f"Reporting: {len(contracts)} contracts; {units_added} commissioned-units rows and "
        f"{entries_added} support-contract payments added."
    )


@demo_seeder
def reporting_templates_demo(context: DemoContext) -> Iterator[str]:
    """The return templates of the current financial year and the next, as beat would make them
    (reporting/rollover.py), so the current year's returns can be run at once."""
    made = return_templates_roll_forward(today=timezone.localdate())
    if made:
        years = sorted({template.financial_year for template in made})
        yield f"Return templates derived for {', '.join(years)} (check them in the admin)"


DEMO_RECIPIENT = "MHCLG (demo: not really sent)"


@demo_seeder
def reporting_submitted_return_demo(context: DemoContext) -> Iterator[str]:
    """Kent's quarterly grant update for the last complete quarter, produced and marked as
    submitted by the demo commissioner, then produced again: the commissioner sees a submitted
    return, its two versions (the second restating the first, whatever changed since) and may
    run it again. Once only: when the demo's submission exists, nothing is written."""
    if ReturnSubmission.objects.filter(submitted_to=DEMO_RECIPIENT).exists():
        return
    from reporting.tasks import report_run_generate_task  # the worker's own task, run here

    commissioner = context.users["commissioner"]
    kent = CommissioningAuthority.objects.get(code="kent")
    period = Period.quarter_containing(timezone.localdate()).previous()

    def produce() -> Any:
        run = report_run_request(
            kind=ReportKind.QUARTERLY_GRANT,
            period=period,
            authorities=[kent],
            requested_by=commissioner,
        )
        report_run_generate_task(str(run.pk))
        run.refresh_from_db()
        if run.status != RunStatus.SUCCEEDED:
            raise ReportRequestError(f"the demo return could not be produced: {run.error}")
        return run

    try:
        first = produce()
    except (TemplateMissing, ReportRequestError) as error:
        yield f"No submitted return in the demo: {error}"
        return
    return_submission_record(
        run=first,
        submitted_by=commissioner,
        submitted_to=DEMO_RECIPIENT,
        note="Demo submission: figures are fictional.",
    )
    second = produce()
    yield (
        f"Submitted return: Kent's quarterly grant update {period.short_label}, version 1 "
        f"submitted to {DEMO_RECIPIENT}, version {second.version} produced since."
    )
