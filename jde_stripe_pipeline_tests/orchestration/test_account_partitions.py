"""The day × Stripe account partitions of issue 13 (`account_partitions.py`): what the code location ships
with several Stripe accounts (one account keeps the days); a run syncs one account of one day, the
schedule asks for the unsettled pairs, the sensor for the pairs whose companies changed (the probe reads
each changed row's company)."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from jde_stripe_pipeline.accounts import UNROUTED, AccountRouting
from jde_stripe_pipeline.jde.probe import changed_update_dates
from jde_stripe_pipeline.jde.profiles import PURCHASE_ORDER
from jde_stripe_pipeline.jde.tables import CUSTOMER_TABLES
from jde_stripe_pipeline.ledger import Ledger
from jde_stripe_pipeline.orchestration.account_partitions import (
    ACCOUNT,
    ACCOUNT_TAG,
    DAY,
    accounts_changed,
    pair_requests,
)
from jde_stripe_pipeline.orchestration.definitions import build_definitions
from jde_stripe_pipeline.orchestration.names import EXTRACTED_AT, STRIPE_POOL, SYNC_ASSETS
from jde_stripe_pipeline.orchestration.resources import LedgerResource
from jde_stripe_pipeline.orchestration.schedules import SCHEDULE_NAME, partitions_due
from jde_stripe_pipeline.orchestration.sensors import SENSOR_NAME
from jde_stripe_pipeline.settings import ScheduleSettings, Settings
from jde_stripe_pipeline_tests.orchestration.conftest import TIMEZONE, Pipeline
from jde_stripe_pipeline_tests.orchestration.test_accounts_assets import ROUTED, accounts_pipeline  # noqa: F401

ROUTING = AccountRouting.of({"00001": "us", "00200": "eu"})


def test_the_accounts_of_a_changed_day_follow_its_companies() -> None:
    day = date(2026, 11, 20)
    assert accounts_changed({day: frozenset({"00200"})}, day, ROUTING) == ["eu"]
    assert accounts_changed({day: frozenset({"00001", "00200"})}, day, ROUTING) == ["us", "eu"]
    assert accounts_changed({day: None}, day, ROUTING) == ["us", "eu"]  # an address-book change
    assert accounts_changed({day: frozenset({"00300"})}, day, ROUTING) == ["us"]  # quarantined by us
    pairs = pair_requests(["2026-11-20"], {day: frozenset({"00200"})}, ROUTING)
    assert [p.keys_by_dimension for p in pairs] == [{DAY: "2026-11-20", ACCOUNT: "eu"}]


def _pools(defs: dg.Definitions) -> set[str | None]:
    job = defs.resolve_job_def("jde_stripe_sync")
    return {node.definition.pool for node in job.graph.node_dict.values() if node.name.startswith("stripe_")}


def _pair_str(day: str, account: str) -> str:
    return str(dg.MultiPartitionKey({DAY: day, ACCOUNT: account}))


def test_several_accounts_ship_day_account_pairs_and_one_account_ships_days() -> None:
    one = build_definitions(Settings.of(TIMEZONE))
    assert isinstance(one.resolve_job_def("jde_stripe_sync").partitions_def, dg.DailyPartitionsDefinition)
    assert _pools(one) == {STRIPE_POOL}  # the one account's Stripe steps queue in the pool, as before

    two = build_definitions(Settings.of(TIMEZONE, accounts=ROUTING))
    partitions = two.resolve_job_def("jde_stripe_sync").partitions_def
    assert isinstance(partitions, dg.MultiPartitionsDefinition)
    assert {d.name: type(d.partitions_def) for d in partitions.partitions_defs} == {
        ACCOUNT: dg.StaticPartitionsDefinition,
        DAY: dg.DailyPartitionsDefinition,
    }
    assert partitions.get_partitions_def_for_dimension(ACCOUNT).get_partition_keys() == ["us", "eu"]
    assert _pools(two) == {None}  # the per-account run limit keeps each budget (dagster.yaml)
    for asset in SYNC_ASSETS:  # every asset and its check on the same pairs
        assert two.resolve_assets_def(asset).partitions_def == partitions


def test_the_schedule_of_several_accounts_asks_for_each_unsettled_pair() -> None:
    settings = Settings.of(TIMEZONE, accounts=ROUTING, schedule=ScheduleSettings(start_date=date(2026, 1, 1)))
    defs = build_definitions(settings)
    tick = datetime(2026, 1, 3, 6, tzinfo=ZoneInfo(TIMEZONE))
    with dg.instance_for_test() as instance:
        for asset in SYNC_ASSETS:  # (Jan 1, eu) synced after its day ended: settled
            instance.report_runless_asset_event(
                dg.AssetMaterialization(
                    asset_key=asset,
                    partition=_pair_str("2026-01-01", "eu"),
                    metadata={EXTRACTED_AT: dg.MetadataValue.timestamp(tick - timedelta(hours=1))},
                )
            )
        with dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=tick,
            resources={"ledger": LedgerResource(state_url="sqlite://")},
            repository_def=defs.get_repository_def(),
        ) as context:
            result = defs.resolve_schedule_def(SCHEDULE_NAME).evaluate_tick(context)
    wanted = [r.partition_key for r in result.run_requests or []]
    # each run carries its account: the key of the per-account run limit in dagster.yaml
    assert {r.tags.get(ACCOUNT_TAG) for r in result.run_requests or []} == {"us", "eu"}
    assert sorted(map(str, wanted)) == sorted(
        _pair_str(day, account)
        for day in ("2026-01-01", "2026-01-02", "2026-01-03")
        for account in ("us", "eu")
        if (day, account) != ("2026-01-01", "eu")
    )


def test_the_sensor_of_several_accounts_asks_for_the_pair_whose_company_changed(
    accounts_pipeline: Pipeline,  # noqa: F811
) -> None:
    world = accounts_pipeline.world
    defs = build_definitions(accounts_pipeline.settings(**ROUTED))

    def tick(instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:  # type: ignore[name-defined]
        with dg.build_sensor_context(
            instance=instance, cursor=cursor, resources=defs.resources, definitions=defs
        ) as context:
            return defs.resolve_sensor_def(SENSOR_NAME).evaluate_tick(context)

    eu_order = next(r for r in world.sandbox.rows("F4301") if r["KCOO"].strip() == "00200")
    with dg.instance_for_test() as instance:
        cursor = tick(instance, None).cursor  # the seed's own recent stamps: establishes the cursor
        assert tick(instance, cursor).run_requests == []
        world.upsert("F4301", [{k: eu_order[k] for k in ("DOCO", "DCTO", "KCOO", "SFXO")}])  # stamped now
        time.sleep(1.1)  # the stamp's second must be in the past for the probe's [since, now) window
        changed = tick(instance, cursor)
    today = datetime.now(ZoneInfo(TIMEZONE)).date().isoformat()
    assert [str(r.partition_key) for r in changed.run_requests] == [_pair_str(today, "eu")]
    assert changed.run_requests[0].tags[ACCOUNT_TAG] == "eu"


def test_a_pair_syncs_its_account_of_its_day_and_the_schedule_asks_for_the_other(
    accounts_pipeline: Pipeline,  # noqa: F811
) -> None:
    pipeline, world = accounts_pipeline, accounts_pipeline.world
    settings = pipeline.settings(**{**ROUTED, "JDE_STRIPE_ACCOUNTS": "00001=us,00200=eu,00300=asia"})
    defs = build_definitions(
        settings,
        state_url=world.ledger_url,
        step_retries=0,
        step_retry_delay_seconds=0,
    )
    job = defs.resolve_job_def("jde_stripe_sync")
    eu = dg.MultiPartitionKey({DAY: pipeline.partition, ACCOUNT: "eu"})
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(partition_key=eu, instance=instance, raise_on_error=False)
        assert result.success
        run = instance.get_run_by_id(result.run_id)
        assert run is not None and run.tags["dagster/partition/account"] == "eu"

        expected = pipeline.expected_invoice_keys()
        held = {
            "/".join(str(i["metadata"][k]) for k in ("jde_kcoo", "jde_doco", "jde_dcto", "jde_sfxo"))
            for i in world.emulator.objects("invoice", "acct_eu")
        }
        assert held == {k for k in expected if k.startswith("00200/")}
        assert world.emulator.objects("invoice", "acct_us") == []
        with Ledger.open(world.ledger_url) as ledger:  # the ledger's partition is the day
            eu_rows = ledger.for_account("eu").history(sorted(held)[0])
            assert {e.partition_key for e in eu_rows} == {pipeline.partition}
            assert ledger.for_account(UNROUTED).open_quarantine() == []  # left to the first account's run

        partitions = defs.resolve_job_def("jde_stripe_sync").partitions_def
        assert isinstance(partitions, dg.MultiPartitionsDefinition)
        due = set(partitions_due(instance, partitions, datetime.now().astimezone()))
        assert str(eu) not in due
        assert str(dg.MultiPartitionKey({DAY: pipeline.partition, ACCOUNT: "us"})) in due
        assert str(dg.MultiPartitionKey({DAY: pipeline.partition, ACCOUNT: "asia"})) in due


def test_the_probe_names_the_companies_of_each_changed_day(accounts_pipeline: Pipeline) -> None:  # noqa: F811
    world = accounts_pipeline.world
    day = date.fromisoformat(accounts_pipeline.partition)
    start = datetime.combine(day, datetime.min.time())
    with world.session() as session:
        orders = changed_update_dates(session, start, start + timedelta(days=1), PURCHASE_ORDER.tables)
    assert orders.companies[day] == frozenset({"00001", "00200"})  # the day both companies billed

    world.upsert("F0101", [{"AN8": world.sandbox.rows("F0101")[0]["AN8"], "ALPH": "Renamed"}])  # today
    with world.session() as session:
        today = datetime.now(session.settings.zone).replace(tzinfo=None)
        midnight = datetime.combine(today.date(), datetime.min.time())
        renamed = changed_update_dates(session, midnight, today + timedelta(seconds=2), CUSTOMER_TABLES)
    assert renamed.companies[today.date()] is None  # the address book: any account's customer
