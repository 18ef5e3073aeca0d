"""A sync run configured the way an operator configures it, with secrets distinctive enough to hunt for.

The run (`run_pipeline`) is the imperative shell the Dagster assets wrap: credentials come from
`jde_stripe_pipeline.credentials` (environment, else the encrypted store), the Stripe client from
`StripeResource` (key re-read through the resolver after a 401), the ledger from `Ledger.open()`
(SQLite under `$DAGSTER_HOME`). Both sandboxes are real loopback servers; two small real servers sit in
front of them to record what crosses the wire (`AisRecorder` forwards to the AIS sandbox with
`requests`; `StripeFront` serves the emulator's own handler and notes which key each request carried).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

from jde_stripe_pipeline import runtime
from jde_stripe_pipeline.credentials import CredentialSource, resolve_jde_credentials
from jde_stripe_pipeline.credentials.master_key import load_master_key
from jde_stripe_pipeline.credentials.models import (
    StoredCredentials,
    build_jde_credentials,
    build_stripe_credentials,
)
from jde_stripe_pipeline.credentials.store import store_path, write_store
from jde_stripe_pipeline.jde.client import AisSession
from jde_stripe_pipeline.jde.settings import AisSettings
from jde_stripe_pipeline.ledger import Ledger
from jde_stripe_pipeline.ledger.database import STATE_FILE_NAME
from jde_stripe_pipeline.sandboxes.ais import AisSandbox, AisSandboxConfig
from jde_stripe_pipeline.sandboxes.ais.config import AisUser
from jde_stripe_pipeline.sandboxes.http_server import HttpRequest, HttpResponse, LoopbackServer
from jde_stripe_pipeline.sandboxes.stripe_emulator import (
    DEFAULT_API_KEY,
    StripeEmulator,
    StripeEmulatorConfig,
)
from jde_stripe_pipeline.settings import Settings
from jde_stripe_pipeline.sync import SyncReport
from jde_stripe_pipeline_tests.credentials.conftest import Home, isolate_home
from jde_stripe_pipeline_tests.jde.support import FAST_RETRY
from jde_stripe_pipeline_tests.security.secrets_hunt import (
    JDE_ENVIRONMENT,
    JDE_PASSWORD,
    JDE_USER,
    MASTER_KEY,
    STRIPE_KEY,
)
from jde_stripe_pipeline_tests.sync.conftest import (
    AS_OF,
    World,
    assert_stripe_matches_jde,
    sync_engine,
    sync_extracted,
)

FAST_STRIPE = {
    "JDE_STRIPE_RATE_PER_SECOND": "1000",
    "JDE_STRIPE_ENDPOINT_RATE_PER_SECOND": "1000",
    "JDE_STRIPE_BURST": "50",
    "JDE_STRIPE_MAX_RETRIES": "8",
    "JDE_STRIPE_BACKOFF_BASE_SECONDS": "0.01",
    "JDE_STRIPE_BACKOFF_MAX_SECONDS": "0.1",
    "JDE_STRIPE_TIMEOUT_SECONDS": "10",
}
CredentialMode = str  # "environment" | "store"


# ------------------------------------------------------------------------------- recording servers


@dataclass(frozen=True)
class RecordedExchange:
    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes
    status: int
    response_body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def response_json(self) -> Any:
        return json.loads(self.response_body) if self.response_body else None


_HOP_BY_HOP = {"host", "content-length", "connection", "transfer-encoding", "content-encoding", "keep-alive"}


class AisRecorder:
    """A forwarding proxy in front of the AIS sandbox: every request and answer recorded as sent."""

    def __init__(self, target: str):
        self.target = target
        self.exchanges: list[RecordedExchange] = []
        self._lock = threading.Lock()
        self._http = requests.Session()

    def handle(self, request: HttpRequest) -> HttpResponse:
        query = "&".join(f"{quote(k)}={quote(v)}" for k, values in request.query.items() for v in values)
        url = self.target + request.path + (f"?{query}" if query else "")
        headers = {k: v for k, v in request.headers.items() if k not in _HOP_BY_HOP}
        answer = self._http.request(request.method, url, headers=headers, data=request.body, timeout=30)
        with self._lock:
            self.exchanges.append(
                RecordedExchange(
                    request.method,
                    request.path,
                    dict(request.headers),
                    request.body,
                    answer.status_code,
                    answer.content,
                )
            )
        reply_headers = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
        return HttpResponse(answer.status_code, answer.content, reply_headers)

    def close(self) -> None:
        self._http.close()


@dataclass(frozen=True)
class StripeCall:
    key: str
    method: str
    path: str
    status: int


class StripeFront:
    """Serves the emulator's own handler, noting the key each request carried and the answer's status.

    `pause()` holds requests back while a test swaps keys, so "roll in the emulator" and "put the new key
    where the pipeline reads it" happen as one step for the pipeline: what an operator's deploy does.
    """

    def __init__(self, emulator: StripeEmulator):
        self.emulator = emulator
        self.calls: list[StripeCall] = []
        self._gate = threading.Lock()

    def handle(self, request: HttpRequest) -> Any:
        with self._gate:
            response = self.emulator.handle(request)
        key = (request.header("authorization") or "").partition(" ")[2]
        status = getattr(response, "status", 0)
        self.calls.append(StripeCall(key, request.method, request.path, status))
        return response

    @contextlib.contextmanager
    def pause(self) -> Iterator[None]:
        with self._gate:
            yield


# ------------------------------------------------------------------------------------- the setup


@dataclass
class Setup:
    """Both sandboxes (behind their recorders), the tmp home, and how the credentials are configured."""

    sandbox: AisSandbox
    emulator: StripeEmulator
    ais: AisRecorder
    ais_url: str
    stripe: StripeFront
    stripe_url: str
    home: Path
    dagster_home: Path
    """`$DAGSTER_HOME` as `isolate_home` set it: where the pipeline keeps its ledger and store."""
    monkeypatch: pytest.MonkeyPatch
    runs: int = 0
    reports: list[tuple[SyncReport, SyncReport]] = field(default_factory=list)

    @property
    def ledger_path(self) -> Path:
        return self.dagster_home / STATE_FILE_NAME

    def configure(
        self, mode: CredentialMode, *, stripe_key: str = STRIPE_KEY, password: str = JDE_PASSWORD
    ) -> None:
        """Put the credentials where an operator would: the environment, or the encrypted store."""
        if mode == "environment":
            for name, value in {
                "JDE_AIS_URL": self.ais_url,
                "JDE_AIS_USERNAME": JDE_USER,
                "JDE_AIS_PASSWORD": password,
                "JDE_AIS_ENVIRONMENT": JDE_ENVIRONMENT,
                "STRIPE_API_KEY": stripe_key,
                "STRIPE_API_BASE": self.stripe_url,
            }.items():
                self.monkeypatch.setenv(name, value)
        elif mode == "store":
            self.monkeypatch.setenv("JDE_STRIPE_MASTER_KEY", MASTER_KEY)
            jde = build_jde_credentials(
                {
                    "url": self.ais_url,
                    "username": JDE_USER,
                    "password": password,
                    "environment": JDE_ENVIRONMENT,
                },
                source="test",
            )
            self.store_stripe_key(stripe_key, jde=jde)
        else:
            raise ValueError(mode)

    def store_stripe_key(self, key: str, *, jde: Any = None) -> None:
        """Save a Stripe key in the store (keeping the JDE login), as `jde-stripe credentials set stripe`."""
        import os

        from jde_stripe_pipeline.credentials.store import read_store

        path = store_path(os.environ)
        master = load_master_key(os.environ)
        current = read_store(path, master)
        stripe = build_stripe_credentials({"api_key": key, "api_base": self.stripe_url}, source="test")
        write_store(path, StoredCredentials(jde=jde or current.jde, stripe=stripe), master)

    def run(
        self, *, progress: Callable[[int, int | None], None] | None = None
    ) -> tuple[SyncReport, SyncReport]:
        self.runs += 1
        reports = run_pipeline(run_id=f"hygiene-{self.runs}", progress=progress)
        self.reports.append(reports)
        return reports

    def world(self) -> World:
        """The sync tests' view of this setup, for `assert_stripe_matches_jde` (reads with the
        emulator's default key, added for the check)."""
        keys = self.emulator.config.api_keys
        if DEFAULT_API_KEY not in keys:
            self.emulator.update_config(api_keys=(*keys, DEFAULT_API_KEY))
        return World(self.sandbox, self.ais_url, self.emulator, self.stripe_url, self.home, self.ledger_path)

    def assert_stripe_matches_jde(self) -> None:
        world = self.world()
        try:
            assert_stripe_matches_jde(world)
        finally:
            world.close()


