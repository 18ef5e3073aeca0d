"""Connector settings for the JDE AIS Server.

A typed, frozen object built from plain values: the login as the credentials resolve it, the zone and
profile from the settings root (`runtime.ais_settings` puts them together). The password is a `SecretStr`:
it never shows in a repr, a log line or an exception; only the token request reveals it.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError, field_validator

from jde_stripe_pipeline.jde.errors import AisConfigError
from jde_stripe_pipeline.jde.records import InvoiceProfileName
from jde_stripe_pipeline.urls import http_base_url

DEFAULT_DEVICE_NAME = "jde-stripe-pipeline"

ENV_URL = "JDE_AIS_URL"
ENV_USERNAME = "JDE_AIS_USERNAME"
ENV_PASSWORD = "JDE_AIS_PASSWORD"
ENV_ENVIRONMENT = "JDE_AIS_ENVIRONMENT"
ENV_ROLE = "JDE_AIS_ROLE"
ENV_DEVICE_NAME = "JDE_AIS_DEVICE_NAME"
ENV_CA_BUNDLE = "JDE_AIS_CA_BUNDLE"
ENV_TIMEZONE = "JDE_TIMEZONE"
ENV_INVOICE_SOURCE = "JDE_INVOICE_SOURCE"

_FIELD_TO_ENV = {
    "url": ENV_URL,
    "username": ENV_USERNAME,
    "password": ENV_PASSWORD,
    "environment": ENV_ENVIRONMENT,
    "role": ENV_ROLE,
    "device_name": ENV_DEVICE_NAME,
    "ca_bundle": ENV_CA_BUNDLE,
    "timezone": ENV_TIMEZONE,
    "invoice_source": ENV_INVOICE_SOURCE,
}


class AisSettings(BaseModel):
    """Where AIS is, who logs in, and how to read its stamps."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    """Base URL of the AIS Server, without `/jderest` (e.g. `https://ais.example.com:9300`)."""
    username: str
    password: SecretStr
    environment: str
    role: str = "*ALL"
    device_name: str = DEFAULT_DEVICE_NAME
    ca_bundle: Path | None = None
    """A CA bundle to verify AIS's certificate with; TLS verification is on either way."""
    timezone: str
    """The JDE server's IANA zone: UPMJ/UPMT stamps are local times there."""
    invoice_source: InvoiceProfileName = "purchase_order"

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, value: str) -> str:
        return http_base_url(value)

    @field_validator("username", "environment", "role", "device_name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def verify(self) -> bool | str:
        """The `verify` argument for requests: the bundle path when given, else the system CAs."""
        return str(self.ca_bundle) if self.ca_bundle is not None else True

    @classmethod
    def from_values(cls, **values: object) -> AisSettings:
        """Build from plain values; a bad value becomes an `AisConfigError` naming the setting."""
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = []
            for error in exc.errors():
                field = str(error["loc"][0]) if error["loc"] else "?"
                problems.append(f"{_FIELD_TO_ENV.get(field, field)}: {error['msg']}")
            raise AisConfigError("Invalid AIS settings: " + "; ".join(problems)) from None
