"""Working days and SLA clocks, one meaning everywhere (domain §9).

A working day is a Monday to Friday that is not an England and Wales bank holiday. Holidays come
from the ``holidays`` package (``country_holidays("GB", subdiv="ENG")``, offline; the package's
UK subdivisions are ENG, NIR, SCT and WLS, and ENG and WLS share one list), so substitute days
("Boxing Day (observed)") and one-off days (a state funeral) are included.

Counting rule: "N working days from D" is the N-th working day *after* D, whatever D is (the
day the clock starts is never counted, and a clock started on a Saturday counts Monday as day 1).
A working-day target is met if the clock stops on or before the end of its due day (local time).

Pauses ("on hold / awaiting information"): for working-day clocks the working days *after* the
day a hold began, up to and including the day it ended, are not counted; for hour clocks the
paused time is added to the deadline. A hold still open before the deadline means there is no
deadline yet (the clock is stopped). A hold that begins after the deadline changes nothing: a
breach cannot be undone by pausing.

Referrals, security jobs, support cases and reporting all use these functions; nothing here
touches the database.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LOCAL_TZ = ZoneInfo("Europe/London")
HOLIDAY_COUNTRY = "GB"
HOLIDAY_SUBDIVISION = "ENG"  # England; Wales ("WLS") has the same bank holidays

# A guard against a loop that could never end (a target of millions of days is a data error).
_MAX_SCAN_DAYS = 366 * 20


class TargetUnit(enum.StrEnum):
    WORKING_DAYS = "working_days"
    CALENDAR_DAYS = "calendar_days"
    HOURS = "hours"


@dataclass(frozen=True)
class Target:
    """A clock's target, e.g. ``Target(5, TargetUnit.WORKING_DAYS)`` or ``Target(24, HOURS)``."""

    value: int
    unit: TargetUnit

    def __post_init__(self) -> None:
        if self.value < 0:
            raise ValueError("A target cannot be negative.")


# A pause interval: (start, end); end is None while the hold is still open.
Pause = tuple[dt.datetime, dt.datetime | None]


