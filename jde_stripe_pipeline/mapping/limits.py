"""Stripe's limits on what the mapping sends, and the checks that enforce them.

Figures from docs.stripe.com (metadata, invoices) and Stripe's OpenAPI `maxLength`s (as generated
into the SDKs). A value over a limit is a `MappingFailure` unless shortening it is harmless (only
free display text is ever shortened: see `shorten`).
"""

from __future__ import annotations

from collections.abc import Mapping

METADATA_MAX_KEYS = 50
METADATA_KEY_MAX_LENGTH = 40
METADATA_VALUE_MAX_LENGTH = 500
METADATA_KEY_FORBIDDEN = frozenset("[]")

CUSTOMER_NAME_MAX_LENGTH = 256
CUSTOMER_EMAIL_MAX_LENGTH = 512
PHONE_MAX_LENGTH = 20
ADDRESS_FIELD_MAX_LENGTH = 5000
SHIPPING_NAME_MAX_LENGTH = 5000

INVOICE_NUMBER_MAX_LENGTH = 26
INVOICE_MAX_LINES = 250
CUSTOM_FIELDS_MAX = 4
CUSTOM_FIELD_NAME_MAX_LENGTH = 40
CUSTOM_FIELD_VALUE_MAX_LENGTH = 140
LINE_DESCRIPTION_MAX_LENGTH = 5000
AMOUNT_MAX_MINOR_UNITS = 99_999_999
"""Stripe's largest amount, in the currency's minor unit (a line beyond it answers `amount_too_large`)."""

ELLIPSIS = "…"


def metadata_problem(metadata: Mapping[str, str]) -> str | None:
    """Why Stripe would refuse this metadata, or None. Values are never shortened: they are data."""
    if len(metadata) > METADATA_MAX_KEYS:
        return f"{len(metadata)} metadata keys, Stripe allows {METADATA_MAX_KEYS}"
    for key, value in metadata.items():
        if not key:
            return "empty metadata key"
        if len(key) > METADATA_KEY_MAX_LENGTH:
            return f"metadata key {key!r} is {len(key)} characters, Stripe allows {METADATA_KEY_MAX_LENGTH}"
        if METADATA_KEY_FORBIDDEN & set(key):
            return f"metadata key {key!r} contains '[' or ']'"
        if not isinstance(value, str):
            return f"metadata value of {key!r} is not a string"
        if len(value) > METADATA_VALUE_MAX_LENGTH:
            return (
                f"metadata value of {key!r} is {len(value)} characters, "
                f"Stripe allows {METADATA_VALUE_MAX_LENGTH}"
            )
    return None


def length_problem(label: str, value: str, limit: int) -> str | None:
    if len(value) > limit:
        return f"{label} is {len(value)} characters, Stripe allows {limit}: {value[:60]!r}…"
    return None


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, ending in `…` when cut (at a word boundary if one is near)."""
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return text[:limit]
    cut = text[: limit - len(ELLIPSIS)]
    space = cut.rfind(" ")
    if space >= len(cut) * 3 // 4:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS
