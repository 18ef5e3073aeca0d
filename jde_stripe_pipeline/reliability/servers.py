"""The two servers a scenario runs against, served from the harness's own process.

The AIS sandbox and the Stripe emulator listen on loopback behind *hooks*: functions that see each
request with the server's answer before it is written back, and may act on it (SIGKILL the run that
sent it, so the server has committed and the client never hears of it) or replace it (a mangled AIS
answer). Runs are separate processes that reach the servers over HTTP only, as a Dagster run would.

Truth is read from the servers' own admin faces: the sandbox's row API (`GET /_sandbox/tables/T/rows`,
over HTTP) and the emulator's stored objects — never through the pipeline's clients.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import requests

from jde_stripe_pipeline.sandboxes.ais import AisSandbox, AisSandboxConfig
from jde_stripe_pipeline.sandboxes.ais.admin_client import AisAdmin
from jde_stripe_pipeline.sandboxes.http_server import (
    DropConnection,
    HttpRequest,
    HttpResponse,
    LoopbackServer,
)
from jde_stripe_pipeline.sandboxes.stripe_emulator import StripeEmulator, StripeEmulatorConfig

Answer = HttpResponse | DropConnection
Hook = Callable[[HttpRequest, Answer], Answer]
"""Sees a request and the server's answer; returns the answer to send (the same one, or another)."""


@dataclass
class HookedHandler:
    """A server's handler with hooks run in order after it; hooks can be added and removed at run time."""

    handler: Callable[[HttpRequest], Answer]
    hooks: list[Hook] = field(default_factory=list)
    watchers: list[Callable[[HttpRequest, Answer], None]] = field(default_factory=list)
    """See every answer as it goes out (after the hooks); never removed."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    lasting: list[Hook] = field(default_factory=list)
    """Hooks that stand for JDE's data rather than a fault (a malformed row): healing keeps them."""
    gates: list[Callable[[HttpRequest], None]] = field(default_factory=list)
    """Called before the server sees the request; may hold it (a slow server, a race made certain)."""

    def __call__(self, request: HttpRequest) -> Answer:
        for gate in list(self.gates):
            gate(request)
        answer = self.handler(request)
        with self._lock:
            hooks = [*self.lasting, *self.hooks]
        for hook in hooks:
            answer = hook(request, answer)
        for watch in self.watchers:
            watch(request, answer)
        return answer

    def clear(self) -> None:
        with self._lock:
            self.hooks.clear()
            self.gates.clear()

    def add(self, hook: Hook) -> Hook:
        with self._lock:
            self.hooks.append(hook)
        return hook

    def remove(self, hook: Hook) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self.hooks.remove(hook)


@dataclass
class Servers:
    """Both servers, started; `close()` stops them."""

    sandbox: AisSandbox
    emulator: StripeEmulator
    ais: HookedHandler
    stripe: HookedHandler
    ais_url: str
    stripe_url: str
    _servers: list[LoopbackServer]

    @property
    def admin(self) -> AisAdmin:
        """JDE's tables through the sandbox's admin row API (truth is read there; edits go there)."""
        return AisAdmin(self.ais_url, timeout=60)

    @classmethod
    def start(
        cls,
        *,
        seed: int,
        customers: int,
        invoices: int,
        as_of: dt.date | None = None,
        emulator_config: StripeEmulatorConfig | None = None,
    ) -> Servers:
        sandbox = AisSandbox(
            seed=seed, customers=customers, invoices=invoices, as_of=as_of, config=AisSandboxConfig()
        )
        emulator = StripeEmulator(
            emulator_config or StripeEmulatorConfig(rate_limit_per_second=1000.0, search_lag_seconds=0.0)
        )
        ais, stripe = HookedHandler(sandbox.service.handle), HookedHandler(emulator.handle)
        ais_server = LoopbackServer(ais, name="jde-ais-sandbox").start()
        stripe_server = LoopbackServer(stripe, name="stripe-emulator").start()
        return cls(
            sandbox, emulator, ais, stripe, ais_server.url, stripe_server.url, [ais_server, stripe_server]
        )

    def close(self) -> None:
        for server in self._servers:
            server.stop()
        self.sandbox.close()
        self.emulator.close()

    # -- the AIS sandbox's admin API (HTTP) -----------------------------------------------------------

    def ais_config(self, **changes: Any) -> dict[str, Any]:
        answer = requests.post(f"{self.ais_url}/_sandbox/config", json=changes, timeout=30)
        answer.raise_for_status()
        return dict(answer.json())

    def ais_stats(self) -> dict[str, Any]:
        return dict(requests.get(f"{self.ais_url}/_sandbox/stats", timeout=30).json())

    # -- the Stripe emulator's admin face -------------------------------------------------------------

    def stripe_config(self, **changes: Any) -> dict[str, Any]:
        answer = requests.post(f"{self.stripe_url}/_sandbox/config", json=changes, timeout=30)
        answer.raise_for_status()
        return dict(answer.json())

    def stripe_objects(self, kind: str) -> list[dict[str, Any]]:
        """The emulator's stored objects of one kind (`customer`, `invoice`, `invoiceitem`)."""
        return self.emulator.objects(kind)

    def stripe_log(self) -> list[dict[str, Any]]:
        answer = requests.get(f"{self.stripe_url}/_sandbox/requests", timeout=60)
        answer.raise_for_status()
        return list(answer.json())

    def stripe_writes(self) -> int:
        return sum(
            1
            for entry in self.stripe_log()
            if entry["method"] in ("POST", "DELETE") and entry["path"].startswith("/v1/")
        )

    def clear_stripe_log(self) -> None:
        requests.delete(f"{self.stripe_url}/_sandbox/requests", timeout=30).raise_for_status()


@contextlib.contextmanager
def started(**kwargs: Any) -> Iterator[Servers]:
    servers = Servers.start(**kwargs)
    try:
        yield servers
    finally:
        servers.close()
