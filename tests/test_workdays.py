"""The working-days clock: weekends, England and Wales bank holidays, hour targets and pauses."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from safer import workdays
from safer.workdays import Rag, Target, TargetUnit

LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC
FIVE_WORKING_DAYS = Target(5, TargetUnit.WORKING_DAYS)
DAY = dt.date


def at(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    """A UK local time."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON)


class TestCalendar:
    @pytest.mark.parametrize(
        ("day", "name"),
        [
            (DAY(2026, 4, 3), "Good Friday"),
            (DAY(2026, 4, 6), "Easter Monday"),
            (DAY(2026, 5, 4), "May Day"),
            (DAY(2026, 12, 25), "Christmas Day"),
            # Boxing Day 2026 is a Saturday: the substitute is Monday 28th.
            (DAY(2026, 12, 28), "Boxing Day (observed)"),
            # Christmas 2027 falls on a weekend: both substitutes.
            (DAY(2027, 12, 27), "Christmas Day (observed)"),
            (DAY(2027, 12, 28), "Boxing Day (observed)"),
            # A one-off bank holiday.
            (DAY(2022, 9, 19), "State Funeral of Queen Elizabeth II"),
        ],
    )
    def test_bank_holidays_are_not_working_days(self, day: dt.date, name: str) -> None:
        assert workdays.bank_holiday_name(day) == name
        assert not workdays.is_working_day(day)

    def test_weekends_are_not_working_days(self) -> None:
        assert not workdays.is_working_day(DAY(2026, 6, 6))  # Saturday
        assert not workdays.is_working_day(DAY(2026, 6, 7))  # Sunday
        assert workdays.is_working_day(DAY(2026, 6, 8))  # Monday

    def test_scottish_and_northern_irish_holidays_are_working_days(self) -> None:
        assert workdays.is_working_day(DAY(2026, 1, 2))  # 2 January (Scotland)
        assert workdays.is_working_day(DAY(2026, 3, 17))  # St Patrick's Day (NI)
        assert workdays.is_working_day(DAY(2026, 11, 30))  # St Andrew's Day (Scotland)

    def test_england_and_wales_share_one_list(self) -> None:
        import holidays

        years = range(2020, 2031)
        england = holidays.country_holidays("GB", subdiv="ENG", years=years)
        wales = holidays.country_holidays("GB", subdiv="WLS", years=years)
        assert set(england) == set(wales)


class TestAddWorkingDays:
    def test_thursday_before_easter_skips_good_friday_weekend_and_easter_monday(self) -> None:
        thursday = DAY(2026, 4, 2)
        assert workdays.add_working_days(thursday, 1) == DAY(2026, 4, 7)
        assert workdays.add_working_days(thursday, 5) == DAY(2026, 4, 13)

    def test_christmas_with_a_substitute_boxing_day(self) -> None:
        # Thu 24 (1), Fri 25 and Mon 28 holidays, Tue 29 (2), Wed 30 (3), Thu 31 (4),
        # Fri 1 Jan holiday, Mon 4 Jan (5).
        assert workdays.add_working_days(DAY(2026, 12, 23), 5) == DAY(2027, 1, 4)

    def test_a_clock_started_at_the_weekend_counts_monday_as_day_one(self) -> None:
        assert workdays.add_working_days(DAY(2026, 6, 6), 1) == DAY(2026, 6, 8)
        assert workdays.add_working_days(DAY(2026, 6, 7), 5) == DAY(2026, 6, 12)

    def test_zero_and_negative_counts(self) -> None:
        assert workdays.add_working_days(DAY(2026, 6, 6), 0) == DAY(2026, 6, 6)
        assert workdays.add_working_days(DAY(2026, 4, 7), -1) == DAY(2026, 4, 2)
        assert workdays.add_working_days(DAY(2026, 6, 8), -1) == DAY(2026, 6, 5)

    def test_next_working_day(self) -> None:
        assert workdays.next_working_day(DAY(2026, 4, 2)) == DAY(2026, 4, 7)

    def test_skip_days_are_not_counted(self) -> None:
        skip = frozenset({DAY(2026, 6, 9)})
        assert workdays.add_working_days(DAY(2026, 6, 8), 1, skip=skip) == DAY(2026, 6, 10)


