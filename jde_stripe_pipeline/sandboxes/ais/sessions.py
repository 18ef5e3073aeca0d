"""The sandbox's sessions: tokens, their next-page states, and the request statistics."""

from __future__ import annotations

import base64
import secrets
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from jde_stripe_pipeline.sandboxes.ais.query import DateFormat, SelectPlan


@dataclass
class PageState:
    """A next-page cursor: the matching rows' rowids in order, fixed when the query first ran."""

    state_id: int
    rid: str
    plan: SelectPlan
    rowids: list[int]
    position: int
    created: float
    output_type: str


@dataclass
class Session:
    token: str
    username: str
    device: str | None
    """None: the token was requested without a device name and is bound to none."""
    date_format: DateFormat
    issued: float
    calls: int = 0
    alive: bool = True
    pages: dict[int, PageState] = field(default_factory=dict)


@dataclass
class Stats:
    requests: Counter[tuple[str, int]] = field(default_factory=Counter)
    tokens_issued: int = 0
    reauthentications: int = 0
    failed_logins: int = 0
    injected_failures: int = 0
    dropped_connections: int = 0
    users_with_tokens: set[str] = field(default_factory=set)

    def to_json(self) -> dict[str, Any]:
        by_endpoint: dict[str, dict[str, int]] = {}
        for (endpoint, status), count in sorted(self.requests.items()):
            by_endpoint.setdefault(endpoint, {})[str(status)] = count
        return {
            "requests": by_endpoint,
            "tokens_issued": self.tokens_issued,
            "reauthentications": self.reauthentications,
            "failed_logins": self.failed_logins,
            "injected_failures": self.injected_failures,
            "dropped_connections": self.dropped_connections,
        }


def new_token() -> str:
    """Standard base64 as real AIS tokens, always with `+`, `/` and `=`, so every client meets them."""
    while True:
        token = "044" + base64.b64encode(secrets.token_bytes(49)).decode("ascii")
        if "+" in token and "/" in token:
            return token
