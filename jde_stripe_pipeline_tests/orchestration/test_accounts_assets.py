"""The Dagster assets across Stripe accounts (issue 13): one run of a partition syncs every configured
account (one engine per account), its metadata shows each account's figures, and a company routed
nowhere shows up in the problems check. Real sandboxes, the definitions' own assets and resources."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from jde_stripe_pipeline.accounts import UNROUTED
from jde_stripe_pipeline.jde.julian import julian_to_date
from jde_stripe_pipeline.ledger import Ledger
from jde_stripe_pipeline.sandboxes.stripe_emulator import DEFAULT_API_KEY, StripeEmulatorConfig
from jde_stripe_pipeline_tests.orchestration.conftest import (
    Pipeline,
    check_outcomes,
    metadata_values,
    world_env,
)
from jde_stripe_pipeline_tests.sync.conftest import World, make_world

US_KEY = "sk_test_emulator_us_00000000000000000001"
EU_KEY = "sk_test_emulator_eu_00000000000000000002"
ROUTED = {
    "JDE_STRIPE_ACCOUNTS": "00001=us,00200=eu",
    "STRIPE_API_KEY_US": US_KEY,
    "STRIPE_API_KEY_EU": EU_KEY,
}


def _both_companies_day(world: World) -> str:
    """The partition with the most invoice headers among the days both companies changed one."""
    days: dict[date, Counter[str]] = {}
    for row in world.sandbox.rows("F4301"):
        day = julian_to_date(row["UPMJ"])
        if day is not None:
            days.setdefault(day, Counter())[row["KCOO"].strip()] += 1
    both = [day for day, companies in days.items() if len(companies) >= 2]
    return max(both, key=lambda day: (sum(days[day].values()), day)).isoformat()


@pytest.fixture
def accounts_pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    emulator = StripeEmulatorConfig.of(
        api_keys=[US_KEY, EU_KEY, DEFAULT_API_KEY],
        key_accounts={US_KEY: "acct_us", EU_KEY: "acct_eu"},
        rate_limit_per_second=1000.0,
        search_lag_seconds=0.0,
    )
    with make_world(tmp_path, customers=20, invoices=60, emulator_config=emulator) as world:
        for name, value in {**world_env(world), **ROUTED}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
        yield Pipeline(world, _both_companies_day(world), tmp_path)


def _run(pipeline: Pipeline, instance: dg.DagsterInstance, **env: str) -> dg.ExecuteInProcessResult:
    from jde_stripe_pipeline_tests.orchestration.conftest import SYNC_ASSETS

    return dg.materialize(
        SYNC_ASSETS,
        partition_key=pipeline.partition,
        instance=instance,
        resources=pipeline.resources(pipeline.settings(**{**ROUTED, **env})),
        raise_on_error=False,
    )


def test_a_partition_syncs_every_account_with_metadata_per_account(
    accounts_pipeline: Pipeline, instance: dg.DagsterInstance
) -> None:
    pipeline, world = accounts_pipeline, accounts_pipeline.world
    result = _run(pipeline, instance)
    assert result.success
    expected = pipeline.expected_invoice_keys()
    us = {k for k in expected if k.startswith("00001/")}
    eu = {k for k in expected if k.startswith("00200/")}
    assert us and eu

    def held(account: str) -> set[str]:
        keys = set()
        for invoice in world.emulator.objects("invoice", account):
            meta = invoice["metadata"]
            keys.add(f"{meta['jde_kcoo']}/{meta['jde_doco']}/{meta['jde_dcto']}/{meta['jde_sfxo']}")
        return keys

    assert held("acct_us") == us and held("acct_eu") == eu

    invoices = metadata_values(result, "stripe_invoices")
    assert invoices["account_us"]["created"] == len(us) and invoices["account_eu"]["created"] == len(eu)
    assert invoices["created"] == len(expected) and invoices["unrouted"] == 0
    assert "| us | 00001 |" in invoices["accounts"] and "| eu | 00200 |" in invoices["accounts"]
    assert invoices["stripe_matches_jde"] is True
    assert all(check_outcomes(result).values()), check_outcomes(result)
    reconciliation = metadata_values(result, "billing_reconciliation")
    assert reconciliation["invoices"] == len(expected) and reconciliation["mismatches"] == 0


def test_a_company_routed_nowhere_fails_the_problems_check_with_its_reason(
    accounts_pipeline: Pipeline, instance: dg.DagsterInstance
) -> None:
    pipeline = accounts_pipeline
    result = _run(pipeline, instance, JDE_STRIPE_ACCOUNTS="00001=us")
    assert result.success  # a quarantine is a person's work, not a failed run
    eu = {k for k in pipeline.expected_invoice_keys() if k.startswith("00200/")}
    invoices = metadata_values(result, "stripe_invoices")
    assert invoices["unrouted"] == len(eu) and invoices["quarantined"] == len(eu)
    assert "JDE company 00200 is not routed" in invoices["problems"]
    assert check_outcomes(result)["no_quarantined_or_failed_invoices"] is False
    with Ledger.open(pipeline.world.ledger_url) as ledger:
        open_ = ledger.for_account(UNROUTED).open_quarantine([pipeline.partition], object_type="invoice")
        assert {q.record_key for q in open_} == eu
