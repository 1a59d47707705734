"""When the scheduled reports are due (domain.md §8, the brief's schedule).

- Quarterly grant update and contract KPI reports: on the 5th working day after the quarter ends
  (``safer.workdays``: weekends and England and Wales bank holidays do not count).
- Annual Part 4 return: on the same day after the year's last quarter (so after 31 March).

Beat runs ``scheduled_reports_task`` every morning; it asks for whatever is due and not yet
requested. Each run has a schedule key, so asking twice (a second beat, a re-run) adds nothing,
and a missed morning is caught up the next.
"""

from __future__ import annotations

import datetime as dt
import logging

from reporting.exceptions import ReportRequestError
from reporting.models import ReportKind, ReportRun
from reporting.periods import Period
from reporting.services import report_run_request
from safer.organisations.models import CommissioningAuthority, Contract
from safer.workdays import add_working_days

logger = logging.getLogger(__name__)

WORKING_DAYS_AFTER_QUARTER = 5


def quarter_reports_due_on(quarter: Period) -> dt.date:
    return add_working_days(quarter.end, WORKING_DAYS_AFTER_QUARTER)


def last_complete_quarter(today: dt.date) -> Period:
    return Period.quarter_containing(today).previous()


def scheduled_reports_request(*, today: dt.date) -> list[ReportRun]:
    quarter = last_complete_quarter(today)
    if today < quarter_reports_due_on(quarter):
        return []
    wanted: list[tuple[str, Period, CommissioningAuthority, Contract | None]] = []
    for authority in CommissioningAuthority.objects.all():
        wanted.append((ReportKind.QUARTERLY_GRANT, quarter, authority, None))
        if quarter.quarter == 4:
            year = Period.financial_year(quarter.start_year)
            wanted.append((ReportKind.ANNUAL_RETURN, year, authority, None))
    for active in Contract.objects.select_related("authority").filter(start_date__lte=quarter.end):
        if active.current_end_date >= quarter.start:
            wanted.append((ReportKind.CONTRACT_KPI, quarter, active.authority, active))
    runs = []
    for kind, period, authority, contract in wanted:
        key = ":".join([kind, authority.code, contract.reference if contract else "", period.code])
        if ReportRun.objects.filter(schedule_key=key).exists():
            continue
        try:
            runs.append(
                report_run_request(
                    kind=kind,
                    period=period,
                    authorities=[authority],
                    contract=contract,
                    requested_by=None,
                    schedule_key=key,
                )
            )
        except ReportRequestError as error:
            # Typically no template for a new financial year yet: say so in the log, carry on.
            logger.warning("scheduled report %s not requested: %s", key, error.message)
    return runs
