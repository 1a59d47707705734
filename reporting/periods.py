"""Reporting periods: a financial quarter or year (1 April - 31 March), both ends inclusive, in UK
local time (domain.md §8).

A period has date bounds (for date fields such as a session's day) and datetime bounds (for
moments such as a referral's arrival): from local midnight of its first day up to, but not
including, local midnight after its last day. So a referral at 00:30 BST on 1 July falls in the
July quarter, although it is still 30 June in UTC.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db.models import Q

from safer.workdays import LOCAL_TZ

QUARTER = "quarter"
YEAR = "year"
YEAR_TO_DATE = "year_to_date"
_CODE = re.compile(r"^(?P<year>\d{4})-(?P<next>\d{2})(?:-Q(?P<quarter>[1-4]))?$")


@dataclass(frozen=True, order=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive
    kind: str

    # --- Construction ---------------------------------------------------------------------------

    @classmethod
    def financial_year(cls, start_year: int) -> Period:
        return cls(dt.date(start_year, 4, 1), dt.date(start_year + 1, 3, 31), YEAR)

    @classmethod
    def financial_quarter(cls, start_year: int, quarter: int) -> Period:
        if not 1 <= quarter <= 4:
            raise ValueError("A financial quarter is 1 to 4.")
        month = 4 + 3 * (quarter - 1)
        year = start_year + (month - 1) // 12
        month = (month - 1) % 12 + 1
        first = dt.date(year, month, 1)
        after = dt.date(year + (month + 2) // 12, (month + 2) % 12 + 1, 1)
        return cls(first, after - dt.timedelta(days=1), QUARTER)

    @classmethod
    def quarter_containing(cls, day: dt.date) -> Period:
        start_year = financial_year_start(day)
        return cls.financial_quarter(start_year, (day.month - 4) % 12 // 3 + 1)

    @classmethod
    def year_containing(cls, day: dt.date) -> Period:
        return cls.financial_year(financial_year_start(day))

    @classmethod
    def parse(cls, code: str) -> Period:
        """``2025-26`` (a year) or ``2025-26-Q1`` (its first quarter, April to June)."""
        match = _CODE.match(code.strip())
        if not match:
            raise ValueError(f"Not a financial period: {code!r} (expected e.g. 2025-26-Q1).")
        year = int(match["year"])
        if int(match["next"]) != (year + 1) % 100:
            raise ValueError(f"Not a financial year: {code!r}.")
        if match["quarter"]:
            return cls.financial_quarter(year, int(match["quarter"]))
        return cls.financial_year(year)

    # --- Description ----------------------------------------------------------------------------

    @property
    def start_year(self) -> int:
        return financial_year_start(self.start)

    @property
    def quarter(self) -> int | None:
        return (self.start.month - 4) % 12 // 3 + 1 if self.kind == QUARTER else None

    @property
    def financial_year_label(self) -> str:
        return f"{self.start_year}-{(self.start_year + 1) % 100:02d}"

    @property
    def code(self) -> str:
        if self.kind == YEAR_TO_DATE:
            return f"{self.financial_year_label}-YTD-{self.end:%Y%m%d}"
        suffix = f"-Q{self.quarter}" if self.quarter else ""
        return f"{self.financial_year_label}{suffix}"

    @property
    def short_label(self) -> str:
        if self.kind == YEAR_TO_DATE:
            return f"{self.financial_year_label} year to date"
        return f"{self.financial_year_label} Q{self.quarter}" if self.quarter else self.code

    @property
    def label(self) -> str:
        return f"{self.short_label} ({self.start:%-d %B %Y} to {self.end:%-d %B %Y})"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    # --- Bounds ---------------------------------------------------------------------------------

    @property
    def starts_at(self) -> dt.datetime:
        """Local midnight at the start of the first day (aware)."""
        return dt.datetime.combine(self.start, dt.time.min, tzinfo=LOCAL_TZ)

    @property
    def ends_before(self) -> dt.datetime:
        """Local midnight after the last day (aware): the first moment *not* in the period."""
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=LOCAL_TZ)

    def q_moment(self, field: str) -> Q:
        """Rows whose datetime ``field`` falls in the period."""
        return Q(**{f"{field}__gte": self.starts_at, f"{field}__lt": self.ends_before})

    def q_day(self, field: str) -> Q:
        """Rows whose date ``field`` falls in the period."""
        return Q(**{f"{field}__gte": self.start, f"{field}__lte": self.end})

    def q_open_during(self, opened: str, closed: str) -> Q:
        """Opened on or before the last day and not closed before the first day."""
        return Q(**{f"{opened}__lt": self.ends_before}) & (
            Q(**{f"{closed}__isnull": True}) | Q(**{f"{closed}__gte": self.starts_at})
        )

    # --- Neighbours -----------------------------------------------------------------------------

    def previous(self) -> Period:
        return (
            Period.quarter_containing(self.start - dt.timedelta(days=1))
            if self.quarter
            else Period.financial_year(self.start_year - 1)
        )

    def year_to_date(self) -> Period:
        """From the start of the financial year to the end of this period (a year-to-date
        figure on a quarterly return)."""
        return Period(Period.financial_year(self.start_year).start, self.end, YEAR_TO_DATE)

    def quarters(self) -> list[Period]:
        """The quarters within this period, in order."""
        found, day = [], self.start
        while day <= self.end:
            quarter = Period.quarter_containing(day)
            found.append(quarter)
            day = quarter.end + dt.timedelta(days=1)
        return found

    def trailing_quarters(self, count: int) -> list[Period]:
        """This quarter and the ``count - 1`` before it, oldest first."""
        last = self if self.quarter else Period.quarter_containing(self.end)
        periods = [last]
        while len(periods) < count:
            periods.append(periods[-1].previous())
        return list(reversed(periods))


def financial_year_start(day: dt.date) -> int:
    return day.year if day.month >= 4 else day.year - 1
