"""The emulator's knobs, their profiles and their coercion from the admin API's JSON or the CLI."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from . import errors
from .latency import LATENCY_PRESETS, LatencySettings
from .limits import PROFILES, Limits

DEFAULT_API_KEY = "sk_test_emulator_4eC39HqLyjWDarjtT1zdp7dc"
DEFAULT_ACCOUNT = "acct_emulator"

_LIMIT_FIELDS = {
    "rate_limit_per_second": "global_rate",
    "endpoint_rate_limit_per_second": "endpoint_rate",
    "search_rate_limit_per_second": "search_rate",
    "concurrency_limit": "concurrency",
}
_LATENCY_FIELDS = {
    "latency_read_ms": "read_ms",
    "latency_write_ms": "write_ms",
    "latency_p99_ratio": "p99_ratio",
}


@dataclass(frozen=True)
class StripeEmulatorConfig:
    """Knobs of the emulator; every one can be changed at run time (`update_config`, `/_sandbox/config`).

    `profile` (`default` | `test` | `live` | `off`) gives the four limiter numbers; a number set here
    (not None) overrides the profile's. `latency` (`off` | `stripe`) likewise gives the latency medians.
    `key_accounts` maps an API key to its account (keys not named belong to `acct_emulator`): objects,
    idempotency keys and limits are per account. `connected_accounts` maps a connected account id to its
    Connect platform's account: a platform key acts on it with the `Stripe-Account` header.
    `fail_rate`: share of endpoint executions answered with a 500 that is saved for idempotency, as
    Stripe saves a 500 (a retry with the same key gets the same 500 back).
    `unavailable_rate`: share of requests answered 503 before the idempotency layer (not saved; a retry
    runs anew), like an overloaded front end.
    `commit_then_fail_rate`: share of executions that take effect and are saved as success, but whose
    answer is lost: a 500 or a dropped connection (half each). Only idempotency makes a retry safe.
    `latency_ms`: a fixed delay added to every routed request, on top of the sampled one.
    """

    api_keys: tuple[str, ...] = (DEFAULT_API_KEY,)
    key_accounts: Mapping[str, str] = field(default_factory=dict)
    connected_accounts: Mapping[str, str] = field(default_factory=dict)
    profile: str = "default"
    rate_limit_per_second: float | None = None
    endpoint_rate_limit_per_second: float | None = None
    search_rate_limit_per_second: float | None = None
    concurrency_limit: int | None = None
    latency: str = "off"
    latency_read_ms: float | None = None
    latency_write_ms: float | None = None
    latency_p99_ratio: float | None = None
    latency_seed: int = 0
    latency_endpoints_ms: Mapping[str, float] = field(default_factory=dict)
    latency_ms: int = 0
    fail_rate: float = 0.0
    unavailable_rate: float = 0.0
    commit_then_fail_rate: float = 0.0
    fault_seed: int = 0
    search_lag_seconds: float = 1.0
    idempotency_ttl_seconds: float = 86400.0

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise ValueError(f"profile must be one of {', '.join(PROFILES)}, not {self.profile!r}")
        if self.latency not in LATENCY_PRESETS:
            raise ValueError(f"latency must be one of {', '.join(LATENCY_PRESETS)}, not {self.latency!r}")

    @classmethod
    def of(cls, **changes: Any) -> StripeEmulatorConfig:
        """A config from loose values (strings, JSON numbers), as `update_config` takes them."""
        return replace(cls(), **coerce_changes(changes))

    @property
    def limits(self) -> Limits:
        """The limiter numbers in force: the profile's, overridden by the numbers set."""
        return Limits(**self._overridden(PROFILES[self.profile], _LIMIT_FIELDS))

    @property
    def latency_settings(self) -> LatencySettings:
        base = self._overridden(LATENCY_PRESETS[self.latency], _LATENCY_FIELDS)
        endpoints = dict(self.latency_endpoints_ms)
        return LatencySettings(**base, seed=self.latency_seed, endpoints=endpoints, fixed_ms=self.latency_ms)

    def _overridden(self, preset: Any, names: Mapping[str, str]) -> dict[str, Any]:
        """A preset's fields, each replaced by the knob of this config named for it when that is set."""
        base = asdict(preset)
        for name, target in names.items():
            value = getattr(self, name)
            if value is not None:
                base[target] = value
        return base

    def account_of(self, key: str) -> str:
        return self.key_accounts.get(key, DEFAULT_ACCOUNT)

    def acting_account(self, key: str, stripe_account: str | None) -> str:
        """The account a request acts on: the key's own, or with `Stripe-Account` a connected account
        of the key's (a Connect platform's) account; any other account answers 403, as Stripe does."""
        own = self.account_of(key)
        wanted = (stripe_account or "").strip()
        if not wanted or wanted == own:
            return own
        if own not in self.connected_accounts.values():
            raise errors.not_a_platform()
        if self.connected_accounts.get(wanted) != own:
            raise errors.no_access_to_account(key, wanted)
        return wanted


