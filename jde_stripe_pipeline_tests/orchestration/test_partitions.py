"""Partitions: days of JDE update date in the JDE zone, today included, windows as naive local time."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from jde_stripe_pipeline.orchestration.partitions import (
    DEFAULT_START_DATE,
    PartitionSettingsError,
    build_partitions,
    jde_timezone,
    local_window,
    start_date,
)


def test_the_start_date_has_a_default_the_zone_has_none() -> None:
    assert start_date({}) == DEFAULT_START_DATE
    with pytest.raises(PartitionSettingsError, match=r"^JDE_TIMEZONE is not set: set it to the JDE server's"):
        jde_timezone({})
    assert jde_timezone({"JDE_TIMEZONE": " Europe/Berlin "}) == "Europe/Berlin"


def test_bad_settings_name_the_variable() -> None:
    with pytest.raises(PartitionSettingsError, match="JDE_TIMEZONE='Mars/Olympus'"):
        jde_timezone({"JDE_TIMEZONE": "Mars/Olympus"})
    with pytest.raises(PartitionSettingsError, match="JDE_STRIPE_START_DATE='01/02/2026'"):
        start_date({"JDE_STRIPE_START_DATE": "01/02/2026"})


def test_today_is_a_partition_in_the_jde_zone() -> None:
    partitions = build_partitions("America/Chicago", date(2026, 11, 20))
    # 03:00 UTC on the 26th is still the 25th in Chicago: the 25th is "today" and exists.
    now = datetime(2026, 11, 26, 3, 0, tzinfo=ZoneInfo("UTC"))
    keys = partitions.get_partition_keys(current_time=now)
    assert keys[0] == "2026-11-20"
    assert keys[-1] == "2026-11-25"


def test_window_is_naive_local_midnight_to_midnight() -> None:
    partitions = build_partitions("America/Chicago", date(2026, 11, 1))
    window = local_window(partitions.time_window_for_partition_key("2026-11-01"), "America/Chicago")
    assert window.start == datetime(2026, 11, 1)
    assert window.end == datetime(2026, 11, 2)  # the DST change on Nov 1 still gives local midnight


def test_range_window_covers_several_days() -> None:
    partitions = build_partitions("Europe/Berlin", date(2026, 3, 1))
    keys = partitions.get_partition_keys_in_range(dg.PartitionKeyRange("2026-03-28", "2026-03-30"))
    first = partitions.time_window_for_partition_key(keys[0])
    last = partitions.time_window_for_partition_key(keys[-1])
    window = local_window(dg.TimeWindow(first.start, last.end), "Europe/Berlin")
    assert (window.start, window.end) == (datetime(2026, 3, 28), datetime(2026, 3, 31))
