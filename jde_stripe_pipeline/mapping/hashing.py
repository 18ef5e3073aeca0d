"""Content hashes over what is sent to Stripe.

Change detection compares the hash of the mapped *request*, not of the JDE row: a JDE edit Stripe
cannot see costs nothing, and a mapping or configuration change re-syncs exactly what it affects.
Canonical form: JSON with sorted keys, no whitespace, UTF-8, Decimals as their exact strings.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple | frozenset):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"cannot hash a {type(value).__name__} value: {value!r}")


def canonical_json(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_default
    )


def content_hash(value: Any) -> str:
    """sha256 hex digest (64 characters) of the canonical JSON of `value`."""
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()
