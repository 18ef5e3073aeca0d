"""Precedence (environment over store, a group taken whole) and re-reading on every call."""

from __future__ import annotations

import os

import pytest
from cryptography.fernet import Fernet

from jde_stripe_pipeline.credentials.errors import (
    CredentialsNotConfigured,
    IncompleteEnvironment,
    InvalidCredentialValue,
)
from jde_stripe_pipeline.credentials.master_key import load_master_key
from jde_stripe_pipeline.credentials.models import StoredCredentials
from jde_stripe_pipeline.credentials.resolve import resolve_jde_credentials, resolve_stripe_key
from jde_stripe_pipeline.credentials.store import write_store
from jde_stripe_pipeline_tests.credentials.conftest import Home
from jde_stripe_pipeline_tests.credentials.support import (
    AIS_URL,
    JDE_PASSWORD,
    JDE_USER,
    OTHER_STRIPE_KEY,
    STRIPE_KEY,
    assert_no_secret,
    stored_credentials,
)

MASTER = Fernet.generate_key().decode()


def _store(
    home: Home, *, stripe_key: str = STRIPE_KEY, api_base: str | None = "http://127.0.0.1:12111"
) -> dict[str, str]:
    env = {**os.environ, "JDE_STRIPE_MASTER_KEY": MASTER}
    write_store(home.store, stored_credentials(api_key=stripe_key, api_base=api_base), load_master_key(env))
    return env


def test_store_is_used_when_the_environment_is_silent(home: Home) -> None:
    env = _store(home)
    stripe = resolve_stripe_key(env)
    assert stripe.api_key.get_secret_value() == STRIPE_KEY
    assert stripe.api_base == "http://127.0.0.1:12111"
    assert stripe.source == f"store {home.store}"


def test_environment_wins_over_the_store_as_a_whole_group(home: Home) -> None:
    env = _store(home)
    env["STRIPE_API_KEY"] = OTHER_STRIPE_KEY
    stripe = resolve_stripe_key(env)
    assert stripe.api_key.get_secret_value() == OTHER_STRIPE_KEY
    assert stripe.api_base is None  # the store's api_base is NOT merged in: one source, whole
    assert stripe.source == "environment"
    env.update(JDE_AIS_URL="http://other:1", JDE_AIS_USERNAME="ENVUSER", JDE_AIS_PASSWORD="env-pass-1")
    jde = resolve_jde_credentials(env)
    assert (jde.url, jde.username, jde.password.get_secret_value()) == (
        "http://other:1",
        "ENVUSER",
        "env-pass-1",
    )


def test_environment_alone_needs_no_master_key_or_store(home: Home) -> None:
    env = {
        **os.environ,
        "JDE_AIS_URL": AIS_URL,
        "JDE_AIS_USERNAME": JDE_USER,
        "JDE_AIS_PASSWORD": JDE_PASSWORD,
        "JDE_AIS_ENVIRONMENT": "JDV920",
        "JDE_AIS_ROLE": "*ALL",
        "JDE_AIS_DEVICE_NAME": "dev1",
        "JDE_AIS_CA_BUNDLE": "/etc/ssl/ca.pem",
        "STRIPE_API_KEY": STRIPE_KEY,
        "STRIPE_API_BASE": "http://127.0.0.1:1/",
    }
    jde = resolve_jde_credentials(env)
    assert (jde.environment, jde.role, jde.device_name, str(jde.ca_bundle)) == (
        "JDV920",
        "*ALL",
        "dev1",
        "/etc/ssl/ca.pem",
    )
    assert resolve_stripe_key(env).api_base == "http://127.0.0.1:1"
    assert not home.store.exists()


@pytest.mark.parametrize(
    ("set_variables", "missing"),
    [
        ({"JDE_AIS_URL": AIS_URL, "JDE_AIS_PASSWORD": JDE_PASSWORD}, "JDE_AIS_USERNAME"),
        ({"JDE_AIS_ROLE": "*ALL"}, "JDE_AIS_URL, JDE_AIS_USERNAME, JDE_AIS_PASSWORD"),
    ],
)
def test_half_set_jde_environment_is_an_error_not_a_merge(
    home: Home, set_variables: dict[str, str], missing: str
) -> None:
    env = {**_store(home), **set_variables}
    with pytest.raises(IncompleteEnvironment) as raised:
        resolve_jde_credentials(env)
    assert f"{missing} missing" in str(raised.value)
    assert_no_secret(str(raised.value))


def test_stripe_api_base_without_key_is_an_error(home: Home) -> None:
    env = {**_store(home), "STRIPE_API_BASE": "http://127.0.0.1:9"}
    with pytest.raises(IncompleteEnvironment, match="STRIPE_API_KEY missing"):
        resolve_stripe_key(env)


def test_empty_variable_counts_as_unset(home: Home) -> None:
    env = {**_store(home), "STRIPE_API_KEY": "", "STRIPE_API_BASE": ""}
    assert resolve_stripe_key(env).api_key.get_secret_value() == STRIPE_KEY


def test_bad_environment_value_names_the_variable_not_the_secret(home: Home) -> None:
    env = {**os.environ, "STRIPE_API_KEY": "pk_live_QuokkaPublishable0000000000"}
    with pytest.raises(InvalidCredentialValue) as raised:
        resolve_stripe_key(env)
    assert "STRIPE_API_KEY" in str(raised.value)
    assert_no_secret(str(raised.value))


def test_nothing_configured_names_both_ways(home: Home) -> None:
    with pytest.raises(CredentialsNotConfigured) as raised:
        resolve_jde_credentials(dict(os.environ))
    assert "JDE_AIS_URL" in str(raised.value) and "credentials set jde" in str(raised.value)
    env = _store(home)
    write_store(home.store, StoredCredentials(), load_master_key(env))
    with pytest.raises(CredentialsNotConfigured, match="STRIPE_API_KEY"):
        resolve_stripe_key(env)


def test_every_call_rereads_store_and_environment(home: Home) -> None:
    env = _store(home)
    assert resolve_stripe_key(env).api_key.get_secret_value() == STRIPE_KEY
    _store(home, stripe_key=OTHER_STRIPE_KEY)  # rotated in the store, e.g. by another process
    assert resolve_stripe_key(env).api_key.get_secret_value() == OTHER_STRIPE_KEY
    env["STRIPE_API_KEY"] = STRIPE_KEY  # then overridden in the environment
    assert resolve_stripe_key(env).api_key.get_secret_value() == STRIPE_KEY


def test_default_env_is_read_at_call_time(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", STRIPE_KEY)
    assert resolve_stripe_key().api_key.get_secret_value() == STRIPE_KEY
    monkeypatch.setenv("STRIPE_API_KEY", OTHER_STRIPE_KEY)
    assert resolve_stripe_key().api_key.get_secret_value() == OTHER_STRIPE_KEY
