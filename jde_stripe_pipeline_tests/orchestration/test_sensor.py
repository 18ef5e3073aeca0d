"""The change sensor against the AIS sandbox: a JDE change → one run request for its day; none → skip."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg

from jde_stripe_pipeline.orchestration.change_cursor import decode_cursor
from jde_stripe_pipeline.orchestration.definitions import build_definitions
from jde_stripe_pipeline.orchestration.sensors import SENSOR_NAME
from jde_stripe_pipeline.settings import Settings
from jde_stripe_pipeline_tests.orchestration.conftest import TIMEZONE, Pipeline

DEFS = build_definitions(Settings.of(TIMEZONE))


def tick(instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorExecutionData:  # type: ignore[name-defined]
    with dg.build_sensor_context(
        instance=instance, cursor=cursor, resources=DEFS.resources, definitions=DEFS
    ) as context:
        return DEFS.resolve_sensor_def(SENSOR_NAME).evaluate_tick(context)


def rename_customer(pipeline: Pipeline, name: str) -> None:
    an8 = pipeline.world.sandbox.rows("F0101")[0]["AN8"]
    pipeline.world.upsert("F0101", [{"AN8": an8, "ALPH": name}])
    time.sleep(1.1)  # the stamp's second must be in the past for the probe's [since, now) window


def test_a_jde_change_requests_exactly_its_partition_and_moves_the_cursor(
    pipeline: Pipeline, instance: dg.DagsterInstance
) -> None:
    first = tick(instance, None)  # the seed's own recent stamps, if any: establishes the cursor
    cursor = first.cursor

    quiet = tick(instance, cursor)
    assert quiet.run_requests == []
    assert quiet.skip_message and "no JDE change" in quiet.skip_message
    assert quiet.cursor in (None, cursor)

    rename_customer(pipeline, "Renamed In JDE One")
    today = datetime.now(ZoneInfo(TIMEZONE)).date().isoformat()
    changed = tick(instance, cursor)
    assert [r.partition_key for r in changed.run_requests] == [today]
    assert changed.cursor is not None
    moved = decode_cursor(changed.cursor)
    assert moved is not None and (cursor is None or moved > decode_cursor(cursor))  # type: ignore[operator]

    assert tick(instance, changed.cursor).run_requests == []

    rename_customer(pipeline, "Renamed In JDE Two")
    again = tick(instance, changed.cursor)
    assert [r.partition_key for r in again.run_requests] == [today]
    run_keys = [r.run_key for r in first.run_requests + changed.run_requests + again.run_requests]
    assert len(run_keys) == len(set(run_keys))
