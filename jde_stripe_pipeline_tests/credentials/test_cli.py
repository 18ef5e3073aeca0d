"""`jde-stripe credentials ...` end to end through the real console entry point (CliRunner)."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner, Result
from cryptography.fernet import Fernet

from jde_stripe_pipeline.cli import main
from jde_stripe_pipeline.credentials.cli import set_jde, set_stripe
from jde_stripe_pipeline.credentials.errors import WrongMasterKey
from jde_stripe_pipeline.credentials.private_file import permission_bits
from jde_stripe_pipeline.credentials.resolve import resolve_jde_credentials, resolve_stripe_key
from jde_stripe_pipeline_tests.credentials.conftest import Home
from jde_stripe_pipeline_tests.credentials.support import (
    AIS_URL,
    JDE_PASSWORD,
    JDE_USER,
    OTHER_STRIPE_KEY,
    STRIPE_KEY,
    assert_no_secret,
)


def run(*args: str, input: str | None = None) -> Result:
    result = CliRunner().invoke(main, ["credentials", *args], input=input)
    assert_no_secret(result.output)
    assert "Traceback" not in result.output
    return result


def ok(*args: str, input: str | None = None) -> Result:
    result = run(*args, input=input)
    assert result.exit_code == 0, result.output
    return result


def store_everything() -> None:
    ok("init")
    ok(
        "set", "jde", "--url", AIS_URL, "--username", JDE_USER, "--environment", "JDV920",
        input=f"{JDE_PASSWORD}\n{JDE_PASSWORD}\n",
    )  # fmt: skip
    ok("set", "stripe", input=f"{STRIPE_KEY}\n")


def test_round_trip_set_show_resolve(home: Home) -> None:
    store_everything()
    shown = ok("show").output
    assert "sk_test_…abcd" in shown
    assert "password:     ********" in shown
    assert AIS_URL in shown and JDE_USER in shown and "JDV920" in shown
    assert f"from store {home.store}" in shown

    jde = resolve_jde_credentials()
    assert (jde.url, jde.username, jde.environment) == (AIS_URL, JDE_USER, "JDV920")
    assert jde.password.get_secret_value() == JDE_PASSWORD
    assert resolve_stripe_key().api_key.get_secret_value() == STRIPE_KEY


def test_prompts_for_url_and_user_when_not_given(home: Home) -> None:
    ok("init")
    ok("set", "jde", input=f"{AIS_URL}\n{JDE_USER}\n{JDE_PASSWORD}\n{JDE_PASSWORD}\n")
    assert resolve_jde_credentials().username == JDE_USER


def test_store_and_key_file_are_0600_and_hold_no_secret(home: Home) -> None:
    store_everything()
    assert permission_bits(home.store) == 0o600
    assert permission_bits(home.key_file) == 0o600
    data = home.store.read_bytes()
    for clear in (JDE_PASSWORD, STRIPE_KEY, AIS_URL, JDE_USER):
        assert clear.encode() not in data


def test_set_has_no_option_for_a_secret(home: Home) -> None:
    ok("init")
    refused = run("set", "jde", "--url", AIS_URL, "--username", JDE_USER, "--password", "x")
    assert refused.exit_code == 2 and "No such option '--password'" in refused.output
    refused = run("set", "stripe", "--api-key", "sk_test_x")
    assert refused.exit_code == 2 and "No such option" in refused.output
    option_names = {name for command in (set_jde, set_stripe) for p in command.params for name in p.opts}
    assert not {"--password", "--api-key", "--key", "--secret"} & option_names


def test_mismatched_password_confirmation_stores_nothing(home: Home) -> None:
    ok("init")
    result = run(
        "set", "jde", "--url", AIS_URL, "--username", JDE_USER,
        input=f"{JDE_PASSWORD}\nsomething-else\n{JDE_PASSWORD}\n{JDE_PASSWORD}\n",
    )  # fmt: skip
    assert result.exit_code == 0 and "do not match" in result.output  # click asks again
    assert resolve_jde_credentials().password.get_secret_value() == JDE_PASSWORD


def test_publishable_key_refused_and_not_echoed(home: Home) -> None:
    ok("init")
    result = run("set", "stripe", input="pk_test_QuokkaPublishable123456\n")
    assert result.exit_code == 1
    assert "publishable key" in result.output
    assert not home.store.exists()


def test_set_without_master_key_fails_before_asking_for_the_secret(home: Home) -> None:
    result = run("set", "stripe", input=f"{STRIPE_KEY}\n")
    assert result.exit_code == 1
    assert "credentials init" in result.output
    assert "Stripe secret key" not in result.output


def test_wrong_master_key_clear_error_no_traceback(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    store_everything()
    other = home.root / "other.key"
    monkeypatch.setenv("JDE_STRIPE_MASTER_KEY_FILE", str(other))
    ok("init", "--key-file", str(other))
    for command in (["show"], ["rotate-master-key"], ["remove", "stripe"]):
        result = run(*command)
        assert result.exit_code == 1, command
        assert isinstance(result.exception, SystemExit)
        assert "does not open" in result.output and str(home.store) in result.output
    with pytest.raises(WrongMasterKey):
        resolve_stripe_key()


def test_insecure_key_file_refused_by_every_command(home: Home) -> None:
    store_everything()
    home.key_file.chmod(0o644)
    for command in (["show"], ["init"], ["rotate-master-key"]):
        result = run(*command)
        assert result.exit_code == 1, command
        assert "0644" in result.output and "too open" in result.output


def test_init_keeps_an_existing_key_file(home: Home) -> None:
    ok("init")
    before = home.key_file.read_bytes()
    assert "already exists" in ok("init").output
    assert home.key_file.read_bytes() == before


def test_init_with_key_in_environment_creates_nothing(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JDE_STRIPE_MASTER_KEY", Fernet.generate_key().decode())
    assert "no key file needed" in ok("init").output
    assert not home.key_file.exists()


def test_show_names_the_environment_as_source(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    store_everything()
    monkeypatch.setenv("STRIPE_API_KEY", OTHER_STRIPE_KEY)
    shown = ok("show").output
    assert "Stripe (from environment)" in shown and "sk_test_…wxyz" in shown
    assert f"JDE (from store {home.store})" in shown


def test_set_warns_when_the_environment_shadows_the_store(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok("init")
    monkeypatch.setenv("STRIPE_API_KEY", OTHER_STRIPE_KEY)
    result = ok("set", "stripe", input=f"{STRIPE_KEY}\n")
    assert "STRIPE_API_KEY set in this environment" in result.output


def test_show_with_nothing_configured(home: Home) -> None:
    shown = ok("show").output
    assert "JDE: not configured" in shown and "Stripe: not configured" in shown
    assert "not created yet" in shown


def test_remove_one_group_keeps_the_other(home: Home) -> None:
    store_everything()
    ok("remove", "stripe")
    shown = ok("show").output
    assert "Stripe: not configured" in shown and f"JDE (from store {home.store})" in shown
    assert permission_bits(home.store) == 0o600


def test_rotate_master_key_via_cli(home: Home) -> None:
    store_everything()
    old_store = home.store.read_bytes()
    result = ok("rotate-master-key")
    retired = [p for p in home.key_file.parent.iterdir() if p.name.startswith("master.key.retired-")]
    assert len(retired) == 1 and str(retired[0]) in result.output
    assert permission_bits(home.store) == 0o600
    assert permission_bits(home.key_file) == 0o600
    assert permission_bits(retired[0]) == 0o600
    assert home.store.read_bytes() != old_store
    assert resolve_stripe_key().api_key.get_secret_value() == STRIPE_KEY
    with pytest.raises(WrongMasterKey):
        resolve_stripe_key({**os.environ, "JDE_STRIPE_MASTER_KEY_FILE": str(retired[0])})


def test_rotate_with_discard_keeps_no_old_key(home: Home) -> None:
    store_everything()
    ok("rotate-master-key", "--discard-retired-key")
    assert [p.name for p in home.key_file.parent.iterdir()] == ["master.key"]
    assert resolve_jde_credentials().password.get_secret_value() == JDE_PASSWORD


def test_env_rotation_procedure_through_the_cli(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    old = Fernet.generate_key().decode()
    monkeypatch.setenv("JDE_STRIPE_MASTER_KEY", old)
    ok("set", "stripe", input=f"{STRIPE_KEY}\n")
    refused = run("rotate-master-key")
    assert refused.exit_code == 1 and "NEW,OLD" in refused.output

    new_key_file = home.root / "new.key"
    created = ok("init", "--key-file", str(new_key_file)).output
    assert "not in use" in created and permission_bits(new_key_file) == 0o600
    new = new_key_file.read_text().splitlines()[-1]
    monkeypatch.setenv("JDE_STRIPE_MASTER_KEY", f"{new},{old}")
    assert "new key alone" in ok("rotate-master-key").output
    monkeypatch.setenv("JDE_STRIPE_MASTER_KEY", new)
    assert "sk_test_…abcd" in ok("show").output
    monkeypatch.setenv("JDE_STRIPE_MASTER_KEY", old)
    assert run("show").exit_code == 1
