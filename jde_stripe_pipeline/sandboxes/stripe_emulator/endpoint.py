"""What an endpoint is: the `Context` a handler gets, the handler's signature, and the `Route` that serves it.

Handlers are plain functions `(ctx, path ids, validated params) -> (status, body)`; they raise `ApiError`
for every refusal. The server shell (auth, rate limit, idempotency, faults) lives in server.py and calls
them with the state lock held; routes.py lists every route.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .forms import Field
from .store import Store


@dataclass
class Context:
    store: Store
    now: float
    search_lag_seconds: float

    @property
    def timestamp(self) -> int:
        return int(self.now)


Handler = Callable[[Context, Sequence[str], dict[str, Any]], tuple[int, dict[str, Any]]]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    schema: Mapping[str, Field]
    handler: Handler
    required: tuple[str, ...] = ()
    search: bool = False
    template: str = ""
    """The path as Stripe names the operation (`/v1/invoices/{id}/add_lines`): the rate limit's endpoint."""


_ID = r"([A-Za-z0-9_]+)"


def make_route(method: str, path: str, schema: Mapping[str, Field], handler: Handler, **kw: Any) -> Route:
    pattern = re.compile("^" + path.replace("{id}", _ID) + "$")
    return Route(method, pattern, schema, handler, template=path, **kw)
