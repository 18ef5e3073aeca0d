"""The value types: secrets masked everywhere, bad values named by field and never echoed."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from jde_stripe_pipeline.credentials.errors import InvalidCredentialValue
from jde_stripe_pipeline.credentials.models import (
    StoredCredentials,
    build_jde_credentials,
    build_stripe_credentials,
    mask_stripe_key,
)
from jde_stripe_pipeline_tests.credentials.support import (
    AIS_URL,
    JDE_PASSWORD,
    JDE_USER,
    STRIPE_KEY,
    assert_no_secret,
)


def test_secrets_never_in_repr_str_or_json() -> None:
    jde = build_jde_credentials({"url": AIS_URL, "username": JDE_USER, "password": JDE_PASSWORD}, source="t")
    stripe = build_stripe_credentials({"api_key": STRIPE_KEY}, source="t")
    stored = StoredCredentials(jde=jde, stripe=stripe)
    for text in (repr(jde), str(jde), jde.model_dump_json(), repr(stripe), str(stripe), repr(stored)):
        assert_no_secret(text)
    assert jde.password.get_secret_value() == JDE_PASSWORD
    assert stripe.api_key.get_secret_value() == STRIPE_KEY


def test_settings_values_keep_the_password_secret_and_drop_unset_fields() -> None:
    jde = build_jde_credentials(
        {"url": AIS_URL + "/", "username": JDE_USER, "password": JDE_PASSWORD, "role": "*ALL"}, source="t"
    )
    values = jde.settings_values()
    assert values["url"] == AIS_URL
    assert values["role"] == "*ALL"
    assert "environment" not in values and "source" not in values
    assert isinstance(values["password"], SecretStr)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("pk_test_Quokka1234567890123456", "publishable key"),
        ("Quokka_not_a_key_at_all_12345", "secret key (sk_…)"),
        ("sk_test_Quokka 123456789012345", "spaces"),
    ],
)
def test_bad_stripe_key_is_named_not_echoed(key: str, expected: str) -> None:
    with pytest.raises(InvalidCredentialValue) as raised:
        build_stripe_credentials(
            {"api_key": key}, source="environment", field_names={"api_key": "STRIPE_API_KEY"}
        )
    message = str(raised.value)
    assert "STRIPE_API_KEY" in message and expected in message
    assert_no_secret(message)
    assert_no_secret(repr(raised.value))


def test_bad_jde_url_error_does_not_carry_the_password() -> None:
    with pytest.raises(InvalidCredentialValue) as raised:
        build_jde_credentials(
            {"url": "ais.example", "username": JDE_USER, "password": JDE_PASSWORD},
            source="environment",
            field_names={"url": "JDE_AIS_URL"},
        )
    assert "JDE_AIS_URL" in str(raised.value)
    assert_no_secret(str(raised.value))
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_empty_password_refused() -> None:
    with pytest.raises(InvalidCredentialValue, match="password: must not be empty"):
        build_jde_credentials({"url": AIS_URL, "username": JDE_USER, "password": ""}, source="t")


@pytest.mark.parametrize(
    ("key", "masked"),
    [
        ("sk_test_51QuokkaSecretKeyValue9931abcd", "sk_test_…abcd"),
        ("rk_live_51QuokkaSecretKeyValue99317777", "rk_live_…7777"),
        ("sk_test_short", "sk_test_********"),
        ("sk_othershape0123456789012345", "…2345"),
    ],
)
def test_mask_shows_at_most_the_last_four(key: str, masked: str) -> None:
    assert mask_stripe_key(SecretStr(key)) == masked


def test_live_key_is_flagged() -> None:
    assert build_stripe_credentials({"api_key": "sk_live_" + "x" * 30}, source="t").is_live
    assert not build_stripe_credentials({"api_key": STRIPE_KEY}, source="t").is_live
