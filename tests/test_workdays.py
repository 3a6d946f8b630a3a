"""Working days: weekends, Dutch holidays, deadline convention, DST-correct digest slots."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import holidays
import pytest

from bot.workdays import (
    AMSTERDAM,
    WorkingCalendar,
    add_working_days,
    is_working_day,
    next_slot,
    next_working_day,
    previous_working_day,
    working_days_between,
)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMSTERDAM)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- which days ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 3, 7), True),  # an ordinary Friday
        (date(2025, 3, 8), False),  # Saturday
        (date(2025, 3, 9), False),  # Sunday
        (date(2025, 1, 1), False),  # Nieuwjaarsdag
        (date(2025, 4, 21), False),  # Tweede paasdag
        (date(2026, 4, 27), False),  # Koningsdag on a Monday
        (date(2023, 4, 27), False),  # Koningsdag on a Thursday
        (date(2025, 4, 28), True),  # 27 April 2025 is a Sunday: Koningsdag moved back, not forward
        (date(2025, 5, 29), False),  # Hemelvaartsdag
        (date(2025, 5, 30), True),  # the Friday after is a normal working day
        (date(2025, 6, 9), False),  # Tweede pinksterdag
        (date(2025, 12, 25), False),  # Eerste kerstdag
        (date(2025, 12, 26), False),  # Tweede kerstdag
        (date(2025, 12, 24), True),
        (date(2025, 5, 5), False),  # Bevrijdingsdag in a lustrum year
        (date(2026, 5, 5), True),  # ... and not in other years, by default
    ],
)
def test_is_working_day(day: date, working: bool) -> None:
    assert is_working_day(day) is working


def test_koningsdag_on_saturday_when_27th_is_sunday() -> None:
    nl = holidays.Netherlands(years=2025)
    assert date(2025, 4, 26) in nl
    assert date(2025, 4, 27) not in nl


def test_liberation_day_is_configurable() -> None:
    always = WorkingCalendar(liberation_day="always")
    never = WorkingCalendar(liberation_day="never")
    assert not always.is_working_day(date(2026, 5, 5))
    assert never.is_working_day(date(2025, 5, 5))
    with pytest.raises(ValueError, match="liberation_day"):
        WorkingCalendar(liberation_day="sometimes")  # type: ignore[arg-type]


def test_good_friday_is_configurable() -> None:
    assert not is_working_day(date(2025, 4, 18))
    assert WorkingCalendar(good_friday=False).is_working_day(date(2025, 4, 18))


def test_aware_datetime_counts_by_its_local_date() -> None:
    # 23:30 UTC on Friday is already Saturday in Amsterdam.
    assert not is_working_day(utc(2025, 3, 7, 23, 30))
    assert is_working_day(utc(2025, 3, 7, 22, 30))


def test_next_and_previous_working_day() -> None:
    assert next_working_day(date(2025, 3, 7)) == date(2025, 3, 10)
    assert previous_working_day(date(2025, 3, 10)) == date(2025, 3, 7)
    # Over Christmas and the weekend after it.
    assert next_working_day(date(2025, 12, 24)) == date(2025, 12, 29)
    assert previous_working_day(date(2025, 12, 29)) == date(2025, 12, 24)
    # Over Hemelvaartsdag.
    assert next_working_day(date(2025, 5, 28)) == date(2025, 5, 30)


# -- deadlines -----------------------------------------------------------------------------------


def test_friday_evening_two_days_is_tuesday_end_of_day() -> None:
    due = add_working_days(local(2025, 3, 7, 20, 15), 2)
    assert due == local(2025, 3, 11, 23, 59, 59)
    assert due.tzinfo is UTC
    assert due == utc(2025, 3, 11, 22, 59, 59)


def test_the_hour_of_receipt_does_not_matter() -> None:
    assert add_working_days(local(2025, 3, 7, 0, 1), 2) == add_working_days(
        local(2025, 3, 7, 23, 59), 2
    )
    # Saturday and Sunday arrivals count from Monday, like Friday ones.
    assert add_working_days(local(2025, 3, 8, 12), 2) == local(2025, 3, 11, 23, 59, 59)
    assert add_working_days(local(2025, 3, 9, 12), 2) == local(2025, 3, 11, 23, 59, 59)


def test_zero_days_is_end_of_the_day_or_the_next_working_day() -> None:
    assert add_working_days(local(2025, 3, 6, 9), 0) == local(2025, 3, 6, 23, 59, 59)
    assert add_working_days(local(2025, 3, 8, 9), 0) == local(2025, 3, 10, 23, 59, 59)


def test_deadline_skips_holidays() -> None:
    # Christmas Eve plus 2: 25, 26 (holidays), 27, 28 (weekend) → 29 and 30 December.
    assert add_working_days(local(2025, 12, 24, 10), 2) == local(2025, 12, 30, 23, 59, 59)
    # Wednesday before Hemelvaartsdag plus 1: Friday.
    assert add_working_days(local(2025, 5, 28, 10), 1) == local(2025, 5, 30, 23, 59, 59)
    # Friday before Koningsdag 2026 (Monday 27 April) plus 1: Tuesday.
    assert add_working_days(local(2026, 4, 24, 10), 1) == local(2026, 4, 28, 23, 59, 59)


def test_deadline_over_dst_switch_keeps_local_end_of_day() -> None:
    # Summer time starts on Sunday 30 March 2025: the deadline is 23:59:59 CEST (UTC+2).
    due = add_working_days(local(2025, 3, 28, 19), 2)
    assert due == utc(2025, 4, 1, 21, 59, 59)
    # Winter time starts on Sunday 26 October 2025: back to UTC+1.
    due = add_working_days(local(2025, 10, 24, 19), 1)
    assert due == utc(2025, 10, 27, 22, 59, 59)


def test_deadline_at_custom_time_of_day() -> None:
    assert add_working_days(local(2025, 3, 7, 20), 1, at=time(17)) == local(2025, 3, 10, 17)


def test_negative_days_rejected() -> None:
    with pytest.raises(ValueError):
        add_working_days(local(2025, 3, 7), -1)


# -- statistics ----------------------------------------------------------------------------------


def test_working_days_between_skips_weekend() -> None:
    assert working_days_between(local(2025, 3, 7, 16), local(2025, 3, 10, 10)) == pytest.approx(
        0.75
    )
    # A whole working week.
    assert working_days_between(local(2025, 3, 10), local(2025, 3, 17)) == pytest.approx(5)
    # Within the weekend nothing passes.
    assert working_days_between(local(2025, 3, 8, 9), local(2025, 3, 9, 18)) == 0


def test_working_days_between_over_holidays_and_dst() -> None:
    # Wednesday noon → Friday noon over Hemelvaartsdag: half Wednesday + half Friday.
    assert working_days_between(local(2025, 5, 28, 12), local(2025, 5, 30, 12)) == pytest.approx(
        1.0
    )
    # Friday noon → Monday noon across the end of summer time (Sunday has 25 hours).
    assert working_days_between(local(2025, 10, 24, 12), local(2025, 10, 27, 12)) == pytest.approx(
        1.0
    )
    # Christmas: Wednesday 24 December 00:00 → Monday 29 December 00:00 is one working day.
    assert working_days_between(local(2025, 12, 24), local(2025, 12, 29)) == pytest.approx(1.0)


def test_working_days_between_is_antisymmetric() -> None:
    a, b = local(2025, 3, 5, 9), local(2025, 3, 12, 15)
    assert working_days_between(b, a) == pytest.approx(-working_days_between(a, b))
    assert working_days_between(a, a) == 0


# -- digest slots --------------------------------------------------------------------------------

DIGEST = [time(8, 30), time(13, 0)]


def test_next_slot_same_day_and_next_day() -> None:
    assert next_slot(local(2025, 3, 5, 7), DIGEST) == local(2025, 3, 5, 8, 30)
    assert next_slot(local(2025, 3, 5, 8, 30), DIGEST) == local(2025, 3, 5, 13)  # strictly after
    assert next_slot(local(2025, 3, 5, 14), DIGEST) == local(2025, 3, 6, 8, 30)
    assert next_slot(local(2025, 3, 5, 14), DIGEST).tzinfo is UTC


def test_next_slot_skips_weekend_and_holidays() -> None:
    assert next_slot(local(2025, 3, 7, 14), DIGEST) == local(2025, 3, 10, 8, 30)
    assert next_slot(local(2025, 12, 24, 14), DIGEST) == local(2025, 12, 29, 8, 30)
    assert next_slot(local(2026, 4, 24, 14), DIGEST) == local(2026, 4, 28, 8, 30)


def test_next_slot_over_dst_switch() -> None:
    # Friday 28 March 2025 08:30 is CET (07:30 UTC); Monday 31 March 08:30 is CEST (06:30 UTC).
    assert next_slot(local(2025, 3, 28, 7), DIGEST) == utc(2025, 3, 28, 7, 30)
    assert next_slot(local(2025, 3, 28, 14), DIGEST) == utc(2025, 3, 31, 6, 30)
    # And back in October.
    assert next_slot(local(2025, 10, 24, 14), DIGEST) == utc(2025, 10, 27, 7, 30)


def test_next_slot_accepts_unsorted_times_and_utc_input() -> None:
    assert next_slot(utc(2025, 3, 5, 11), [time(13), time(8, 30)]) == local(2025, 3, 5, 13)


def test_next_slot_rejects_empty_or_aware_times() -> None:
    with pytest.raises(ValueError):
        next_slot(local(2025, 3, 5), [])
    with pytest.raises(ValueError):
        next_slot(local(2025, 3, 5), [time(8, tzinfo=UTC)])


# -- naive input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: add_working_days(datetime(2025, 3, 7, 20), 2),
        lambda: working_days_between(datetime(2025, 3, 7), local(2025, 3, 8)),
        lambda: working_days_between(local(2025, 3, 7), datetime(2025, 3, 8)),
        lambda: next_slot(datetime(2025, 3, 7), DIGEST),
        lambda: is_working_day(datetime(2025, 3, 7, 12)),
    ],
)
def test_naive_datetimes_raise(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="timezone-aware"):
        call()
