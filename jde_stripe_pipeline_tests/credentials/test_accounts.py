"""Each Stripe account's key: in the encrypted store (`credentials set stripe --account NAME`) or the
environment (`STRIPE_API_KEY_<NAME>`), resolved by the account's name; a Connect account uses the
platform's key with its connected account id."""

from __future__ import annotations

import pytest

from jde_stripe_pipeline import runtime
from jde_stripe_pipeline.accounts import StripeAccount
from jde_stripe_pipeline.credentials import CredentialsNotConfigured, CredentialSource
from jde_stripe_pipeline.credentials.resolve import resolve_stripe_key
from jde_stripe_pipeline.stripe_sink import StripeSinkSettings
from jde_stripe_pipeline_tests.credentials.conftest import Home
from jde_stripe_pipeline_tests.credentials.support import OTHER_STRIPE_KEY, STRIPE_KEY
from jde_stripe_pipeline_tests.credentials.test_cli import ok, run

EU_KEY = "sk_test_51WombatEuropeKeyValue5520eueu"


def test_each_account_has_its_own_key_in_the_store(home: Home) -> None:
    ok("init")
    ok("set", "stripe", input=f"{STRIPE_KEY}\n")
    stored = ok("set", "stripe", "--account", "eu", "--api-base", "http://127.0.0.1:9", input=f"{EU_KEY}\n")
    assert "of account eu" in stored.output and "sk_test_…eueu" in stored.output

    assert resolve_stripe_key().api_key.get_secret_value() == STRIPE_KEY
    eu = resolve_stripe_key(account="eu")
    assert eu.api_key.get_secret_value() == EU_KEY and eu.api_base == "http://127.0.0.1:9"
    assert f"store {home.store}, account eu" == eu.source

    shown = ok("show").output
    assert "Stripe account eu (from store" in shown and "sk_test_…eueu" in shown and "sk_test_…abcd" in shown

    ok("remove", "stripe", "--account", "eu")
    with pytest.raises(CredentialsNotConfigured) as missing:
        resolve_stripe_key(account="eu")
    assert "STRIPE_API_KEY_EU" in str(missing.value)
    assert "jde-stripe credentials set stripe --account eu" in str(missing.value)
    assert resolve_stripe_key().api_key.get_secret_value() == STRIPE_KEY  # the default account's stays


def test_an_accounts_environment_key_wins_and_takes_the_common_api_base(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok("init")
    ok("set", "stripe", "--account", "eu", input=f"{EU_KEY}\n")
    monkeypatch.setenv("STRIPE_API_KEY_EU", OTHER_STRIPE_KEY)
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:12111")
    eu = resolve_stripe_key(account="eu")
    assert eu.api_key.get_secret_value() == OTHER_STRIPE_KEY
    assert (eu.source, eu.api_base) == ("environment", "http://127.0.0.1:12111")
    with pytest.raises(CredentialsNotConfigured):
        resolve_stripe_key(account="us")  # neither the environment nor the store has it
    assert "Stripe account eu (from environment)" in ok("show").output


def test_a_bad_account_name_is_refused(home: Home) -> None:
    ok("init")
    refused = run("set", "stripe", "--account", "EU!", input=f"{EU_KEY}\n")
    assert refused.exit_code == 2 and "lower-case letters" in refused.output


def test_a_connect_account_uses_the_platform_key_and_its_account_id(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", STRIPE_KEY)
    monkeypatch.setenv("STRIPE_API_KEY_EU", EU_KEY)
    source = CredentialSource()
    connected = runtime.sink_settings(
        StripeSinkSettings(), source, StripeAccount("eu", ("00200",), "acct_1Eu")
    )
    assert (connected.key_source(), connected.stripe_account) == (STRIPE_KEY, "acct_1Eu")
    own = runtime.sink_settings(StripeSinkSettings(), source, StripeAccount("eu", ("00200",)))
    assert (own.key_source(), own.stripe_account) == (EU_KEY, None)
    default = runtime.sink_settings(StripeSinkSettings(), source)
    assert (default.key_source(), default.stripe_account) == (STRIPE_KEY, None)


def test_each_account_paces_in_a_budget_of_its_own() -> None:
    from jde_stripe_pipeline.runtime import account_budget_name

    own, other = StripeAccount("us", ("00001",)), StripeAccount("eu", ("00200",))
    connected = StripeAccount("eu", ("00200",), "acct_1Eu")
    assert account_budget_name(None, own) is None  # the budget follows the account's own key
    assert account_budget_name("site", own) != account_budget_name("site", other)
    assert account_budget_name(None, connected) == "connect:acct_1Eu"  # not the platform key's budget
    assert account_budget_name("site", StripeAccount("default")) == "site"  # one account: as before


def test_a_refused_key_names_where_its_account_sets_it(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_API_KEY_EU", EU_KEY)
    source = runtime.sink_settings(StripeSinkSettings(), CredentialSource(), StripeAccount("eu", ("00200",)))
    assert repr(source.key_source) == "STRIPE_API_KEY_EU or `jde-stripe credentials set stripe --account eu`"
    assert EU_KEY not in repr(source.key_source)
