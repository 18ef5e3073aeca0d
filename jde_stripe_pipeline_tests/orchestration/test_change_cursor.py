"""The change sensor's pure decision: changed days → partitions, cursor only to what was acted on."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from jde_stripe_pipeline.orchestration.change_cursor import (
    CursorError,
    decide,
    decode_cursor,
    encode_cursor,
    first_probe_start,
)

EXISTING = {"2026-11-24", "2026-11-25", "2026-11-26"}
FIRST = date(2026, 11, 24)


def test_requests_each_changed_day_and_moves_cursor_to_latest_stamp() -> None:
    seen = {
        date(2026, 11, 25): datetime(2026, 11, 25, 23, 1),
        date(2026, 11, 26): datetime(2026, 11, 26, 9, 5),
    }
    decision = decide(seen, datetime(2026, 11, 25, 8, 0), EXISTING, FIRST)
    assert decision is not None
    assert decision.partition_keys == ("2026-11-25", "2026-11-26")
    assert decision.cursor == datetime(2026, 11, 26, 9, 5)
    assert decision.run_key("2026-11-26") == "jde-change:2026-11-26:2026-11-26T09:05:00"


def test_rows_at_the_cursor_itself_do_not_retrigger() -> None:
    cursor = datetime(2026, 11, 26, 9, 5)
    assert decide({date(2026, 11, 26): cursor}, cursor, EXISTING, FIRST) is None


def test_day_without_partition_yet_is_neither_requested_nor_passed() -> None:
    seen = {date(2026, 11, 26): datetime(2026, 11, 26, 10), date(2026, 11, 27): datetime(2026, 11, 27, 0, 5)}
    decision = decide(seen, datetime(2026, 11, 26, 9), EXISTING, FIRST)
    assert decision is not None
    assert decision.partition_keys == ("2026-11-26",)
    assert decision.cursor == datetime(2026, 11, 26, 10)


def test_day_before_first_partition_moves_cursor_without_a_run() -> None:
    seen = {date(2026, 11, 1): datetime(2026, 11, 1, 12)}
    decision = decide(seen, None, EXISTING, FIRST)
    assert decision is not None
    assert decision.partition_keys == ()
    assert decision.cursor == datetime(2026, 11, 1, 12)


def test_cursor_never_moves_back() -> None:
    seen = {date(2026, 11, 1): datetime(2026, 11, 1, 12), date(2026, 11, 25): datetime(2026, 11, 25, 7)}
    decision = decide(seen, datetime(2026, 11, 1, 0), EXISTING, FIRST)
    assert decision is not None and decision.cursor == datetime(2026, 11, 25, 7)


def test_cursor_round_trip_and_refusals() -> None:
    stamp = datetime(2026, 11, 26, 9, 5, 7)
    assert decode_cursor(encode_cursor(stamp)) == stamp
    assert decode_cursor(None) is None
    with pytest.raises(CursorError, match="unreadable"):
        decode_cursor("2026-11-26")
    with pytest.raises(CursorError, match="version"):
        decode_cursor('{"v": 9, "latest": "2026-11-26T00:00:00"}')


def test_first_probe_starts_yesterday_midnight() -> None:
    assert first_probe_start(datetime(2026, 11, 26, 9, 5)) == datetime(2026, 11, 25)
