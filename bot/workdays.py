"""Working days of a Dutch municipality: deadlines, response-time statistics, digest slots.

Conventions (one place, so reminders, escalations and statistics agree):

* The calendar is local (Europe/Amsterdam by default); every datetime going in must be aware,
  every datetime coming out is aware UTC (the database stores UTC).
* A working day is Monday to Friday and not a public holiday per `holidays.Netherlands`.
  Bevrijdingsdag (5 May) is in the Algemene termijnenwet every year, but most municipal CAOs give
  it off only in lustrum years (2025, 2030, ...); `liberation_day` chooses, default as the
  `holidays` package says (lustrum years only). Goede Vrijdag is a day off in the package;
  municipalities that stay open pass `good_friday=False`.
* Deadlines: the day a question arrives never counts, whatever the hour (as in the Awb, a term
  starts the day after receipt). `n` working days later, the question is due at the end of that
  day, local time (23:59:59). A question received on Friday evening, or on Saturday, with 2
  working days is due Tuesday 23:59:59 local. With n == 0 it is due at the end of the day of
  receipt, or of the next working day if that day is not one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

import holidays

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
END_OF_DAY = time(23, 59, 59)
LiberationDay = Literal["lustrum", "always", "never"]
# A working day is never further than this; a guard against an endless loop on a broken calendar.
_MAX_SEARCH_DAYS = 400


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")


@lru_cache(maxsize=256)
def _holidays_of(year: int, liberation_day: LiberationDay, good_friday: bool) -> frozenset[date]:
    # Explicit language: the names are matched below and must not follow the process locale.
    public = holidays.Netherlands(years=year, language="en_US")
    days = set(public)
    may_5 = date(year, 5, 5)
    if liberation_day == "always":
        days.add(may_5)
    elif liberation_day == "never":
        days.discard(may_5)
    if not good_friday:
        days -= {d for d, name in public.items() if name == "Good Friday"}
    return frozenset(days)


class WorkingCalendar:
    """A municipality's working days in its own time zone."""

    def __init__(
        self,
        tz: ZoneInfo | str = AMSTERDAM,
        *,
        liberation_day: LiberationDay = "lustrum",
        good_friday: bool = True,
    ) -> None:
        if liberation_day not in ("lustrum", "always", "never"):
            raise ValueError(f"liberation_day must be lustrum, always or never: {liberation_day!r}")
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self.liberation_day: LiberationDay = liberation_day
        self.good_friday = good_friday

    # -- dates ---------------------------------------------------------------------------------

    def local_date(self, moment: datetime) -> date:
        _require_aware(moment, "moment")
        return moment.astimezone(self.tz).date()

    def is_working_day(self, d: date) -> bool:
        if isinstance(d, datetime):  # an aware moment: its local date; naive raises
            d = self.local_date(d)
        if d.weekday() >= 5:
            return False
        return d not in _holidays_of(d.year, self.liberation_day, self.good_friday)

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after `d`."""
        return self._step(d, +1)

    def previous_working_day(self, d: date) -> date:
        """The last working day strictly before `d` (e.g. the day to remind before a deadline)."""
        return self._step(d, -1)

    def _step(self, d: date, direction: int) -> date:
        if isinstance(d, datetime):
            d = self.local_date(d)
        for _ in range(_MAX_SEARCH_DAYS):
            d += timedelta(days=direction)
            if self.is_working_day(d):
                return d
        raise RuntimeError(f"no working day within {_MAX_SEARCH_DAYS} days of {d}")

    def _at(self, d: date, t: time) -> datetime:
        """Local wall-clock time on `d` as aware UTC. A time skipped by DST (02:30 on the last
        Sunday of March) lands an hour later; an ambiguous one (October) takes its first
        occurrence. Working days are never Sundays, so neither happens for deadlines or digests."""
        return datetime.combine(d, t, tzinfo=self.tz).astimezone(UTC)

    # -- deadlines -----------------------------------------------------------------------------

    def add_working_days(self, start: datetime, n: int, *, at: time = END_OF_DAY) -> datetime:
        """The deadline `n` working days after `start` (see the module docstring), aware UTC."""
        _require_aware(start, "start")
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        day = self.local_date(start)
        if n == 0:
            if not self.is_working_day(day):
                day = self.next_working_day(day)
        else:
            for _ in range(n):
                day = self.next_working_day(day)
        return self._at(day, at)

    def working_days_between(self, a: datetime, b: datetime) -> float:
        """Working time from `a` to `b` in working days (fractional; negative if b < a).

        Each local working day counts as 1 whatever its length in hours (DST days have 23 or 25),
        weekends and holidays count 0. Friday 16:00 → Monday 10:00 is 8/24 + 10/24 = 0.75.
        """
        _require_aware(a, "a")
        _require_aware(b, "b")
        if b < a:
            return -self.working_days_between(b, a)
        total = 0.0
        day = self.local_date(a)
        last = self.local_date(b)
        while day <= last:
            if self.is_working_day(day):
                day_start = self._at(day, time.min)
                day_end = self._at(day + timedelta(days=1), time.min)
                overlap = (min(b, day_end) - max(a, day_start)).total_seconds()
                if overlap > 0:
                    total += overlap / (day_end - day_start).total_seconds()
            day += timedelta(days=1)
        return total

    # -- digests -------------------------------------------------------------------------------

    def next_slot(self, after: datetime, times: Iterable[time]) -> datetime:
        """The first configured local time strictly after `after` on a working day, aware UTC."""
        _require_aware(after, "after")
        slots = sorted(set(times))
        if not slots:
            raise ValueError("times must not be empty")
        if any(t.tzinfo is not None for t in slots):
            raise ValueError("times are local wall-clock times and must not carry a tzinfo")
        day = self.local_date(after)
        if not self.is_working_day(day):
            day = self.next_working_day(day)
        for _ in range(_MAX_SEARCH_DAYS):
            for t in slots:
                candidate = self._at(day, t)
                if candidate > after:
                    return candidate
            day = self.next_working_day(day)
        raise RuntimeError(f"no slot within {_MAX_SEARCH_DAYS} days of {after.isoformat()}")


DEFAULT_CALENDAR = WorkingCalendar()


def is_working_day(d: date) -> bool:
    return DEFAULT_CALENDAR.is_working_day(d)


def next_working_day(d: date) -> date:
    return DEFAULT_CALENDAR.next_working_day(d)


def previous_working_day(d: date) -> date:
    return DEFAULT_CALENDAR.previous_working_day(d)


def add_working_days(start: datetime, n: int, *, at: time = END_OF_DAY) -> datetime:
    return DEFAULT_CALENDAR.add_working_days(start, n, at=at)


def working_days_between(a: datetime, b: datetime) -> float:
    return DEFAULT_CALENDAR.working_days_between(a, b)


def next_slot(after: datetime, times: Iterable[time]) -> datetime:
    return DEFAULT_CALENDAR.next_slot(after, times)
