"""`jde-stripe check` probes every configured Stripe account (issue 13): each with its own key, a
Connect account with the platform's key and its account id; `--account` probes one."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from jde_stripe_pipeline.cli import main
from jde_stripe_pipeline.credentials.check import Problem, run_connection_checks
from jde_stripe_pipeline_tests.credentials.check_support import Systems
from jde_stripe_pipeline_tests.credentials.support import STRIPE_KEY, assert_no_secret
from jde_stripe_pipeline_tests.credentials.test_check import FAST, by_name

US_KEY = "sk_test_51QuokkaUnitedStatesKey00000001"
REVOKED_KEY = "sk_test_51QuokkaEuropeRevokedKey0000002"
ACCOUNTS = {
    "JDE_STRIPE_ACCOUNTS": "00001=us,00200=eu,00300=conn",
    "JDE_STRIPE_CONNECT_ACCOUNTS": "conn=acct_1Connected",
    "STRIPE_API_KEY_US": US_KEY,
    "STRIPE_API_KEY_EU": REVOKED_KEY,
}


@pytest.fixture
def systems(systems: Systems) -> Systems:
    """The conftest's systems, the emulator knowing the accounts' keys and the connected account."""
    systems.stripe.update_config(
        api_keys=[STRIPE_KEY, US_KEY],
        key_accounts={STRIPE_KEY: "acct_platform", US_KEY: "acct_us"},
        connected_accounts={"acct_1Connected": "acct_platform"},
    )
    return systems


def test_every_account_is_probed_with_its_own_key(systems: Systems) -> None:
    results = by_name(run_connection_checks(systems.env(**ACCOUNTS), FAST))
    assert set(results) == {"JDE AIS", "Stripe us", "Stripe eu", "Stripe conn"}
    assert results["Stripe us"].ok and "sk_test_…0001" in results["Stripe us"].message
    connected = results["Stripe conn"]
    assert connected.ok and "acting on acct_1Connected" in connected.message
    eu = results["Stripe eu"]
    assert not eu.ok and eu.problem is Problem.CREDENTIALS and "HTTP 401" in eu.message
    assert "STRIPE_API_KEY_EU" in (eu.hint or "") and "--account eu" in (eu.hint or "")
    balances = systems.stripe.requests_log(path_prefix="/v1/balance")
    assert {entry["account"] for entry in balances if entry["status"] == 200} == {
        "acct_us",
        "acct_1Connected",
    }
    for result in results.values():
        assert_no_secret(f"{result.message} {result.hint}")
        assert US_KEY not in result.message and REVOKED_KEY not in f"{result.message} {result.hint}"


def test_a_bad_accounts_setting_is_one_failed_line_naming_it(systems: Systems) -> None:
    results = by_name(run_connection_checks(systems.env(JDE_STRIPE_ACCOUNTS="00001=US"), FAST))
    assert results["JDE AIS"].ok
    assert not results["Stripe"].ok and results["Stripe"].message.startswith("JDE_STRIPE_ACCOUNTS: ")


def test_check_account_probes_one_and_refuses_an_unknown_name(systems: Systems) -> None:
    env = {**systems.env(**ACCOUNTS), "JDE_TIMEZONE": "America/Chicago"}
    one = CliRunner().invoke(main, ["check", "--account", "us"], env=env)
    assert one.exit_code == 0, one.output
    assert [line.split()[:3] for line in one.output.splitlines()[1:]] == [
        ["JDE", "AIS", "OK"],
        ["Stripe", "us", "OK"],
    ]
    unknown = CliRunner().invoke(main, ["check", "--account", "asia"], env=env)
    assert unknown.exit_code == 2 and "no Stripe account named 'asia'" in unknown.output
    every = CliRunner().invoke(main, ["check"], env=env)
    assert every.exit_code == 1 and "Stripe eu   FAILED" in every.output
