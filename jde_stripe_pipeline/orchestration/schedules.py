"""The billing-cycle schedule: sync every partition that is not known to be complete.

A partition (a JDE update day) is *settled* when both Stripe assets last materialized it from an
extract that began after the day had ended (plus a grace for late commits): nothing can change it
any more without a new UPMJ, which lands in a newer partition. Each tick requests a run for every
partition since `JDE_STRIPE_START_DATE` that is not settled — normally yesterday and today. A
skipped or failed tick therefore leaves nothing behind: its partitions stay unsettled and the next
tick asks for them again. A settled partition whose reconciliation found drift in Stripe (a draft
deleted or edited there: `ledger.drift`) is asked for again until a run repairs it. Run keys carry the
tick time, so Dagster's permanent run-key
de-duplication never swallows a later tick's request.

The cron (`JDE_STRIPE_BILLING_CRON`, default `0 6 * * *`) runs in `JDE_TIMEZONE`; both come from the
settings root when the definitions are built.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta

import dagster as dg

from jde_stripe_pipeline.orchestration.account_partitions import DAY, SyncPartitions
from jde_stripe_pipeline.orchestration.jobs import sync_job
from jde_stripe_pipeline.orchestration.names import EXTRACTED_AT, SYNC_ASSETS
from jde_stripe_pipeline.orchestration.resources import LedgerResource
from jde_stripe_pipeline.settings import ScheduleSettings

SCHEDULE_NAME = "jde_stripe_billing_cycle"
SETTLE_GRACE = timedelta(minutes=10)
"""A change committed just before midnight may reach AIS a little after it: an extract must begin this
long after the day's end to count as complete."""


def unsettled_partitions(
    partition_keys: Sequence[str],
    partition_end: Callable[[str], datetime],
    extracted_at: Sequence[Mapping[str, datetime]],
    *,
    grace: timedelta = SETTLE_GRACE,
) -> list[str]:
    """The keys, in order, that some Stripe asset has not synced from an extract begun after the
    partition's end + grace. `extracted_at` holds, per Stripe asset, partition → extract start."""
    wanted = []
    for key in partition_keys:
        settled_after = partition_end(key) + grace
        if not all(key in times and times[key] >= settled_after for times in extracted_at):
            wanted.append(key)
    return wanted


def latest_extract_times(instance: dg.DagsterInstance, asset_key: dg.AssetKey) -> dict[str, datetime]:
    """Partition → `jde_extracted_at` of the asset's latest materialization of that partition."""
    latest = instance.get_latest_storage_id_by_partition(asset_key, dg.DagsterEventType.ASSET_MATERIALIZATION)
    if not latest:
        return {}
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, storage_ids=list(latest.values())), limit=len(latest)
    ).records
    found: dict[str, datetime] = {}
    for record in records:
        materialization = record.asset_materialization
        if materialization is None or materialization.partition is None:
            continue
        stamp = materialization.metadata.get(EXTRACTED_AT)
        if isinstance(stamp, dg.TimestampMetadataValue):
            found[materialization.partition] = datetime.fromtimestamp(stamp.value).astimezone()
    return found


def partitions_due(instance: dg.DagsterInstance, partitions: SyncPartitions, now: datetime) -> list[str]:
    """Every existing partition at `now` that is not settled (for day × account, each pair apart)."""
    keys = partitions.get_partition_keys(current_time=now)
    times = [latest_extract_times(instance, asset_key) for asset_key in SYNC_ASSETS]
    return unsettled_partitions(keys, lambda key: partitions.time_window_for_partition_key(key).end, times)


def billing_run_requests(
    instance: dg.DagsterInstance,
    partitions: SyncPartitions,
    tick: datetime,
    drifted: Sequence[str] = (),
) -> Iterator[dg.RunRequest]:
    """The unsettled partitions, then the settled ones whose drift found in Stripe awaits its repair."""
    due = partitions_due(instance, partitions, tick)
    days = set(drifted)
    again = [k for k in partitions.get_partition_keys(current_time=tick) if _day(partitions, k) in days]
    for key in [*due, *(k for k in again if k not in due)]:
        yield dg.RunRequest(
            run_key=f"billing:{tick.isoformat()}:{key}",
            partition_key=key,
            tags={"jde_stripe/trigger": "billing_schedule"},
        )


def build_billing_schedule(
    schedule: ScheduleSettings, timezone: str, partitions: SyncPartitions
) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=SCHEDULE_NAME,
        cron_schedule=schedule.billing_cron,
        execution_timezone=timezone,
        job=sync_job,
        description="Each billing cycle, sync every JDE update day not yet synced in full (see module doc).",
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )
    def billing_cycle_schedule(
        context: dg.ScheduleEvaluationContext, ledger: LedgerResource
    ) -> Iterator[dg.RunRequest]:
        tick = context.scheduled_execution_time
        with ledger.open() as state:
            drifted = state.drift.partitions()
        requests = list(billing_run_requests(context.instance, partitions, tick, drifted))
        context.log.info(f"billing tick {tick.isoformat()}: {len(requests)} partition(s) due")
        yield from requests

    return billing_cycle_schedule


def _day(partitions: SyncPartitions, key: str) -> str:
    """A partition key's day (the key itself for daily partitions)."""
    if isinstance(partitions, dg.MultiPartitionsDefinition):
        return partitions.get_partition_key_from_str(key).keys_by_dimension[DAY]
    return key
