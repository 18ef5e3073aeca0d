"""Typed values read from a mapping of configuration variables (the environment): text, numbers,
choices and `CODE=VALUE` lists, each refusal a `SettingsError` of one line naming the variable.

The primitives `settings.py` parses every setting with; which variable means what lives there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar, get_args

from jde_stripe_pipeline.errors import ConfigurationError

T = TypeVar("T")


class SettingsError(ConfigurationError):
    """A configuration variable is missing or cannot be used; the message names it and the fix."""


def env_text(env: Mapping[str, str], name: str) -> str:
    return (env.get(name) or "").strip()


def env_codes(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """`"RI, RR"` → `("RI", "RR")` (JDE document type codes, as written)."""
    return tuple(code.strip() for code in env_text(env, name).split(",") if code.strip())


def env_choice(env: Mapping[str, str], name: str, literal: object, default: str) -> str:
    allowed = get_args(literal)
    value = env_text(env, name) or default
    if value not in allowed:
        raise SettingsError(f"{name}={value!r} is not allowed: use one of {', '.join(allowed)}")
    return value


def parse_value(text: str, name: str, parser: Callable[[str], T]) -> T:
    try:
        return parser(text.strip())
    except ValueError:
        kind = "a whole number" if parser is int else "a number"
        raise SettingsError(f"{name}={text.strip()!r} is not {kind}") from None


def env_number(env: Mapping[str, str], name: str, parser: Callable[[str], T], default: T) -> T:
    raw = env_text(env, name)
    return parse_value(raw, name, parser) if raw else default


def env_pairs(env: Mapping[str, str], name: str, *, upper: bool = True) -> dict[str, str]:
    """`"A=1, B=2"` → `{"A": "1", "B": "2"}` (codes upper-cased, as JDE writes them, unless `upper`
    is off)."""
    pairs: dict[str, str] = {}
    for item in env_text(env, name).split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise SettingsError(
                f"{name}: expected CODE=VALUE pairs separated by commas, got {item.strip()!r}"
            )
        code = key.strip().upper() if upper else key.strip()
        if not upper and code in pairs and pairs[code] != value.strip():
            raise SettingsError(f"{name}: {code} is given twice ({pairs[code]}, {value.strip()})")
        pairs[code] = value.strip()
    return pairs
