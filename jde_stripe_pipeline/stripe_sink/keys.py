"""Where the Stripe key comes from, how it is shown (masked), and which mode it is in.

The key is never a settings field: it is read through a *key source* (a callable) so that a rotated key
is picked up after a 401 without a restart. The key is masked wherever it could be shown.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Literal

from jde_stripe_pipeline.stripe_sink.errors import StripeAuthError

KeySource = Callable[[], str]
"""Returns the Stripe secret key to use now. Called at start, and again after a 401 (see `keyring.py`)."""

KeyMode = Literal["live", "test"]


def mask_key(key: str | None) -> str:
    """`sk_test_51Habc…wxyz` → `sk_test_…wxyz`: enough to tell keys apart, never enough to use one."""
    if not key:
        return "<no key>"
    prefix = ""
    for candidate in ("sk_test_", "sk_live_", "rk_test_", "rk_live_"):
        if key.startswith(candidate):
            prefix = candidate
            break
    rest = key[len(prefix) :]
    if len(rest) < 12:
        return f"{prefix}…"
    return f"{prefix}…{rest[-4:]}"


def redact_key(text: str, key: str | None) -> str:
    """Replace every occurrence of the key in a text (an error message, a log line) by its mask."""
    if not key:
        return text
    return text.replace(key, mask_key(key))


def is_live_key(key: str) -> bool:
    return key.startswith(("sk_live_", "rk_live_"))


def key_mode(key: str) -> KeyMode:
    """`live` for `sk_live_`/`rk_live_`; anything else is held to the sandbox's (stricter) limits."""
    return "live" if is_live_key(key) else "test"


def key_fingerprint(key: str) -> str:
    """A one-way name for a key (to tell budgets apart): the key cannot be recovered from it."""
    return hashlib.sha256(f"jde-stripe-budget\0{key}".encode()).hexdigest()[:20]


class StaticKeySource:
    """A fixed key (tests, a key handed over by a credential store); its repr shows the mask only.

    It can never offer another key, so a 401 with it fails at once (no rotation grace)."""

    rotates = False

    def __init__(self, key: str):
        self._key = key

    def __call__(self) -> str:
        return self._key

    def __repr__(self) -> str:
        return f"StaticKeySource({mask_key(self._key)})"


def no_key_source() -> str:
    """The default: a sink is given its key source (`runtime.stripe_sink` passes the credentials')."""
    raise StripeAuthError("No Stripe key source: open the sink through the credentials (runtime.stripe_sink)")


def can_rotate(source: KeySource) -> bool:
    """False for a source that declares it always returns the same key (`rotates = False`)."""
    return bool(getattr(source, "rotates", True))
