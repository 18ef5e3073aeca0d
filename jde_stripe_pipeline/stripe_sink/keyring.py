"""The key in use, the SDK client built on it, and what happens after a 401 (issue 13's rotation grace).

Stripe's documented roll lets the old key expire at once ("now") or later. With "now", the old key is
refused before anyone can store the new one, so after a 401 the sink keeps re-reading the key source
every `key_grace_poll_seconds` for up to `key_grace_seconds` (default 60) before it fails. One thread
waits; the others that meet the 401 wait for its outcome (the lock), then either use the new key or fail
at once (the grace of that key has been spent). A source that can never change (`StaticKeySource`) gets
one re-read and no grace: waiting for it could not help.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import stripe

from jde_stripe_pipeline.stripe_sink.errors import StripeAuthError, StripeSinkError
from jde_stripe_pipeline.stripe_sink.keys import KeySource, can_rotate, mask_key

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KeyState:
    key: str
    generation: int
    sdk: stripe.StripeClient


class KeyRing:
    """Thread-safe holder of the current key and its SDK client (`max_network_retries=0`: every retry
    is the sink's, and paced)."""

    def __init__(
        self,
        source: KeySource,
        *,
        api_base: str,
        http: stripe.HTTPClient,
        stripe_account: str | None = None,
        grace_seconds: float,
        poll_seconds: float,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        on_refresh: Callable[[], None] = lambda: None,
    ):
        self.source = source
        self._api_base = api_base
        self._http = http
        self._stripe_account = stripe_account
        self.grace_seconds = grace_seconds if can_rotate(source) else 0.0
        self._poll_seconds = poll_seconds
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._grace_spent_for = -1
        self._on_refresh = on_refresh
        key = self.read()
        if not key:
            raise StripeAuthError(f"No Stripe API key: the key source {source!r} returned nothing")
        self.current = self._build(key, generation=0)

    def read(self) -> str:
        """The key the source offers now; a failing source is named, its message (maybe a secret) not."""
        try:
            return self.source().strip()
        except StripeSinkError:
            raise
        except Exception as error:  # a credential store failing; its message could hold a secret
            raise StripeAuthError(
                f"The Stripe key source {self.source!r} failed: {type(error).__name__}"
            ) from None

    def refresh(self, seen_generation: int) -> bool:
        """After a 401 with key generation `seen_generation`: True once another key is in use (read now,
        within the grace, or by another thread meanwhile); False when none came."""
        with self._lock:
            if self.current.generation != seen_generation:
                return True
            if self._grace_spent_for == seen_generation:
                return False  # another thread already waited out the grace for this key
            deadline = self._clock() + self.grace_seconds
            waited = False
            while True:
                try:
                    key = self.read()
                except StripeAuthError:
                    key = ""  # not stored yet: keep looking until the deadline
                if key and key != self.current.key:
                    break
                if self._clock() >= deadline:
                    self._grace_spent_for = seen_generation
                    return False
                if not waited:
                    log.warning(
                        "Stripe refused the key %s; waiting up to %g s for a rotated key in %r",
                        mask_key(self.current.key),
                        self.grace_seconds,
                        self.source,
                    )
                    waited = True
                self._sleep(min(self._poll_seconds, max(deadline - self._clock(), 0.0)))
            self.current = self._build(key, self.current.generation + 1)
            self._on_refresh()
            log.warning("Stripe refused the key; now using %s from the key source", mask_key(key))
            return True

    def _build(self, key: str, generation: int) -> KeyState:
        sdk = stripe.StripeClient(
            key,
            base_addresses={"api": self._api_base},
            stripe_account=self._stripe_account,
            max_network_retries=0,
            http_client=self._http,
        )
        return KeyState(key=key, generation=generation, sdk=sdk)
