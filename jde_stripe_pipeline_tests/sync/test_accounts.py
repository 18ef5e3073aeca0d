"""Several JDE companies into several Stripe accounts (issue 13), on the real sandboxes and SDK: each
company's records land only in its own account, exactly; a company routed nowhere is quarantined with
its reason; one account behaves as before. The AIS sandbox seeds companies 00001 and 00200 (a fifth of
the customers in both); the emulator holds each account's objects apart."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jde_stripe_pipeline.accounts import DEFAULT_ACCOUNT, UNROUTED, AccountRouting, StripeAccount
from jde_stripe_pipeline.jde.read import fetch_customers
from jde_stripe_pipeline.sandboxes.stripe_emulator import DEFAULT_ACCOUNT as EMULATOR_DEFAULT
from jde_stripe_pipeline.sandboxes.stripe_emulator import DEFAULT_API_KEY, StripeEmulatorConfig
from jde_stripe_pipeline.stripe_sink import StaticKeySource, StripeSink, StripeSinkSettings
from jde_stripe_pipeline.sync.accounts import AccountsReport, AccountSyncs
from jde_stripe_pipeline_tests.sync.conftest import AS_OF, World, expected_requests, make_world

US_KEY = "sk_test_emulator_us_00000000000000000001"
EU_KEY = "sk_test_emulator_eu_00000000000000000002"
KEYS = {"us": US_KEY, "eu": EU_KEY, DEFAULT_ACCOUNT: DEFAULT_API_KEY}
STRIPE_ACCOUNT = {"us": "acct_us", "eu": "acct_eu", DEFAULT_ACCOUNT: EMULATOR_DEFAULT}
ROUTED = AccountRouting.of({"00001": "us", "00200": "eu"})


def _emulator() -> StripeEmulatorConfig:
    return StripeEmulatorConfig.of(
        api_keys=[US_KEY, EU_KEY, DEFAULT_API_KEY],
        key_accounts={US_KEY: "acct_us", EU_KEY: "acct_eu"},
        rate_limit_per_second=1000.0,
        search_lag_seconds=0.0,
    )


@pytest.fixture
def accounts_world(tmp_path: Path) -> Iterator[World]:
    with make_world(tmp_path, customers=15, invoices=30, emulator_config=_emulator()) as built:
        yield built


FAST_SINK: dict[str, Any] = {"rate_per_second": 1000.0, "endpoint_rate_per_second": 1000.0, "burst": 50}


def _syncs(
    world: World, routing: AccountRouting, run_id: str, sink: dict[str, Any] | None = None
) -> AccountSyncs:
    @contextlib.contextmanager
    def open_sink(account: StripeAccount) -> Iterator[StripeSink]:
        settings = StripeSinkSettings(
            key_source=StaticKeySource(KEYS[account.name]),
            api_base=world.stripe_url,
            backoff_base_seconds=0.01,
            backoff_max_seconds=0.1,
            budget_dir="",
            **(FAST_SINK if sink is None else sink),
        )
        with StripeSink(settings) as opened:
            yield opened

    ledger = world.ledger()
    return AccountSyncs(
        routing=routing,
        ledger=ledger,
        open_sink=open_sink,
        engine=lambda sink, account_ledger: world.engine(sink=sink, ledger=account_ledger, run_id=run_id),
        run_id=run_id,
        partition_key="2026-11-26",
    )


def _sync(
    world: World, routing: AccountRouting, run_id: str = "run-accounts", sink: dict[str, Any] | None = None
) -> tuple[AccountsReport, AccountsReport]:
    syncs = _syncs(world, routing, run_id, sink)
    customers = syncs.sync_customers(world.customers())
    with world.session() as session:
        invoices = syncs.sync_invoices(
            world.invoices(), fetch_customers=lambda an8s: fetch_customers(session, an8s, as_of=AS_OF)
        )
    return customers, invoices


def _held(world: World, account: str) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """What one emulated account holds: customers by AN8 (→ id), invoices by JDE key."""
    customers = {c["metadata"]["jde_an8"]: c["id"] for c in world.emulator.objects("customer", account)}
    invoices = {}
    for invoice in world.emulator.objects("invoice", account):
        meta = invoice["metadata"]
        invoices[f"{meta['jde_kcoo']}/{meta['jde_doco']}/{meta['jde_dcto']}/{meta['jde_sfxo']}"] = invoice
    return customers, invoices


def test_each_companys_records_land_only_in_its_own_account(accounts_world: World) -> None:
    world = accounts_world
    customers_report, invoices_report = _sync(world, ROUTED)
    expected_customers, expected_invoices, _ = expected_requests(world)
    by_company: dict[str, dict[str, Any]] = {"00001": {}, "00200": {}}
    for key, request in expected_invoices.items():
        by_company[key.split("/")[0]][key] = request
    assert by_company["00001"] and by_company["00200"]  # the seed bills from both companies

    us_customers, us_invoices = _held(world, "acct_us")
    eu_customers, eu_invoices = _held(world, "acct_eu")
    assert sorted(us_invoices) == sorted(by_company["00001"])
    assert sorted(eu_invoices) == sorted(by_company["00200"])
    assert world.emulator.objects("invoice", EMULATOR_DEFAULT) == []
    # every customer's F03012 company is 00001 (a fifth also bill from 00200): all in us; in eu exactly
    # the customers its invoices name, created there by the invoice sync
    assert sorted(us_customers) == sorted(expected_customers)
    assert sorted(eu_customers) == sorted({str(r.customer_an8) for r in by_company["00200"].values()})
    both = set(us_customers) & set(eu_customers)
    assert both and all(us_customers[an8] != eu_customers[an8] for an8 in both)  # one object per account
    for held, customers in ((us_invoices, us_customers), (eu_invoices, eu_customers)):
        for key, invoice in held.items():
            request = expected_invoices[key]
            assert invoice["customer"] == customers[str(request.customer_an8)], key
            assert (invoice["total"], invoice["currency"]) == (request.total_minor, request.currency), key

    ledger = world.ledger()
    us_map = ledger.for_account("us").all_mappings("invoice")
    assert {m.jde_key for m in us_map} == set(us_invoices) and {m.stripe_id for m in us_map} == {
        i["id"] for i in us_invoices.values()
    }
    assert {m.jde_key for m in ledger.for_account("eu").all_mappings("invoice")} == set(eu_invoices)
    assert ledger.all_mappings("invoice") == []  # nothing in the default account
    assert invoices_report.stripe_matches_jde and not invoices_report.unrouted
    assert [a.account for a in invoices_report.accounts] == ["us", "eu"]
    assert invoices_report.counts() == {"created": len(expected_invoices)}
    assert customers_report.report("us").counts() == {"created": len(expected_customers)}
    # each account's writes went with its own key
    for entry in world.emulator.requests_log(path_prefix="/v1/invoices"):
        assert entry["account"] in ("acct_us", "acct_eu")

    # a second run sends nothing: every record unchanged in its own account
    world.emulator.clear_requests_log()
    again_customers, again_invoices = _sync(world, ROUTED, run_id="run-again")
    assert world.writes() == []
    assert set(again_invoices.counts()) == {"unchanged"} and set(again_customers.counts()) == {"unchanged"}


def test_a_company_routed_nowhere_is_quarantined_with_its_reason(accounts_world: World) -> None:
    world = accounts_world
    only_us = AccountRouting.of({"00001": "us"})
    _, invoices = _sync(world, only_us)
    _, expected_invoices, _ = expected_requests(world)
    eu_keys = sorted(k for k in expected_invoices if k.startswith("00200/"))
    assert eu_keys
    assert sorted(r.record_key for r in invoices.unrouted) == eu_keys
    for result in invoices.unrouted:
        assert result.outcome == "quarantined"
        assert "JDE company 00200 is not routed to a Stripe account" in (result.reason or "")
        assert "JDE_STRIPE_ACCOUNTS" in (result.reason or "") and "F4301.KCOO" in (result.reason or "")
    assert not [k for k in _held(world, "acct_us")[1] if k.startswith("00200/")]
    assert world.emulator.objects("invoice", "acct_eu") == [] == world.emulator.objects("customer", "acct_eu")

    ledger = world.ledger()
    quarantined = ledger.open_quarantine(object_type="invoice", every_account=True)
    assert sorted(q.record_key for q in quarantined) == eu_keys
    assert {q.account for q in quarantined} == {UNROUTED}
    assert [e.account for e in ledger.history(eu_keys[0], every_account=True)] == [UNROUTED]

    # routing the company later syncs its invoices into their account and closes the quarantine
    _sync(world, ROUTED, run_id="run-routed")
    assert sorted(_held(world, "acct_eu")[1]) == eu_keys
    assert ledger.open_quarantine(object_type="invoice", every_account=True) == []


def _shape(log: list[dict[str, Any]]) -> Counter[tuple[str, str | None, str | None]]:
    return Counter((e["method"], e["endpoint"], e["account"]) for e in log)


def test_one_account_behaves_as_before(tmp_path: Path) -> None:
    """The same JDE world synced by the plain engine and through one unrouted account: the same
    requests (method, endpoint, account), the same outcomes, the same ledger (all in `default`)."""
    with make_world(tmp_path / "plain", customers=15, invoices=30) as plain:
        plain_customers, plain_invoices = plain.sync(plain.engine(run_id="run-1"))
        plain_log = _shape(plain.emulator.requests_log(path_prefix="/v1/"))
        plain_mapped = sorted(m.jde_key for m in plain.ledger().all_mappings("invoice"))
    with make_world(tmp_path / "routed", customers=15, invoices=30) as routed:
        customers, invoices = _sync(routed, AccountRouting(), run_id="run-1")
        log = _shape(routed.emulator.requests_log(path_prefix="/v1/"))
        ledger = routed.ledger()
        mapped = sorted(m.jde_key for m in ledger.all_mappings("invoice"))
        assert ledger.account == DEFAULT_ACCOUNT and ledger.open_quarantine(every_account=True) == []
    assert [a.account for a in invoices.accounts] == [DEFAULT_ACCOUNT] and not invoices.unrouted
    assert customers.report(DEFAULT_ACCOUNT).counts() == plain_customers.counts()
    assert invoices.report(DEFAULT_ACCOUNT).counts() == plain_invoices.counts()
    assert log == plain_log and mapped == plain_mapped


def test_plan_shows_each_accounts_changes_and_the_unrouted_and_writes_nothing(accounts_world: World) -> None:
    from click.testing import CliRunner

    from jde_stripe_pipeline.cli import main

    world = accounts_world
    env = world.cli_env(stripe_keys={"STRIPE_API_KEY_US": US_KEY}, JDE_STRIPE_ACCOUNTS="00001=us")
    window = ["plan", "--from", "2026-10-01", "--to", "2026-11-30", "--kind", "invoices"]
    planned = CliRunner().invoke(main, window, env=env)
    assert planned.exit_code == 0, planned.output + repr(planned.exception)
    _, expected_invoices, _ = expected_requests(world)
    us_keys = [k for k in expected_invoices if k.startswith("00001/")]
    assert "== Stripe account us ==" in planned.output and f"create {len(us_keys)}" in planned.output
    unrouted = [line for line in planned.output.splitlines() if "not routed to a Stripe account" in line]
    assert len(unrouted) == len([k for k in expected_invoices if k.startswith("00200/")])
    assert world.writes() == [] and US_KEY not in planned.output
    assert world.ledger().open_quarantine(every_account=True) == []  # a plan records nothing

    both = {**env, "JDE_STRIPE_ACCOUNTS": "00001=us,00200=eu", "STRIPE_API_KEY_EU": EU_KEY}
    world.emulator.clear_requests_log()
    only_eu = CliRunner().invoke(main, [*window, "--account", "eu"], env=both)
    assert only_eu.exit_code == 0, only_eu.output
    assert "== Stripe account eu ==" in only_eu.output and "account us" not in only_eu.output
    assert {e["account"] for e in world.emulator.requests_log(path_prefix="/v1/")} <= {"acct_eu"}
    refused = CliRunner().invoke(main, [*window, "--account", "asia"], env=both)
    assert refused.exit_code == 2 and "not a configured Stripe account" in refused.output


def test_two_accounts_sync_side_by_side_each_within_its_own_limits(tmp_path: Path) -> None:
    """Under Stripe's test-mode limits per account (the emulator's `test` profile), the sinks paced by
    default: the two accounts' requests overlap in time, and no limiter of either account refused one."""
    config = StripeEmulatorConfig.of(
        api_keys=[US_KEY, EU_KEY, DEFAULT_API_KEY],
        key_accounts={US_KEY: "acct_us", EU_KEY: "acct_eu"},
        profile="test",
        search_lag_seconds=0.0,
    )
    with make_world(tmp_path, customers=15, invoices=30, emulator_config=config) as world:
        _, invoices = _sync(world, ROUTED, sink={})  # Stripe's documented paces for a test key
        log = world.emulator.requests_log(path_prefix="/v1/")
        assert invoices.stripe_matches_jde and {a.account for a in invoices.accounts} == {"us", "eu"}
    by_account: dict[str, list[float]] = {}
    for entry in log:
        by_account.setdefault(entry["account"], []).append(entry["received_at"])
    us, eu = sorted(by_account["acct_us"]), sorted(by_account["acct_eu"])
    assert us[0] < eu[-1] and eu[0] < us[-1]  # side by side, not one account after the other
    assert [e for e in log if e["status"] == 429 or e["limited_by"]] == []
    assert set(by_account) == {"acct_us", "acct_eu"}