class Rag(enum.StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


# --- Calendar ---------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def bank_holidays(year: int) -> frozenset[dt.date]:
    """England and Wales bank holidays of one year (substitute days included)."""
    calendar = holidays.country_holidays(HOLIDAY_COUNTRY, subdiv=HOLIDAY_SUBDIVISION, years=year)
    return frozenset(day for day in calendar if day.year == year)


def bank_holiday_name(day: dt.date) -> str | None:
    calendar = holidays.country_holidays(
        HOLIDAY_COUNTRY, subdiv=HOLIDAY_SUBDIVISION, years=day.year
    )
    return calendar.get(day)


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in bank_holidays(day.year)


def local_date(moment: dt.datetime) -> dt.date:
    """The UK calendar date of an aware datetime (a naive one is a programming error)."""
    return _aware(moment).astimezone(LOCAL_TZ).date()


def end_of_day(day: dt.date) -> dt.datetime:
    """The last instant of ``day`` in UK local time, as an aware datetime."""
    return dt.datetime.combine(day, dt.time.max, tzinfo=LOCAL_TZ)


def next_working_day(day: dt.date) -> dt.date:
    """The first working day strictly after ``day``."""
    return add_working_days(day, 1)


def add_working_days(
    day: dt.date, count: int, *, skip: frozenset[dt.date] = frozenset()
) -> dt.date:
    """The ``count``-th working day after ``day`` (before it when ``count`` is negative).

    ``skip`` holds extra days not to count (paused days). ``count == 0`` returns ``day``.
    """
    step = 1 if count >= 0 else -1
    remaining = abs(count)
    current = day
    scanned = 0
    while remaining:
        current += dt.timedelta(days=step)
        scanned += 1
        if scanned > _MAX_SCAN_DAYS:
            raise ValueError("Working-day count out of range.")
        if is_working_day(current) and current not in skip:
            remaining -= 1
    return current


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end``; negative when end < start.

    The inverse of ``add_working_days``: ``working_days_between(d, add_working_days(d, n)) == n``.
    """
    if end == start:
        return 0
    if end < start:
        return -working_days_between(end, start)
    return sum(1 for day in _days_after(start, end) if is_working_day(day))


# --- Pauses -----------------------------------------------------------------------------------


def merge_pauses(pauses: Iterable[Pause]) -> list[Pause]:
    """Sorted, non-overlapping pauses (an open pause swallows every later one)."""
    ordered = sorted(((_aware(s), _aware(e) if e else None) for s, e in pauses), key=_start)
    merged: list[Pause] = []
    for start, end in ordered:
        if end is not None and end < start:
            raise ValueError("A pause cannot end before it starts.")
        if merged:
            last_start, last_end = merged[-1]
            if last_end is None:
                break
            if start <= last_end:
                merged[-1] = (last_start, None if end is None else max(last_end, end))
                continue
        merged.append((start, end))
    return merged


def paused_working_days(
    pauses: Iterable[Pause], *, until: dt.date | None = None
) -> frozenset[dt.date]:
    """Working days not counted because of the pauses.

    A closed pause covers the working days after the day it began up to and including the day it
    ended; an open pause covers every working day after the day it began up to ``until``.
    """
    days: set[dt.date] = set()
    for start, end in merge_pauses(pauses):
        first = local_date(start)
        if end is not None:
            last = local_date(end)
        elif until is not None:
            last = until
        else:
            raise ValueError("An open pause needs an 'until' date.")
        days.update(day for day in _days_after(first, last) if is_working_day(day))
    return frozenset(days)


def _paused_before(pauses: Sequence[Pause], moment: dt.datetime) -> list[Pause]:
    return [p for p in merge_pauses(pauses) if p[0] < moment]


# --- Clocks -----------------------------------------------------------------------------------


def due_date(start: dt.date, working_days: int, pauses: Sequence[Pause] = ()) -> dt.date | None:
    """The day a working-day clock started on ``start`` falls due, or None while it is paused.

    Each pause that begins before the (moving) due day pushes it on by the working days it
    covers. A pause that begins on the due day or later changes nothing: the day a pause begins
    is counted, so the due day has already been used.
    """
    skip: frozenset[dt.date] = frozenset()
    due = add_working_days(start, working_days)
    for pause_start, pause_end in merge_pauses(pauses):
        if local_date(pause_start) >= due:
            break
        if pause_end is None:
            return None
        skip = skip | paused_working_days([(pause_start, pause_end)])
        due = add_working_days(start, working_days, skip=skip)
    return due


def due_at(start: dt.datetime, target: Target, pauses: Sequence[Pause] = ()) -> dt.datetime | None:
    """The deadline of a clock started at ``start``: an aware datetime, or None while paused.

    Working- and calendar-day targets fall due at the end of the due day (UK local time); hour
    targets are elapsed hours (a clock change does not add or remove an hour of work), plus
    paused time.
    """
    start = _aware(start)
    if target.unit == TargetUnit.HOURS:
        deadline = start + dt.timedelta(hours=target.value)
        for pause_start, pause_end in merge_pauses(pauses):
            if pause_start >= deadline:
                break
            if pause_end is None:
                return None
            overlap = pause_end - max(pause_start, start)
            if overlap > dt.timedelta(0):
                deadline += overlap
        return deadline.astimezone(dt.UTC)
    if target.unit == TargetUnit.CALENDAR_DAYS:
        day = local_date(start) + dt.timedelta(days=target.value)
        for pause_start, pause_end in merge_pauses(pauses):
            if local_date(pause_start) >= day:
                break
            if pause_end is None:
                return None
            day += dt.timedelta(days=(local_date(pause_end) - local_date(pause_start)).days)
        return end_of_day(day).astimezone(dt.UTC)
    day_due = due_date(local_date(start), target.value, pauses)
    return None if day_due is None else end_of_day(day_due).astimezone(dt.UTC)


def elapsed_working_days(start: dt.datetime, end: dt.datetime, pauses: Sequence[Pause] = ()) -> int:
    """Working days a clock has run from ``start`` to ``end``, not counting paused days."""
    first, last = local_date(start), local_date(end)
    if last <= first:
        return 0
    skipped = paused_working_days(_paused_before(pauses, _aware(end)), until=last)
    return sum(1 for day in _days_after(first, last) if is_working_day(day) and day not in skipped)


def elapsed_time(
    start: dt.datetime, end: dt.datetime, pauses: Sequence[Pause] = ()
) -> dt.timedelta:
    """Calendar time a clock has run from ``start`` to ``end``, less the paused time."""
    start, end = _aware(start), _aware(end)
    if end <= start:
        return dt.timedelta(0)
    running = end - start
    for pause_start, pause_end in merge_pauses(pauses):
        lo = max(pause_start, start)
        hi = min(pause_end or end, end)
        if hi > lo:
            running -= hi - lo
    return running


def target_met(
    start: dt.datetime, stop: dt.datetime, target: Target, pauses: Sequence[Pause] = ()
) -> bool:
    """Whether a clock that stopped at ``stop`` met its target."""
    deadline = due_at(start, target, [p for p in pauses if p[0] < _aware(stop)])
    return deadline is None or _aware(stop) <= deadline


def rag(
    *,
    now: dt.datetime,
    deadline: dt.datetime | None,
    target: Target,
    amber_working_days: int = 1,
    amber_fraction: float = 0.25,
) -> Rag:
    """Red once the deadline has passed; amber when it is close; green otherwise (or paused).

    "Close" is due today or within the next ``amber_working_days`` working days for day targets,
    and the last ``amber_fraction`` of the target for hour targets.
    """
    if deadline is None:
        return Rag.GREEN
    now = _aware(now)
    if now > deadline:
        return Rag.RED
    if target.unit == TargetUnit.HOURS:
        window = dt.timedelta(hours=target.value) * amber_fraction
        return Rag.AMBER if deadline - now <= window else Rag.GREEN
    left = working_days_between(local_date(now), local_date(deadline))
    return Rag.AMBER if left <= amber_working_days else Rag.GREEN


# --- Internals --------------------------------------------------------------------------------


def _days_after(start: dt.date, end: dt.date) -> Iterable[dt.date]:
    """Each day after ``start`` up to and including ``end``."""
    day = start + dt.timedelta(days=1)
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


def _aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("SLA clocks need timezone-aware datetimes.")
    # Arithmetic between datetimes sharing a ZoneInfo is wall-clock arithmetic in Python (a day
    # across a clock change would be 23 or 25 real hours); in UTC it is elapsed time.
    return moment.astimezone(dt.UTC)


def _start(pause: Pause) -> dt.datetime:
    return pause[0]
