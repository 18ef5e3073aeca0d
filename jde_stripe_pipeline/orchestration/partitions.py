"""Daily partitions on the JDE update date (UPMJ), in the JDE server's time zone.

A partition `2026-11-25` holds every record whose UPMJ/UPMT (or TDAY) stamp falls on that day in
`JDE_TIMEZONE`: the asset extracts the window `[day 00:00, next day 00:00)` of naive local stamps,
which is how JDE stores and filters them. The current day is a partition too (`end_offset=1`) so
intraday changes sync before the day is over.

Both settings come from the settings root when the definitions are built (they shape the partition
keys, so they must be known before any run): `JDE_TIMEZONE` (required: a wrong zone cuts every
partition in the wrong place) and `JDE_STRIPE_START_DATE` (a fixed date so that keys never shift).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import dagster as dg

PARTITION_FORMAT = "%Y-%m-%d"


def build_partitions(timezone: str, first_day: date) -> dg.DailyPartitionsDefinition:
    """The daily partitions every asset of the code location shares."""
    return dg.DailyPartitionsDefinition(
        start_date=first_day.strftime(PARTITION_FORMAT),
        timezone=timezone,
        end_offset=1,
        fmt=PARTITION_FORMAT,
    )


@dataclass(frozen=True)
class UpdateWindowBounds:
    """`[start, end)` as naive datetimes in the JDE server's zone (how JDE stamps compare)."""

    start: datetime
    end: datetime


def local_window(window: dg.TimeWindow, timezone: str) -> UpdateWindowBounds:
    """A Dagster time window (tz-aware) as naive JDE-local bounds; a range covers several days."""
    zone = ZoneInfo(timezone)
    return UpdateWindowBounds(
        start=window.start.astimezone(zone).replace(tzinfo=None),
        end=window.end.astimezone(zone).replace(tzinfo=None),
    )


def partition_key_of(day: date) -> str:
    return day.strftime(PARTITION_FORMAT)


def day_of(partition_key: str) -> date:
    return datetime.strptime(partition_key, PARTITION_FORMAT).date()
