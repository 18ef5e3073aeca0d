"""The AIS session's values: its retry policy, what the token says of the user, and its counters."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and jitter for 5xx, timeouts and dropped connections."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 15.0
    connect_timeout: float = 10.0
    read_timeout: float = 120.0

    def delay(self, retry_number: int, rng: random.Random) -> float:
        """Seconds to wait before retry `retry_number` (1-based): half fixed, half random."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (retry_number - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


@dataclass(frozen=True)
class AisUser:
    """What the token response says about the logged-in user that matters to requests."""

    username: str
    simple_date_format: str
    """Java pattern for date literals, per user (`MM/dd/yyyy`, `dd/MM/yyyy`, …)."""


@dataclass
class SessionStats:
    """What a session cost at AIS, for the extract asset's metadata (`ais_*`), the bench and tests."""

    requests: int = 0
    reauthentications: int = 0
    retries: int = 0
    resumed_reads: int = 0
    expired_result_sets: int = 0
    """Paged reads AIS dropped after resultSetTimeout (JAS_MSG347), each resumed."""
    rows: int = 0
