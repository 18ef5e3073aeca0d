"""JDE dates and times: Julian CYYDDD and HHMMSS, and their GRID_DATA spellings.

JDE stores a date as `(year - 1900) * 1000 + day_of_year` and a time as the integer HHMMSS, both in
the JDE server's local time zone; 0 (or blank) means "no date". AIS's GRID_DATA shows dates as
`yyyyMMdd` strings and times as HHMMSS integers, so both spellings are read here.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal
from functools import lru_cache

_EMPTY = (None, "", 0)


def julian_to_date(value: int | str | None) -> date | None:
    """CYYDDD → date; 0, blank or None → None. `126330` → 2026-11-26."""
    if value in _EMPTY or (isinstance(value, str) and not value.strip()):
        return None
    number = _as_int(value, "Julian date")
    if number < 0:
        raise ValueError(f"Julian date {value!r} is negative")
    year, day_of_year = 1900 + number // 1000, number % 1000
    if day_of_year < 1:
        raise ValueError(f"Julian date {value!r} has day of year 0")
    first = date(year, 1, 1)
    result = first + timedelta(days=day_of_year - 1)
    if result.year != year:
        raise ValueError(f"Julian date {value!r}: {year} has no day {day_of_year}")
    return result


def date_to_julian(value: date | None) -> int:
    """date → CYYDDD; None → 0. Years before 1900 cannot be written in CYYDDD."""
    if value is None:
        return 0
    if value.year < 1900:
        raise ValueError(f"{value} is before 1900 and has no CYYDDD form")
    return (value.year - 1900) * 1000 + value.timetuple().tm_yday


def hhmmss_to_time(value: int | str | None) -> time | None:
    """HHMMSS integer → time; None or blank → None. 0 is midnight (a real JDE time)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = _as_int(value, "HHMMSS time")
    if not 0 <= number <= 235959:
        raise ValueError(f"time {value!r} is not HHMMSS")
    hours, rest = divmod(number, 10000)
    minutes, seconds = divmod(rest, 100)
    if minutes > 59 or seconds > 59:
        raise ValueError(f"time {value!r} is not HHMMSS")
    return time(hours, minutes, seconds)


def time_to_hhmmss(value: time) -> int:
    """time → HHMMSS integer (sub-second part dropped: JDE stamps have whole seconds)."""
    return value.hour * 10000 + value.minute * 100 + value.second


def parse_grid_date(value: object) -> date | None:
    """A GRID_DATA date (`"yyyyMMdd"`; blank or 0 → None) → date."""
    if isinstance(value, str):
        return _grid_date_text(value)
    if value in _EMPTY:
        return None
    raise ValueError(f"date {value!r} is not yyyyMMdd")


@lru_cache(maxsize=4096)
def _grid_date_text(value: str) -> date | None:
    """Cached: the rows of an extract share a handful of dates (one UPMJ per day), and parsing
    each of them again was ~3% of an invoice extract's CPU. Errors are raised, never cached."""
    text = value.strip()
    if not text:
        return None
    if len(text) == 8 and text.isdigit():
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    raise ValueError(f"date {value!r} is not yyyyMMdd")


def parse_grid_time(value: object) -> time | None:
    """A GRID_DATA time (HHMMSS integer; blank → None) → time."""
    if type(value) is int:  # the common case, ahead of the checks below
        return hhmmss_to_time(value)
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal | None):
        raise ValueError(f"time {value!r} is not an HHMMSS integer")
    if isinstance(value, Decimal):
        if value != value.to_integral_value():
            raise ValueError(f"time {value!r} is not an HHMMSS integer")
        value = int(value)
    return hhmmss_to_time(value)


def _as_int(value: int | str, what: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{what} {value!r} is not a number")
    if isinstance(value, int):
        return value
    text = value.strip()
    if not text.lstrip("-").isdigit():
        raise ValueError(f"{what} {value!r} is not a number")
    return int(text)
