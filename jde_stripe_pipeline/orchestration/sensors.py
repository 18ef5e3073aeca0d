"""The change sensor: a cheap AIS probe (stamp columns only) → runs for the days that changed.

Decision logic (cursor, clamping, run keys) lives in change_cursor.py and is unit-tested there.
"""

from collections.abc import Iterator
from datetime import datetime

import dagster as dg

from jde_stripe_pipeline.accounts import AccountRouting
from jde_stripe_pipeline.jde.probe import changed_update_dates
from jde_stripe_pipeline.jde.read import customer_reads
from jde_stripe_pipeline.orchestration.account_partitions import pair_requests
from jde_stripe_pipeline.orchestration.change_cursor import (
    decide,
    decode_cursor,
    encode_cursor,
    first_probe_start,
)
from jde_stripe_pipeline.orchestration.jobs import sync_job
from jde_stripe_pipeline.orchestration.partitions import day_of
from jde_stripe_pipeline.orchestration.resources import JdeAisResource

TRIGGER_TAG = "jde_stripe/trigger"
SENSOR_NAME = "jde_change_sensor"


def build_change_sensor(
    partitions: dg.TimeWindowPartitionsDefinition | dg.MultiPartitionsDefinition,
    routing: AccountRouting | None = None,
) -> dg.SensorDefinition:
    @dg.sensor(
        name=SENSOR_NAME,
        job=sync_job,
        minimum_interval_seconds=300,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Polls AIS for rows changed since its cursor (UPMJ/UPMT, TDAY) and syncs those days.",
    )
    def jde_change_sensor(
        context: dg.SensorEvaluationContext, jde: JdeAisResource
    ) -> Iterator[dg.RunRequest | dg.SkipReason]:
        yield from changed_days(context, jde, partitions, routing)

    return jde_change_sensor


def changed_days(
    context: dg.SensorEvaluationContext,
    jde: JdeAisResource,
    partitions: dg.TimeWindowPartitionsDefinition | dg.MultiPartitionsDefinition,
    routing: AccountRouting | None = None,
) -> Iterator[dg.RunRequest | dg.SkipReason]:
    """One tick: probe AIS since the cursor, request the existing days that changed (for day × account
    partitions, the pairs of the accounts whose companies changed), move the cursor."""
    cursor = decode_cursor(context.cursor)
    with jde.session() as session:
        now_local = datetime.now(session.settings.zone).replace(tzinfo=None, microsecond=0)
        since = cursor or first_probe_start(now_local)
        if since >= now_local:
            yield dg.SkipReason(f"cursor {since} is not before now {now_local} (JDE clock)")
            return
        tables = {spec.name: spec for spec in (*customer_reads(jde.ship_to_source), *jde.profile().tables)}
        probe = changed_update_dates(session, since, now_local, tables.values())
    days = (
        partitions.time_window_partitions_def
        if isinstance(partitions, dg.MultiPartitionsDefinition)
        else partitions
    )
    existing = set(days.get_partition_keys())
    first = day_of(days.get_first_partition_key() or "")
    decision = decide(probe.latest, cursor, existing, first)
    context.log.info(f"probe [{since}, {now_local}): {probe.total_rows} row(s); decision {decision}")
    if decision is None:
        yield dg.SkipReason(f"no JDE change since {since}")
        return
    keys: list[str] = list(decision.partition_keys)
    if isinstance(partitions, dg.MultiPartitionsDefinition):
        keys = list(pair_requests(decision.partition_keys, probe.companies, routing or AccountRouting()))
    for key in keys:
        yield dg.RunRequest(
            run_key=decision.run_key(key), partition_key=key, tags={TRIGGER_TAG: "jde_change"}
        )
    context.update_cursor(encode_cursor(decision.cursor))
