"""The sandbox's run-time behaviour: the same names on the CLI, in Python and at `/_sandbox/config`."""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jde_stripe_pipeline.sandboxes.ais.query import DateFormat

DEFAULT_USERNAME = "JDE"
DEFAULT_PASSWORD = "JDE"
DEFAULT_ENVIRONMENT = "JDV920"
DEFAULT_ROLE = "*ALL"
DEFAULT_DEVICE_NAME = "jde-stripe-pipeline"
DEFAULT_TIMEZONE = "America/Chicago"
DEFAULT_APPS_RELEASE = "E920"
DEFAULT_RESULT_SET_TIMEOUT_SECONDS = 60.0
"""Oracle's documented default of the AIS Server's `resultSetTimeout` (a paged result set's life)."""


class ConfigError(ValueError):
    """A setting that cannot be applied: names the setting."""


@dataclass(frozen=True)
class AisUser:
    password: str
    date_format: str = "MM/dd/yyyy"
    address_number: int = 2111
    alpha_name: str = "Sandbox, JDE User"
    country: str = "US"

    def __post_init__(self) -> None:
        DateFormat(self.date_format)

    def __repr__(self) -> str:
        return f"AisUser(password='***', date_format={self.date_format!r})"

    def to_json(self) -> dict[str, Any]:
        return {"password": self.password, "date_format": self.date_format}


def _default_users() -> dict[str, AisUser]:
    return {DEFAULT_USERNAME: AisUser(DEFAULT_PASSWORD)}


@dataclass(frozen=True)
class AisSandboxConfig:
    """Behaviour of the fake AIS server. Rates are fractions 0..1; faults are drawn from `fault_seed`."""

    token_max_age_seconds: float | None = 3600.0
    token_max_calls: int | None = None
    """A token dies after this many data-service calls (dataservice and dataservice/next)."""
    allowlist: tuple[str, ...] | None = None
    """Client addresses or CIDRs allowed on /jderest; None = everyone."""
    users: Mapping[str, AisUser] = field(default_factory=_default_users)
    environment: str = DEFAULT_ENVIRONMENT
    fail_rate: float = 0.0
    """Fraction of data-service calls answering 500."""
    drop_rate: float = 0.0
    """Fraction of /jderest calls whose connection is dropped without an answer."""
    latency_ms: int = 0
    fault_seed: int = 0
    default_max_page_size: int = 100
    page_state_max_age_seconds: float = DEFAULT_RESULT_SET_TIMEOUT_SECONDS
    """AIS's `resultSetTimeout`: a next-page state older than this answers 500 JAS_MSG347."""
    apps_release: str = DEFAULT_APPS_RELEASE
    timezone: str = DEFAULT_TIMEZONE

    def __post_init__(self) -> None:
        object.__setattr__(self, "allowlist", _allowlist(self.allowlist))
        object.__setattr__(self, "users", _users(self.users))
        for name in ("fail_rate", "drop_rate"):
            rate = getattr(self, name)
            if not 0 <= rate <= 1:
                raise ConfigError(f"{name} must be between 0 and 1, got {rate!r}")
        for name in ("token_max_age_seconds", "token_max_calls"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ConfigError(f"{name} must be positive or null, got {value!r}")
        if self.page_state_max_age_seconds <= 0:
            raise ConfigError(
                f"page_state_max_age_seconds must be positive, got {self.page_state_max_age_seconds!r}"
            )
        if self.latency_ms < 0 or self.default_max_page_size <= 0:
            raise ConfigError("latency_ms must be >= 0 and default_max_page_size > 0")
        if self.allowlist is not None:
            for entry in self.allowlist:
                try:
                    ipaddress.ip_network(entry, strict=False)
                except ValueError:
                    raise ConfigError(f"allowlist: {entry!r} is not an address or CIDR") from None
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"timezone: unknown time zone {self.timezone!r}") from None
        if not self.users:
            raise ConfigError("users: at least one user is needed")

    def __repr__(self) -> str:
        fields = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self))
        return f"AisSandboxConfig({fields})"

    def allows(self, address: str) -> bool:
        if self.allowlist is None:
            return True
        client = ipaddress.ip_address(address)
        return any(client in ipaddress.ip_network(entry, strict=False) for entry in self.allowlist)

    def user(self, username: str) -> tuple[str, AisUser] | None:
        """Users log in case-insensitively, as JDE user IDs do."""
        for name, user in self.users.items():
            if name.upper() == username.upper():
                return name, user
        return None

    def to_json(self) -> dict[str, Any]:
        """Passwords masked: the config is readable by anyone who can reach the admin API."""
        payload = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        payload["allowlist"] = list(self.allowlist) if self.allowlist is not None else None
        payload["users"] = {name: {**user.to_json(), "password": "***"} for name, user in self.users.items()}
        return payload

    def updated(self, changes: Mapping[str, Any]) -> AisSandboxConfig:
        """A copy with the JSON-shaped `changes` applied (the partial update of POST /_sandbox/config)."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
        if "timezone" in changes and changes["timezone"] != self.timezone:
            raise ConfigError("timezone is fixed when the sandbox starts (the seeded stamps depend on it)")
        parsed: dict[str, Any] = {}
        for name, value in changes.items():
            if name == "users":
                parsed[name] = _users(value)
            elif name == "allowlist":
                parsed[name] = _allowlist(value)
            elif name in ("fail_rate", "drop_rate", "token_max_age_seconds", "page_state_max_age_seconds"):
                parsed[name] = None if value is None else _number(name, value, float)
            elif name in ("token_max_calls", "latency_ms", "fault_seed", "default_max_page_size"):
                parsed[name] = None if value is None else _number(name, value, int)
            else:
                parsed[name] = value
        try:
            return dataclasses.replace(self, **parsed)
        except TypeError as error:
            raise ConfigError(str(error)) from None


def _number(name: str, value: Any, kind: type[int] | type[float]) -> Any:
    if isinstance(value, bool):
        raise ConfigError(f"{name}: expected a number, got {value!r}")
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: expected a number, got {value!r}") from None
    if kind is int and number != value and not isinstance(value, str):
        raise ConfigError(f"{name}: expected an integer, got {value!r}")
    return number


def _allowlist(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [part for part in value.replace(",", " ").split() if part]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"allowlist: expected a list of addresses or CIDRs, got {value!r}")
    return tuple(value)


def _users(value: Any) -> dict[str, AisUser]:
    if not isinstance(value, Mapping):
        raise ConfigError("users: expected {name: {password, date_format}}")
    users: dict[str, AisUser] = {}
    for name, entry in value.items():
        if isinstance(entry, AisUser):
            users[name] = entry
            continue
        if not isinstance(entry, Mapping) or not isinstance(entry.get("password"), str):
            raise ConfigError(f"users.{name}: expected {{password, date_format}}")
        try:
            users[name] = AisUser(
                password=entry["password"],
                date_format=entry.get("date_format", "MM/dd/yyyy"),
                address_number=int(entry.get("address_number", 2111)),
                alpha_name=str(entry.get("alpha_name", "Sandbox, JDE User")),
                country=str(entry.get("country", "US")),
            )
        except ValueError as error:
            raise ConfigError(f"users.{name}: {error}") from None
    return users
