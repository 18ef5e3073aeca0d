"""A run's claims on the records it writes: taken before the first Stripe write, renewed while it runs.

See `ledger/intents.py` for why. Here: one `ClaimToken` per engine, a heartbeat thread that renews
every claim the engine holds (one UPDATE) while a sync runs, and the release of what is left when the
sync ends (each record's own outcome releases its claim in the outcome's transaction).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from jde_stripe_pipeline.ledger import Busy, ClaimToken, Intent, Ledger, LedgerError, ObjectType

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=120)
"""A claim's lease: long enough for a record's writes under Stripe's rate limits and retries, short
enough that a run killed on another host holds its records for two minutes at most (one on this host
is taken over at once)."""


class Claims:
    def __init__(self, ledger: Ledger, run_id: str, lease: timedelta = LEASE) -> None:
        self.ledger = ledger
        self.token = ClaimToken.new(run_id)
        self.lease = lease
        self._lock = threading.Lock()
        self._active = 0
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None

    def claim(self, kind: ObjectType, record_key: str, create_key: str | None = None) -> Intent | Busy:
        return self.ledger.intents.claim(kind, record_key, self.token, self.lease, create_key=create_key)

    def note_create(self, kind: ObjectType, record_key: str, idempotency_key: str) -> None:
        self.ledger.intents.note_create(kind, record_key, self.token, idempotency_key)

    def next_attempt(self, kind: ObjectType, record_key: str) -> int:
        return self.ledger.intents.next_attempt(kind, record_key, self.token)

    @contextmanager
    def held(self) -> Iterator[None]:
        """While a sync runs: renew the claims every third of the lease; at its end, release the rest."""
        with self._lock:
            self._active += 1
            if self._active == 1:
                self._stop = threading.Event()
                self._thread = threading.Thread(
                    target=self._renew, args=(self._stop,), name="jde-stripe-claims", daemon=True
                )
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1
                stop, thread = (self._stop, self._thread) if self._active == 0 else (None, None)
            if stop is not None and thread is not None:
                stop.set()
                thread.join()
                self.ledger.intents.release(self.token)

    def _renew(self, stop: threading.Event) -> None:
        interval = self.lease.total_seconds() / 3
        while not stop.wait(interval):
            try:
                self.ledger.intents.renew(self.token, self.lease)
            except LedgerError as error:  # the next beat tries again; the lease covers two misses
                log.warning("renewing the run's record claims failed: %s", error)
