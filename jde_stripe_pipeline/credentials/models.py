"""The credential values, in types that never show a secret.

Secrets are pydantic `SecretStr`: repr, str and `model_dump_json` print `**********`; only
`get_secret_value()` reveals them, and only the store's encryption and the clients' requests call it.
Validation errors are re-raised as `InvalidCredentialValue` naming the field, never the value
(`hide_input_in_errors`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from jde_stripe_pipeline.accounts import DEFAULT_ACCOUNT
from jde_stripe_pipeline.credentials.errors import InvalidCredentialValue
from jde_stripe_pipeline.urls import http_base_url

PASSWORD_MASK = "********"
_STRIPE_KEY_PREFIX = re.compile(r"^(sk|rk)_(test|live)_")
_VISIBLE_TAIL = 4
_MIN_LENGTH_TO_SHOW_TAIL = 16


class _Credentials(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    source: str = "unspecified"
    """Where these values came from (`environment` or `store /path`), for messages; not stored."""

    def stored_values(self) -> dict[str, Any]:
        """The plain values to encrypt into the store: secrets revealed, `source` left out."""
        values: dict[str, Any] = {}
        for name, value in self.model_dump(exclude={"source"}).items():
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            elif isinstance(value, Path):
                value = str(value)
            values[name] = value
        return values


C = TypeVar("C", bound=_Credentials)


class JdeCredentials(_Credentials):
    """How to log in to the JDE AIS Server. Field names match `jde.settings.AisSettings`."""

    url: str
    """Base URL of the AIS Server, without `/jderest`."""
    username: str
    password: SecretStr
    environment: str | None = None
    role: str | None = None
    device_name: str | None = None
    ca_bundle: Path | None = None

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, value: str) -> str:
        return http_base_url(value)

    @field_validator("username")
    @classmethod
    def _username_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator("password")
    @classmethod
    def _password_not_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("must not be empty")
        return value

    @field_validator("environment", "role", "device_name")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    def settings_values(self) -> dict[str, Any]:
        """The set values as keyword arguments for `AisSettings.from_values` (password stays secret)."""
        return {
            name: value for name, value in self.model_dump(exclude={"source"}).items() if value is not None
        }


class StripeCredentials(_Credentials):
    """The Stripe secret (or restricted) key and, for the emulator or a proxy, the API base URL."""

    api_key: SecretStr
    api_base: str | None = None

    @field_validator("api_key")
    @classmethod
    def _is_secret_key(cls, value: SecretStr) -> SecretStr:
        key = value.get_secret_value().strip()
        if key.startswith("pk_"):
            raise ValueError(
                "is a publishable key (pk_…); the connector needs a secret key (sk_…)"
                " or a restricted key (rk_…)"
            )
        if not key.startswith(("sk_", "rk_")):
            raise ValueError("must be a Stripe secret key (sk_…) or restricted key (rk_…)")
        if any(character.isspace() for character in key):
            raise ValueError("must not contain spaces or line breaks")
        return SecretStr(key)

    @field_validator("api_base")
    @classmethod
    def _base_is_http(cls, value: str | None) -> str | None:
        return None if value is None or not value.strip() else http_base_url(value)

    @property
    def is_live(self) -> bool:
        """True for a live-mode key: it moves real money."""
        return "_live_" in self.api_key.get_secret_value()[:8]

    @property
    def masked_key(self) -> str:
        return mask_stripe_key(self.api_key)


class StoredCredentials(BaseModel):
    """The decrypted content of the store: each group may be absent. `stripe` is the key of the
    `default` account (and of a Connect platform); `stripe_accounts` the keys of the other accounts."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    jde: JdeCredentials | None = None
    stripe: StripeCredentials | None = None
    stripe_accounts: dict[str, StripeCredentials] = Field(default_factory=dict)

    def stripe_of(self, account: str) -> StripeCredentials | None:
        return self.stripe if account == DEFAULT_ACCOUNT else self.stripe_accounts.get(account)

    def with_stripe(self, account: str, stripe: StripeCredentials | None) -> StoredCredentials:
        """A copy with the account's key set (None: removed)."""
        if account == DEFAULT_ACCOUNT:
            return self.model_copy(update={"stripe": stripe})
        accounts = {name: value for name, value in self.stripe_accounts.items() if name != account}
        if stripe is not None:
            accounts[account] = stripe
        return self.model_copy(update={"stripe_accounts": dict(sorted(accounts.items()))})


def build_jde_credentials(
    values: Mapping[str, Any], *, source: str, field_names: Mapping[str, str] | None = None
) -> JdeCredentials:
    """Validate `values`; a bad one raises `InvalidCredentialValue` naming the field (or its env var)."""
    return _build(JdeCredentials, values, source, field_names or {}, "JDE")


def build_stripe_credentials(
    values: Mapping[str, Any], *, source: str, field_names: Mapping[str, str] | None = None
) -> StripeCredentials:
    """Validate `values`; a bad one raises `InvalidCredentialValue` naming the field (or its env var)."""
    return _build(StripeCredentials, values, source, field_names or {}, "Stripe")


def _build(
    model: type[C], values: Mapping[str, Any], source: str, field_names: Mapping[str, str], group: str
) -> C:
    try:
        return model.model_validate({**values, "source": source})
    except ValidationError as error:
        problems = []
        for problem in error.errors():
            field = str(problem["loc"][0]) if problem["loc"] else "?"
            problems.append(
                f"{field_names.get(field, field)}: {str(problem['msg']).removeprefix('Value error, ')}"
            )
        raise InvalidCredentialValue(
            f"Invalid {group} credentials ({source}): " + "; ".join(problems)
        ) from None


def mask_stripe_key(key: SecretStr) -> str:
    """`sk_test_…abcd`: the mode prefix and at most the last 4 characters, and those only for a long key."""
    value = key.get_secret_value()
    match = _STRIPE_KEY_PREFIX.match(value)
    prefix = match.group(0) if match else ""
    rest = value[len(prefix) :]
    if len(rest) >= _MIN_LENGTH_TO_SHOW_TAIL:
        return f"{prefix}…{rest[-_VISIBLE_TAIL:]}"
    return f"{prefix}{PASSWORD_MASK}"