class TestWorkingDaysBetween:
    def test_counts_days_after_start_up_to_and_including_end(self) -> None:
        assert workdays.working_days_between(DAY(2026, 4, 2), DAY(2026, 4, 13)) == 5
        assert workdays.working_days_between(DAY(2026, 4, 2), DAY(2026, 4, 6)) == 0
        assert workdays.working_days_between(DAY(2026, 4, 2), DAY(2026, 4, 2)) == 0

    def test_reversed_range_is_negative(self) -> None:
        assert workdays.working_days_between(DAY(2026, 4, 13), DAY(2026, 4, 2)) == -5

    def test_is_the_inverse_of_add_working_days(self) -> None:
        start = DAY(2026, 3, 20)
        for offset in range(60):
            day = start + dt.timedelta(days=offset)
            for count in (1, 2, 5, 10):
                due = workdays.add_working_days(day, count)
                assert workdays.working_days_between(day, due) == count, (day, count)


class TestDueAt:
    def test_survey_allocated_on_the_thursday_before_easter(self) -> None:
        allocated = at(2026, 4, 2, 16, 30)
        deadline = workdays.due_at(allocated, FIVE_WORKING_DAYS)
        assert deadline is not None
        # End of Monday 13 April, UK time (BST, so 22:59:59 UTC).
        assert deadline.astimezone(LONDON).date() == DAY(2026, 4, 13)
        assert deadline == dt.datetime(2026, 4, 13, 22, 59, 59, 999999, tzinfo=UTC)

    def test_the_local_date_decides_the_start_day_not_utc(self) -> None:
        # 00:30 BST on Tuesday is still Monday in UTC: the clock starts on Tuesday.
        allocated = at(2026, 6, 9, 0, 30)
        deadline = workdays.due_at(allocated, Target(1, TargetUnit.WORKING_DAYS))
        assert deadline is not None
        assert deadline.astimezone(LONDON).date() == DAY(2026, 6, 10)

    def test_hours_are_elapsed_hours_and_ignore_bank_holidays(self) -> None:
        allocated = at(2026, 4, 3, 18)  # Good Friday evening
        assert workdays.due_at(allocated, Target(24, TargetUnit.HOURS)) == at(2026, 4, 4, 18)

    def test_hours_across_the_clocks_going_forward(self) -> None:
        allocated = at(2026, 3, 28, 12)  # GMT; clocks go forward at 01:00 on the 29th
        deadline = workdays.due_at(allocated, Target(24, TargetUnit.HOURS))
        assert deadline == at(2026, 3, 29, 13)  # 24 real hours later, in BST

    def test_calendar_days(self) -> None:
        deadline = workdays.due_at(at(2026, 4, 2), Target(3, TargetUnit.CALENDAR_DAYS))
        assert deadline is not None
        assert deadline.astimezone(LONDON).date() == DAY(2026, 4, 5)

    def test_naive_datetimes_are_refused(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            workdays.due_at(dt.datetime(2026, 4, 2, 9), FIVE_WORKING_DAYS)  # noqa: DTZ001


class TestPauses:
    def test_a_hold_moves_a_working_day_due_date_on(self) -> None:
        # Allocated Monday 1 June: due Monday 8 June. On hold Tuesday 10:00 to Thursday 09:00:
        # Wednesday and Thursday are not counted, so it falls due on Wednesday 10 June.
        pauses = [(at(2026, 6, 2, 10), at(2026, 6, 4, 9))]
        assert workdays.due_date(DAY(2026, 6, 1), 5) == DAY(2026, 6, 8)
        assert workdays.due_date(DAY(2026, 6, 1), 5, pauses) == DAY(2026, 6, 10)

    def test_a_hold_over_a_bank_holiday_does_not_count_the_holiday_twice(self) -> None:
        # Allocated Wed 1 April 2026: Thu 2, Tue 7, Wed 8, Thu 9, Fri 10 (Good Friday and Easter
        # Monday skipped). On hold Thu 2 April to Tue 7 April: only Tuesday 7th is lost.
        assert workdays.due_date(DAY(2026, 4, 1), 5) == DAY(2026, 4, 10)
        pauses = [(at(2026, 4, 2, 11), at(2026, 4, 7, 15))]
        assert workdays.due_date(DAY(2026, 4, 1), 5, pauses) == DAY(2026, 4, 13)

    def test_a_hold_on_the_same_day_costs_nothing(self) -> None:
        pauses = [(at(2026, 6, 2, 10), at(2026, 6, 2, 16))]
        assert workdays.due_date(DAY(2026, 6, 1), 5, pauses) == DAY(2026, 6, 8)

    def test_an_open_hold_stops_the_clock(self) -> None:
        pauses: list[workdays.Pause] = [(at(2026, 6, 2, 10), None)]
        assert workdays.due_date(DAY(2026, 6, 1), 5, pauses) is None
        assert workdays.due_at(at(2026, 6, 1), FIVE_WORKING_DAYS, pauses) is None

    def test_a_hold_after_the_due_date_cannot_undo_a_breach(self) -> None:
        late = [(at(2026, 6, 9, 10), at(2026, 6, 20, 10))]
        assert workdays.due_date(DAY(2026, 6, 1), 5, late) == DAY(2026, 6, 8)
        still_open: list[workdays.Pause] = [(at(2026, 6, 9, 10), None)]
        assert workdays.due_date(DAY(2026, 6, 1), 5, still_open) == DAY(2026, 6, 8)

    def test_overlapping_holds_are_merged(self) -> None:
        pauses = [
            (at(2026, 6, 2, 10), at(2026, 6, 4, 9)),
            (at(2026, 6, 3, 10), at(2026, 6, 5, 9)),
        ]
        # Wed, Thu, Fri lost: due Thursday 11 June.
        assert workdays.due_date(DAY(2026, 6, 1), 5, pauses) == DAY(2026, 6, 11)

    def test_a_second_hold_inside_the_extended_window_counts_too(self) -> None:
        pauses = [
            (at(2026, 6, 2, 10), at(2026, 6, 3, 9)),  # Wed lost: due Tue 9th
            (at(2026, 6, 8, 10), at(2026, 6, 10, 9)),  # before the new due day: Tue, Wed lost
        ]
        assert workdays.due_date(DAY(2026, 6, 1), 5, pauses) == DAY(2026, 6, 11)

    def test_a_hold_that_begins_on_the_due_day_does_not_move_it(self) -> None:
        # The day a hold begins is counted, so the due day has already been used up.
        closed = [(at(2026, 6, 8, 10), at(2026, 6, 10, 9))]
        assert workdays.due_date(DAY(2026, 6, 1), 5, closed) == DAY(2026, 6, 8)
        still_open: list[workdays.Pause] = [(at(2026, 6, 8, 10), None)]
        assert workdays.due_date(DAY(2026, 6, 1), 5, still_open) == DAY(2026, 6, 8)

    def test_a_hold_adds_its_length_to_an_hour_target(self) -> None:
        pauses = [(at(2026, 6, 1, 12), at(2026, 6, 1, 15))]
        assert workdays.due_at(at(2026, 6, 1, 10), Target(24, TargetUnit.HOURS), pauses) == at(
            2026, 6, 2, 13
        )

    def test_an_hour_clock_ignores_pauses_before_its_start_and_after_its_deadline(self) -> None:
        pauses = [
            (at(2026, 6, 1, 8), at(2026, 6, 1, 11)),  # one hour after the start counts
            (at(2026, 6, 3, 8), at(2026, 6, 3, 11)),  # after the deadline
        ]
        assert workdays.due_at(at(2026, 6, 1, 10), Target(24, TargetUnit.HOURS), pauses) == at(
            2026, 6, 2, 11
        )

    def test_an_open_hold_stops_an_hour_clock(self) -> None:
        pauses: list[workdays.Pause] = [(at(2026, 6, 1, 12), None)]
        assert workdays.due_at(at(2026, 6, 1, 10), Target(24, TargetUnit.HOURS), pauses) is None

    def test_a_pause_cannot_end_before_it_starts(self) -> None:
        with pytest.raises(ValueError, match="cannot end before"):
            workdays.merge_pauses([(at(2026, 6, 2), at(2026, 6, 1))])

    def test_elapsed_working_days_leave_out_paused_days(self) -> None:
        pauses = [(at(2026, 6, 2, 10), at(2026, 6, 4, 9))]
        assert workdays.elapsed_working_days(at(2026, 6, 1), at(2026, 6, 10)) == 7
        assert workdays.elapsed_working_days(at(2026, 6, 1), at(2026, 6, 10), pauses) == 5
        # Still on hold: days after the hold began are not counted.
        open_pause: list[workdays.Pause] = [(at(2026, 6, 2, 10), None)]
        assert workdays.elapsed_working_days(at(2026, 6, 1), at(2026, 6, 10), open_pause) == 1

    def test_elapsed_time_leaves_out_paused_time(self) -> None:
        pauses = [(at(2026, 6, 1, 12), at(2026, 6, 1, 15))]
        assert workdays.elapsed_time(at(2026, 6, 1, 10), at(2026, 6, 2, 10), pauses) == (
            dt.timedelta(hours=21)
        )


class TestTargetMet:
    def test_a_survey_on_the_due_day_meets_the_target(self) -> None:
        assert workdays.target_met(at(2026, 4, 2, 16), at(2026, 4, 13, 17), FIVE_WORKING_DAYS)

    def test_a_survey_the_day_after_misses_it(self) -> None:
        assert not workdays.target_met(at(2026, 4, 2, 16), at(2026, 4, 14, 9), FIVE_WORKING_DAYS)

    def test_a_hold_before_the_stop_can_save_the_target(self) -> None:
        pauses = [(at(2026, 4, 7, 9), at(2026, 4, 8, 9))]
        assert workdays.target_met(
            at(2026, 4, 2, 16), at(2026, 4, 14, 9), FIVE_WORKING_DAYS, pauses
        )

    def test_emergency_make_safe_in_hours(self) -> None:
        target = Target(24, TargetUnit.HOURS)
        assert workdays.target_met(at(2026, 4, 3, 18), at(2026, 4, 4, 17, 59), target)
        assert not workdays.target_met(at(2026, 4, 3, 18), at(2026, 4, 4, 18, 1), target)


class TestRag:
    def test_working_day_clock(self) -> None:
        deadline = workdays.due_at(at(2026, 4, 2, 16), FIVE_WORKING_DAYS)  # due Mon 13 April

        def rag_on(moment: dt.datetime) -> Rag:
            return workdays.rag(now=moment, deadline=deadline, target=FIVE_WORKING_DAYS)

        assert rag_on(at(2026, 4, 7)) == Rag.GREEN
        assert rag_on(at(2026, 4, 9)) == Rag.GREEN
        assert rag_on(at(2026, 4, 10)) == Rag.AMBER  # due on the next working day
        assert rag_on(at(2026, 4, 13, 23, 59)) == Rag.AMBER  # due today
        assert rag_on(at(2026, 4, 14, 0, 1)) == Rag.RED

    def test_hour_clock(self) -> None:
        target = Target(24, TargetUnit.HOURS)
        deadline = workdays.due_at(at(2026, 6, 1, 10), target)
        assert workdays.rag(now=at(2026, 6, 1, 20), deadline=deadline, target=target) == Rag.GREEN
        assert workdays.rag(now=at(2026, 6, 2, 5), deadline=deadline, target=target) == Rag.AMBER
        assert workdays.rag(now=at(2026, 6, 2, 11), deadline=deadline, target=target) == Rag.RED

    def test_a_paused_clock_is_green(self) -> None:
        assert (
            workdays.rag(now=at(2026, 6, 1), deadline=None, target=FIVE_WORKING_DAYS) == Rag.GREEN
        )