CONFIG_NAMES = frozenset(f.name for f in fields(StripeEmulatorConfig))
LATENCY_NAMES = frozenset({"latency", "latency_seed", "latency_endpoints_ms", "latency_ms", *_LATENCY_FIELDS})


def coerce_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Typed values for `dataclasses.replace`. Choosing a `profile` (or `latency`) drops the numbers set
    before, so the profile's own numbers apply unless the same change sets them again."""
    unknown = set(changes) - CONFIG_NAMES
    if unknown:
        raise ValueError(f"unknown emulator setting(s): {', '.join(sorted(unknown))}")
    coerced: dict[str, Any] = {}
    if "profile" in changes:
        coerced.update(dict.fromkeys(_LIMIT_FIELDS))
    if "latency" in changes:
        coerced.update(dict.fromkeys(_LATENCY_FIELDS))
    for name, value in changes.items():
        coerced[name] = _coerce(name, value)
    return coerced


def _coerce(name: str, value: Any) -> Any:
    if name == "api_keys":
        keys = (value,) if isinstance(value, str) else tuple(str(k) for k in value)
        if not keys:
            raise ValueError("api_keys needs at least one key")
        return keys
    if name in ("profile", "latency"):
        return str(value)
    if name in ("key_accounts", "connected_accounts", "latency_endpoints_ms"):
        if not isinstance(value, Mapping):
            raise ValueError(f"{name} must be an object")
        if name in ("key_accounts", "connected_accounts"):
            return {str(k): str(v) for k, v in value.items()}
        return {str(k): _non_negative(f"{name}[{k}]", v) for k, v in value.items()}
    if value is None and (name in _LIMIT_FIELDS or name in _LATENCY_FIELDS):
        return None  # back to the profile's number
    if name in ("latency_ms", "fault_seed", "latency_seed", "concurrency_limit"):
        whole = int(value)
        if name not in ("fault_seed", "latency_seed") and whole < 0:
            raise ValueError(f"{name} must be >= 0")
        return whole
    number = _non_negative(name, value)
    if name.endswith("_rate") and number > 1.0:
        raise ValueError(f"{name} must be between 0 and 1")
    if name == "latency_p99_ratio" and number < 1.0:
        raise ValueError("latency_p99_ratio must be >= 1 (1: a constant delay)")
    return number


def _non_negative(name: str, value: Any) -> float:
    number = float(value)
    if number < 0:
        raise ValueError(f"{name} must be >= 0")
    return number


def config_view(config: StripeEmulatorConfig) -> dict[str, Any]:
    """The config as JSON, keys masked, with the limits and latency medians in force."""
    view = asdict(config)
    view["api_keys"] = [errors.mask_key(key) for key in config.api_keys]
    view["key_accounts"] = {errors.mask_key(key): account for key, account in config.key_accounts.items()}
    view["limits_in_force"] = asdict(config.limits)
    settings = config.latency_settings
    view["latency_in_force"] = {
        "read_ms": settings.read_ms,
        "write_ms": settings.write_ms,
        "p99_ratio": settings.p99_ratio,
    }
    return view
