"""The billing schedule: every partition not synced in full, from a real (temporary) Dagster instance."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from jde_stripe_pipeline.ledger import Ledger, RecordOutcome
from jde_stripe_pipeline.orchestration.names import EXTRACTED_AT, STRIPE_CUSTOMERS, STRIPE_INVOICES
from jde_stripe_pipeline.orchestration.partitions import build_partitions
from jde_stripe_pipeline.orchestration.resources import LedgerResource
from jde_stripe_pipeline.orchestration.schedules import build_billing_schedule, unsettled_partitions
from jde_stripe_pipeline.settings import ScheduleSettings

CHICAGO = ZoneInfo("America/Chicago")
PARTITIONS = build_partitions("America/Chicago", date(2026, 1, 1))
billing_cycle_schedule = build_billing_schedule(ScheduleSettings(), "America/Chicago", PARTITIONS)


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 1, day, hour, tzinfo=CHICAGO)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance


def synced(instance: dg.DagsterInstance, asset_key: dg.AssetKey, partition: str, extracted: datetime) -> None:
    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            asset_key=asset_key,
            partition=partition,
            metadata={EXTRACTED_AT: dg.MetadataValue.timestamp(extracted)},
        )
    )


@pytest.fixture
def ledger_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state.sqlite'}"


def tick(instance: dg.DagsterInstance, when: datetime, ledger_url: str | None = None) -> list[dg.RunRequest]:
    with dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=when,
        resources={"ledger": LedgerResource(state_url=ledger_url or "sqlite://")},
    ) as context:
        result = billing_cycle_schedule(context)
        assert result is not None
        return list(result)  # type: ignore[arg-type]


def test_pure_rule_settles_only_extracts_after_the_day_ended() -> None:
    end = {"d1": at(2, 0), "d2": at(3, 0)}
    customers = {"d1": at(2, 0) + timedelta(minutes=11), "d2": at(2, 23)}
    invoices = {"d1": at(2, 6), "d2": at(3, 6)}
    assert unsettled_partitions(["d1", "d2"], end.__getitem__, [customers, invoices]) == ["d2"]
    # Within the grace, a midnight extract does not count yet.
    early = {"d1": at(2, 0) + timedelta(minutes=5)}
    assert unsettled_partitions(["d1"], end.__getitem__, [early, invoices]) == ["d1"]


def test_first_tick_requests_every_partition_today_included(instance: dg.DagsterInstance) -> None:
    requests = tick(instance, at(5, 6))
    assert [r.partition_key for r in requests] == [f"2026-01-0{d}" for d in range(1, 6)]


def test_tick_skips_settled_days_and_keeps_the_rest(instance: dg.DagsterInstance) -> None:
    for day in ("2026-01-01", "2026-01-03"):
        synced(instance, STRIPE_CUSTOMERS, day, at(4, 6))
        synced(instance, STRIPE_INVOICES, day, at(4, 6))
    synced(instance, STRIPE_CUSTOMERS, "2026-01-02", at(4, 6))  # invoices of the 2nd never synced
    synced(instance, STRIPE_CUSTOMERS, "2026-01-04", at(4, 6))  # synced during the day: incomplete
    synced(instance, STRIPE_INVOICES, "2026-01-04", at(4, 6))

    requests = tick(instance, at(5, 6))
    assert [r.partition_key for r in requests] == ["2026-01-02", "2026-01-04", "2026-01-05"]
    assert all(r.run_key and "2026-01-05T06:00:00" in r.run_key for r in requests)


def test_a_skipped_tick_leaves_nothing_behind(instance: dg.DagsterInstance) -> None:
    first = tick(instance, at(3, 6))
    # The runs of the first tick never happened; the next tick still asks for those days.
    second = tick(instance, at(4, 6))
    assert {r.partition_key for r in first} < {r.partition_key for r in second}
    assert not {r.run_key for r in first} & {r.run_key for r in second}


def test_a_later_sync_settles_a_day_and_the_next_tick_drops_it(instance: dg.DagsterInstance) -> None:
    synced(instance, STRIPE_CUSTOMERS, "2026-01-01", at(1, 6))
    synced(instance, STRIPE_INVOICES, "2026-01-01", at(1, 6))
    assert "2026-01-01" in [r.partition_key for r in tick(instance, at(2, 6))]
    synced(instance, STRIPE_CUSTOMERS, "2026-01-01", at(2, 6))
    synced(instance, STRIPE_INVOICES, "2026-01-01", at(2, 6))
    assert "2026-01-01" not in [r.partition_key for r in tick(instance, at(3, 6))]


def test_the_schedule_runs_on_the_configured_cron_in_the_jde_zone() -> None:
    schedule = build_billing_schedule(
        ScheduleSettings(billing_cron="30 5 * * 1-5"), "Europe/Berlin", PARTITIONS
    )
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("30 5 * * 1-5", "Europe/Berlin")
    assert billing_cycle_schedule.cron_schedule == "0 6 * * *"


def test_a_settled_day_with_drift_found_in_stripe_is_asked_for_until_repaired(
    instance: dg.DagsterInstance, ledger_url: str
) -> None:
    for asset_key in (STRIPE_CUSTOMERS, STRIPE_INVOICES):
        synced(instance, asset_key, "2026-01-01", at(2, 6))
    assert "2026-01-01" not in [r.partition_key for r in tick(instance, at(3, 6), ledger_url)]
    created = RecordOutcome(
        run_id="r1",
        partition_key="2026-01-01",
        object_type="invoice",
        record_key="00001/1001/OP/000",
        action="create",
        outcome="created",
        stripe_id="in_1",
        payload_hash="h1",
    )
    with Ledger.open(ledger_url) as ledger:
        ledger.record_outcome(created)
        assert ledger.drift.mark(
            "invoice", created.record_key, stripe_id="in_1", content_hash="h1", reason="deleted in Stripe",
            run_id="r2", partition_key="2026-01-01",
        )  # fmt: skip
    assert "2026-01-01" in [r.partition_key for r in tick(instance, at(3, 6), ledger_url)]
    with Ledger.open(ledger_url) as ledger:
        ledger.record_outcome(
            replace(created, run_id="r3", action="converge", outcome="repaired", payload_hash="h2")
        )
    assert "2026-01-01" not in [r.partition_key for r in tick(instance, at(3, 6), ledger_url)]
