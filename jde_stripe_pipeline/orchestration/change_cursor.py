"""The change sensor's decision, pure: which partitions to run and how far the cursor may move.

The sensor probes AIS for the stamps (UPMJ + UPMT/TDAY) of rows changed since its cursor and gets,
per update day, the latest stamp seen. This module turns that into run requests:
- a day counts as changed when its latest stamp is newer than the cursor (the probe window includes
  the cursor's own second, so rows at exactly the cursor are seen again but do not re-trigger);
- a day before the first partition is dropped (nothing to sync it into); a day with no partition yet
  (a JDE clock ahead of ours) is not requested and does not move the cursor, so it is seen again;
- the cursor moves to the latest stamp actually acted on, never to "now": a row committed late with
  an older stamp is still in the next probe's window.
- run keys carry the new cursor, so Dagster's permanent run-key de-duplication only ever drops a
  true repeat of the same tick.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from jde_stripe_pipeline.orchestration.partitions import partition_key_of

CURSOR_VERSION = 1


class CursorError(ValueError):
    """A sensor cursor this code cannot read (reset the sensor's cursor in the UI)."""


@dataclass(frozen=True)
class ChangeDecision:
    partition_keys: tuple[str, ...]
    cursor: datetime
    """Naive, JDE-local: the latest stamp acted on."""

    def run_key(self, partition_key: str) -> str:
        return f"jde-change:{partition_key}:{self.cursor.isoformat()}"


def encode_cursor(latest: datetime) -> str:
    return json.dumps({"v": CURSOR_VERSION, "latest": latest.isoformat()})


def decode_cursor(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        payload = json.loads(raw)
        if payload.get("v") != CURSOR_VERSION:
            raise CursorError(f"sensor cursor version {payload.get('v')!r} is not {CURSOR_VERSION}")
        latest = datetime.fromisoformat(payload["latest"])
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise CursorError(f"unreadable sensor cursor {raw!r}: {error}") from None
    if latest.tzinfo is not None:
        raise CursorError(f"sensor cursor {raw!r} must be a naive JDE-local stamp")
    return latest


def first_probe_start(now_local: datetime) -> datetime:
    """Without a cursor, look back to the start of yesterday: the schedule owns older history."""
    return datetime.combine(now_local.date() - timedelta(days=1), datetime.min.time())


def decide(
    latest_by_day: Mapping[date, datetime],
    cursor: datetime | None,
    existing_partition_keys: Collection[str],
    first_partition: date,
) -> ChangeDecision | None:
    """The partitions to request and the new cursor; None when nothing new was seen."""
    wanted: list[str] = []
    acted_on: list[datetime] = []
    for day, stamp in sorted(latest_by_day.items()):
        if cursor is not None and stamp <= cursor:
            continue
        key = partition_key_of(day)
        if day < first_partition:
            acted_on.append(stamp)
        elif key in existing_partition_keys:
            wanted.append(key)
            acted_on.append(stamp)
    if not acted_on:
        return None
    new_cursor = max(acted_on) if cursor is None else max(cursor, *acted_on)
    return ChangeDecision(partition_keys=tuple(wanted), cursor=new_cursor)
