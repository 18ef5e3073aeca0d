"""Partitions: days of JDE update date in the JDE zone, today included, windows as naive local time."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import dagster as dg

from jde_stripe_pipeline.orchestration.partitions import build_partitions, local_window


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