def test_replay_and_relink_go_through_each_accounts_own_key(accounts_world: World) -> None:
    from click.testing import CliRunner

    from jde_stripe_pipeline.cli import main
    from jde_stripe_pipeline.ledger import RecordOutcome

    world = accounts_world
    _, expected_invoices, _ = expected_requests(world)
    eu_key = sorted(k for k in expected_invoices if k.startswith("00200/"))[0]
    with world.ledger() as ledger:
        ledger.for_account("eu").record_outcome(
            RecordOutcome(
                run_id="run-failed",
                partition_key="2026-11-20",
                object_type="invoice",
                record_key=eu_key,
                action="create",
                outcome="failed",
                reason="Stripe answered 500",
            )
        )
    env = world.cli_env(
        stripe_keys={"STRIPE_API_KEY_US": US_KEY, "STRIPE_API_KEY_EU": EU_KEY},
        JDE_STRIPE_ACCOUNTS="00001=us,00200=eu",
    )
    replayed = CliRunner().invoke(main, ["replay", "--partition", "2026-11-20"], env=env)
    assert replayed.exit_code == 0, replayed.output + repr(replayed.exception)
    assert any(
        line.startswith("eu ") and eu_key in line and "created" in line
        for line in replayed.output.splitlines()
    )
    assert list(_held(world, "acct_eu")[1]) == [eu_key] and world.emulator.objects("invoice", "acct_us") == []
    assert {e["account"] for e in world.emulator.requests_log(path_prefix="/v1/")} == {"acct_eu"}

    relinked = CliRunner().invoke(main, ["relink", "--account", "us"], env=env)
    assert relinked.exit_code == 0, relinked.output
    assert "(account us): listed 0 customers and 0 invoices" in relinked.output
    with world.ledger() as ledger:
        assert [r.account for r in ledger.for_account("us").intents.relinks()] == ["us"]
        # eu's only listing is the replay's own, once, on finding eu's ledger empty: not the command's
        assert [r.run_id[:7] for r in ledger.for_account("eu").intents.relinks()] == ["replay-"]
