"""Daily partitions on the JDE update date (UPMJ), in the JDE server's time zone.

A partition `2026-11-25` holds every record whose UPMJ/UPMT (or TDAY) stamp falls on that day in
`JDE_TIMEZONE`: the asset extracts the window `[day 00:00, next day 00:00)` of naive local stamps,
which is how JDE stores and filters them. The current day is a partition too (`end_offset=1`) so
intraday changes sync before the day is over.

Both settings are read when the code location loads (they shape the partition keys, so they must be
known before any run): `JDE_TIMEZONE` (required: no default, because a wrong zone cuts every
partition in the wrong place; the demo and the sandboxes set their own) and
`JDE_STRIPE_START_DATE` (default `2026-01-01`, a fixed date so that partition keys never shift;
set it to the first day you want synced).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dagster as dg

from jde_stripe_pipeline.errors import ConfigurationError

ENV_TIMEZONE = "JDE_TIMEZONE"
ENV_START_DATE = "JDE_STRIPE_START_DATE"
DEFAULT_START_DATE = date(2026, 1, 1)
PARTITION_FORMAT = "%Y-%m-%d"


class PartitionSettingsError(ConfigurationError):
    """`JDE_TIMEZONE` or `JDE_STRIPE_START_DATE` is missing or cannot define the partitions.

    Its message is one line naming the variable and the fix (the CLI prints it as it is)."""


def jde_timezone(env: Mapping[str, str] | None = None) -> str:
    """The JDE server's IANA zone name, from `JDE_TIMEZONE` (required, validated)."""
    env = os.environ if env is None else env
    name = env.get(ENV_TIMEZONE, "").strip()
    if not name:
        raise PartitionSettingsError(
            f"{ENV_TIMEZONE} is not set: set it to the JDE server's IANA time zone, "
            f"e.g. {ENV_TIMEZONE}=America/Chicago"
        )
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise PartitionSettingsError(
            f"{ENV_TIMEZONE}={name!r} is not a known IANA time zone: "
            "set it to the JDE server's zone, e.g. America/Chicago"
        ) from None
    return name


def start_date(env: Mapping[str, str] | None = None) -> date:
    """The first partition: `JDE_STRIPE_START_DATE` (YYYY-MM-DD), else 2026-01-01."""
    env = os.environ if env is None else env
    raw = env.get(ENV_START_DATE, "").strip()
    if not raw:
        return DEFAULT_START_DATE
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise PartitionSettingsError(f"{ENV_START_DATE}={raw!r} is not a date (YYYY-MM-DD)") from None


def build_partitions(timezone: str, first_day: date) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(
        start_date=first_day.strftime(PARTITION_FORMAT),
        timezone=timezone,
        end_offset=1,
        fmt=PARTITION_FORMAT,
    )


jde_update_days = build_partitions(jde_timezone(), start_date())
"""The partitions every asset of this code location shares."""


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
