"""The day × Stripe account partitions proposed for issue 13 (`account_partitions.py`): a run syncs one
account of one day, the schedule asks for the unsettled pairs, the sensor for the pairs whose companies
changed (the probe now reads each changed row's company)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import dagster as dg

from jde_stripe_pipeline.accounts import UNROUTED, AccountRouting
from jde_stripe_pipeline.jde.probe import changed_update_dates
from jde_stripe_pipeline.jde.profiles import PURCHASE_ORDER
from jde_stripe_pipeline.jde.tables import CUSTOMER_TABLES
from jde_stripe_pipeline.ledger import Ledger
from jde_stripe_pipeline.orchestration.account_partitions import ACCOUNT, DAY, accounts_changed, pair_requests
from jde_stripe_pipeline.orchestration.definitions import build_definitions
from jde_stripe_pipeline.orchestration.schedules import partitions_due
from jde_stripe_pipeline_tests.orchestration.conftest import Pipeline
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


def test_a_pair_syncs_its_account_of_its_day_and_the_schedule_asks_for_the_other(
    accounts_pipeline: Pipeline,  # noqa: F811
) -> None:
    pipeline, world = accounts_pipeline, accounts_pipeline.world
    settings = pipeline.settings(**{**ROUTED, "JDE_STRIPE_ACCOUNTS": "00001=us,00200=eu,00300=asia"})
    defs = build_definitions(
        settings,
        state_url=world.ledger_url,
        account_partitions=True,
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