def run_pipeline(
    *, run_id: str, progress: Callable[[int, int | None], None] | None = None, workers: int = 4
) -> tuple[SyncReport, SyncReport]:
    """One sync run as the Dagster assets do it: resolve credentials, extract, sync customers, invoices."""
    jde = resolve_jde_credentials()
    settings = AisSettings.from_values(**jde.settings_values(), timezone="America/Chicago")
    with (
        runtime.stripe_sink(Settings.from_env(os.environ).stripe, CredentialSource()) as sink,
        Ledger.open() as ledger,
        AisSession(settings, retry=FAST_RETRY, page_size=50) as session,
    ):
        engine = sync_engine(sink, ledger, run_id, workers=workers, progress=progress)
        return sync_extracted(engine, session)


def isolate_environment(monkeypatch: pytest.MonkeyPatch, home: Path) -> Home:
    """No credential of the machine running the tests leaks in; everything lives under `home`."""
    paths = isolate_home(monkeypatch, home)
    for name, value in FAST_STRIPE.items():
        monkeypatch.setenv(name, value)
    paths.dagster_home.mkdir(parents=True, exist_ok=True)
    return paths


@contextlib.contextmanager
def make_setup(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    customers: int = 12,
    invoices: int = 20,
    ais_config: AisSandboxConfig | None = None,
) -> Iterator[Setup]:
    paths = isolate_environment(monkeypatch, tmp_path)
    config = ais_config or AisSandboxConfig()
    config = config.updated({"users": {JDE_USER: AisUser(password=JDE_PASSWORD)}})
    sandbox = AisSandbox(seed=11, customers=customers, invoices=invoices, as_of=AS_OF, config=config)
    emulator = StripeEmulator(
        StripeEmulatorConfig(api_keys=(STRIPE_KEY,), rate_limit_per_second=1000.0, search_lag_seconds=0.0)
    )
    front = StripeFront(emulator)
    try:
        with sandbox.serve() as ais_server:
            recorder = AisRecorder(ais_server.url)
            with (
                LoopbackServer(recorder.handle, name="ais-recorder") as ais_front,
                LoopbackServer(front.handle, name="stripe-front") as stripe_server,
            ):
                yield Setup(
                    sandbox,
                    emulator,
                    recorder,
                    ais_front.url,
                    front,
                    stripe_server.url,
                    tmp_path,
                    paths.dagster_home,
                    monkeypatch,
                )
            recorder.close()
    finally:
        sandbox.close()
        emulator.close()


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    with make_setup(tmp_path, monkeypatch) as built:
        yield built


def failures(reports: Iterable[SyncReport]) -> list[str]:
    """Records that failed or ended in conflict (quarantined ones are the seed's deliberate bad data)."""
    return [
        f"{r.object_type} {r.record_key}: {r.outcome}: {r.reason}"
        for report in reports
        for r in report.results
        if r.outcome in ("failed", "conflict")
    ]
