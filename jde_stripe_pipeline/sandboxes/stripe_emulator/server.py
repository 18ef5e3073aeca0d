"""The HTTP shell around the endpoints: keys, rate limits, idempotency, faults, the admin API.

A request goes through the layers in Stripe's order: API key (401) → the account it acts on (the
key's, or with a Connect platform's key the `Stripe-Account` header's; 403 otherwise; each account holds
its own objects and idempotency keys) → limiters (429: global rate, the endpoint's or search's rate,
requests in flight; `limits.py`) → route (404) → idempotency (replay / 400 / 409) → parameter validation
(400, never saved) → the emulated delay (`latency.py`) → the endpoint itself, whose answer — success, a
4xx from the endpoint, or an injected 500 — is saved under the idempotency key.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import secrets
import string
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from ..http_server import DROP_CONNECTION, DropConnection, HttpRequest, HttpResponse, LoopbackServer
from . import errors, routes
from .admin import admin_response
from .common import expand_result
from .config import DEFAULT_ACCOUNT, LATENCY_NAMES, StripeEmulatorConfig, coerce_changes
from .endpoint import Context, Route
from .errors import ApiError
from .forms import decode_pairs, validate
from .latency import LatencyModel
from .limits import REASON_HEADER, Limiters
from .objects import request_id as new_request_id
from .store import KINDS, IdempotencyRecord, Store, Stores

API_VERSION = "2026-10-28.endive"
IDEMPOTENCY_KEY_MAX = 255


@dataclass
class _KeyState:
    expires_at: float | None = None


@dataclass
class RequestLogEntry:
    """One API request as the tests see it (`/_sandbox/requests`): times on the emulator's clock,
    `endpoint` is the operation (`POST /v1/invoices/{id}/add_lines`; None for an unknown URL),
    `latency_ms` the emulated delay, `limited_by` the limiter that answered 429."""

    method: str
    path: str
    idempotency_key: str | None
    status: int
    replayed: bool
    request_id: str
    fault: str | None = None
    at: float = field(default_factory=time.time)
    account: str | None = None
    endpoint: str | None = None
    received_at: float = 0.0
    answered_at: float = 0.0
    latency_ms: float = 0.0
    limited_by: str | None = None


class StripeEmulator:
    """A stateful Stripe `/v1` server for tests and the demo (see the package docstring for departures)."""

    def __init__(self, config: StripeEmulatorConfig | None = None, db_path: Path | str | None = None) -> None:
        self._config = config or StripeEmulatorConfig()
        self._lock = threading.RLock()
        self._stores = Stores(Path(db_path) if db_path is not None else None, legacy_account=DEFAULT_ACCOUNT)
        self._keys: dict[str, _KeyState] = {key: _KeyState() for key in self._config.api_keys}
        self._limiters = Limiters()
        self._latency = LatencyModel(self._config.latency_settings)
        self._faults = random.Random(self._config.fault_seed)
        self._log: list[RequestLogEntry] = []
        self._stats: Counter[str] = Counter()
        self._limited: Counter[str] = Counter()
        self.clock = time.time

    # --- the Python face ---------------------------------------------------------------------------

    @property
    def config(self) -> StripeEmulatorConfig:
        return self._config

    @property
    def api_key(self) -> str:
        """The first active key: what a client should use by default."""
        with self._lock:
            now = self.clock()
            for key, state in self._keys.items():
                if state.expires_at is None or state.expires_at > now:
                    return key
        return self._config.api_keys[0]

    def update_config(self, **changes: Any) -> StripeEmulatorConfig:
        """Change knobs at run time; `profile=` / `latency=` pick presets (see `StripeEmulatorConfig`)."""
        coerced = coerce_changes(changes)
        with self._lock:
            self._config = replace(self._config, **coerced)
            if "api_keys" in coerced:
                self._keys = {key: self._keys.get(key, _KeyState()) for key in coerced["api_keys"]}
            if "fault_seed" in coerced:
                self._faults = random.Random(coerced["fault_seed"])
            if LATENCY_NAMES & set(coerced):
                self._latency = LatencyModel(self._config.latency_settings)
            return self._config

    def roll_key(self, old_key: str, expires_in_seconds: float = 0.0) -> str:
        """Make a new key; the old one keeps working for `expires_in_seconds` (0: revoked now), then 401s."""
        with self._lock:
            if old_key not in self._keys:
                raise KeyError("unknown API key " + errors.mask_key(old_key))
            alphabet = string.ascii_letters + string.digits
            new_key = "sk_test_emulator_" + "".join(secrets.choice(alphabet) for _ in range(24))
            self._keys[old_key] = _KeyState(expires_at=self.clock() + max(expires_in_seconds, 0.0))
            self._keys[new_key] = _KeyState()
            accounts = dict(self._config.key_accounts)
            if old_key in accounts:  # a rolled key stays in its account (and its rate budget)
                accounts[new_key] = accounts[old_key]
            self._config = replace(self._config, api_keys=(*self._keys,), key_accounts=accounts)
            return new_key

    def requests_log(
        self,
        method: str | None = None,
        path_prefix: str | None = None,
        endpoint: str | None = None,
        account: str | None = None,
    ) -> list[dict[str, Any]]:
        """Answered API requests in the order they were answered (see `RequestLogEntry`)."""
        with self._lock:
            return [
                asdict(entry)
                for entry in self._log
                if (method is None or entry.method == method.upper())
                and (path_prefix is None or entry.path.startswith(path_prefix))
                and (endpoint is None or entry.endpoint == endpoint)
                and (account is None or entry.account == account)
            ]

    def clear_requests_log(self) -> None:
        with self._lock:
            self._log.clear()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": dict(self._stats),
                "objects": {kind: sum(len(store.objects[kind]) for store in self._stores) for kind in KINDS},
                "idempotency_keys": sum(len(store.idempotency) for store in self._stores),
                "accounts": {store.account: _counts(store) for store in self._stores},
                "limited": dict(self._limited),
                "in_flight": self._limiters.in_flight(),
                "peak_in_flight": self._limiters.peak_in_flight(),
            }

    def reset(self) -> None:
        """Forget every object, idempotency key, log entry and counter; keys and config stay."""
        with self._lock:
            self._stores.clear()
            self._log.clear()
            self._stats.clear()
            self._limited.clear()
            self._limiters.clear()
            self._latency = LatencyModel(self._config.latency_settings)

    def objects(self, kind: str, account: str | None = None) -> list[dict[str, Any]]:
        """Direct read of the stored objects of one kind (`customer`, `invoice`, `invoiceitem`), of one
        account (`acct_…`) or, with None, of every account."""
        with self._lock:
            stores = [self._stores.of(account)] if account is not None else list(self._stores)
            return [dict(obj) for store in stores for obj in store.objects[kind].values()]

    @contextlib.contextmanager
    def serve(self, port: int = 0, host: str = "127.0.0.1") -> Iterator[LoopbackServer]:
        server = LoopbackServer(self.handle, host=host, port=port, name="stripe-emulator")
        with server:
            yield server

    def close(self) -> None:
        self._stores.close()

    # --- request handling --------------------------------------------------------------------------

    def handle(self, request: HttpRequest) -> HttpResponse | DropConnection:
        if request.path.startswith("/_sandbox/"):
            return admin_response(self, request)
        request_id = new_request_id()
        idempotency_key = request.header("idempotency-key") if request.method == "POST" else None
        entry = RequestLogEntry(request.method, request.path, idempotency_key, 0, False, request_id)
        entry.received_at = self.clock()
        try:
            result = self._handle_api(request, request_id, idempotency_key, entry)
        except ApiError as error:
            result = self._error_response(error, request_id)
        with self._lock:
            entry.answered_at = self.clock()
            entry.status = 0 if isinstance(result, DropConnection) else result.status
            self._log.append(entry)
            self._stats[str(entry.status)] += 1
            if entry.replayed:
                self._stats["replayed"] += 1
            if entry.fault:
                self._stats["fault_" + entry.fault] += 1
            if entry.limited_by:
                self._limited[entry.limited_by] += 1
        return result

    def _error_response(self, error: ApiError, request_id: str) -> HttpResponse:
        return HttpResponse.of_json(
            error.status, error.body(request_id), self._headers(request_id, error.headers)
        )

    def _headers(self, request_id: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        return {"Request-Id": request_id, "Stripe-Version": API_VERSION, **(extra or {})}

    def _authenticate(self, request: HttpRequest) -> str:
        header = request.header("authorization") or ""
        scheme, _, credential = header.partition(" ")
        if scheme.lower() == "basic":
            import base64

            with contextlib.suppress(ValueError):
                credential = base64.b64decode(credential).decode().split(":", 1)[0]
        elif scheme.lower() != "bearer":
            credential = ""
        key = credential.strip()
        if not key:
            raise errors.missing_api_key()
        with self._lock:
            state = self._keys.get(key)
            if state is None:
                raise errors.invalid_api_key(key)
            if state.expires_at is not None and state.expires_at <= self.clock():
                raise errors.expired_api_key(key)
        return key

    def _parse(self, request: HttpRequest) -> dict[str, Any]:
        if request.method == "POST":
            body = request.body.decode("utf-8")
            pairs = parse_qsl(body, keep_blank_values=True)
            query_pairs = [(k, v) for k, values in request.query.items() for v in values]
            return decode_pairs([*query_pairs, *pairs])
        return decode_pairs([(k, v) for k, values in request.query.items() for v in values])

    def _handle_api(
        self, request: HttpRequest, request_id: str, idempotency_key: str | None, entry: RequestLogEntry
    ) -> HttpResponse | DropConnection:
        key = self._authenticate(request)
        found = routes.match_route(request.method, request.path)
        with self._lock:
            config = self._config
            entry.account = account = config.acting_account(key, request.header("stripe-account"))
            entry.endpoint = endpoint = None if found is None else f"{found[0].method} {found[0].template}"
            search = found is not None and found[0].search
            entry.limited_by = self._limiters.admit(config.limits, account, endpoint, search, self.clock())
        if entry.limited_by is not None:
            raise errors.rate_limited(REASON_HEADER[entry.limited_by])
        try:
            with self._lock:
                store = self._stores.of(account)
            return self._admitted(request, request_id, idempotency_key, entry, config, found, store)
        finally:
            with self._lock:
                self._limiters.release(account)

    def _admitted(
        self,
        request: HttpRequest,
        request_id: str,
        idempotency_key: str | None,
        entry: RequestLogEntry,
        config: StripeEmulatorConfig,
        found: tuple[Route, tuple[str, ...]] | None,
        store: Store,
    ) -> HttpResponse | DropConnection:
        with self._lock:
            if config.unavailable_rate and self._faults.random() < config.unavailable_rate:
                entry.fault = "unavailable"
                raise ApiError(503, "Stripe is temporarily unavailable. Please try again.", type="api_error")
        if found is None:
            raise errors.unrecognized_url(request.method, request.path)
        route, ids = found
        raw = self._parse(request)
        if idempotency_key is not None and len(idempotency_key) > IDEMPOTENCY_KEY_MAX:
            raise errors.idempotency_key_too_long()
        fingerprint = hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()
        if idempotency_key is not None:
            replay = self._claim_key(store, idempotency_key, request, fingerprint, request_id)
            if replay is not None:
                entry.replayed = True
                return replay
        try:
            params = validate(raw, route.schema, route.required)
        except ApiError:
            if idempotency_key is not None:
                self._release_key(
                    store, idempotency_key
                )  # validation runs before the endpoint: nothing saved
            raise
        with self._lock:
            entry.latency_ms = self._latency.sample_ms(entry.endpoint)
        if entry.latency_ms > 0:
            time.sleep(entry.latency_ms / 1000.0)
        return self._execute(store, route, ids, params, request_id, idempotency_key, entry)

    def _claim_key(
        self, store: Store, key: str, request: HttpRequest, fingerprint: str, request_id: str
    ) -> HttpResponse | None:
        with self._lock:
            now = self.clock()
            record = store.idempotency.get(key)
            if record is not None and now - record.created_at >= self._config.idempotency_ttl_seconds:
                store.drop_idempotency(key)
                record = None
            if record is None:
                store.put_idempotency(
                    IdempotencyRecord(key, request.method, request.path, fingerprint, created_at=now)
                )
                return None
            if record.in_flight:
                raise errors.idempotency_in_flight(key)
            if record.path != request.path or record.method != request.method:
                raise errors.idempotency_endpoint_mismatch(key, request.path, record.path)
            if record.fingerprint != fingerprint:
                raise errors.idempotency_params_mismatch(key)
            headers = {
                **record.headers,
                **self._headers(request_id),
                "Idempotent-Replayed": "true",
                "Original-Request": record.request_id,
            }
            return HttpResponse(record.status, record.body.encode("utf-8"), headers)

    def _release_key(self, store: Store, key: str) -> None:
        with self._lock:
            record = store.idempotency.get(key)
            if record is not None and record.in_flight:
                store.drop_idempotency(key)
            store.flush()

    def _execute(
        self,
        store: Store,
        route: Route,
        ids: tuple[str, ...],
        params: dict[str, Any],
        request_id: str,
        idempotency_key: str | None,
        entry: RequestLogEntry,
    ) -> HttpResponse | DropConnection:
        with self._lock:
            config = self._config
            ctx = Context(store, self.clock(), config.search_lag_seconds)
            fault = None
            roll = self._faults.random()
            if roll < config.fail_rate:
                fault = "fail"
            elif roll < config.fail_rate + config.commit_then_fail_rate:
                fault = "commit_then_fail"
            if fault == "fail":
                injected = errors.api_error()
                status, body, extra = injected.status, injected.body(request_id), injected.headers
            else:
                try:
                    status, body = route.handler(ctx, ids, params)
                    body = expand_result(ctx, body, params)
                    extra = {}
                except ApiError as error:
                    status, body, extra = error.status, error.body(request_id), error.headers
            text = json.dumps(body, default=str)
            headers = {"Content-Type": "application/json", **self._headers(request_id, extra)}
            if idempotency_key is not None:
                record = store.idempotency[idempotency_key]
                record.in_flight = False
                record.status, record.body, record.request_id = status, text, request_id
                record.headers = {k: v for k, v in extra.items()}
                store.put_idempotency(record)
            store.flush()
            if fault is not None:
                entry.fault = fault
            if fault == "commit_then_fail":
                if self._faults.random() < 0.5:
                    return DROP_CONNECTION
                lost = errors.api_error()
                return HttpResponse.of_json(500, lost.body(request_id), self._headers(request_id))
        return HttpResponse(status, text.encode("utf-8"), headers)


def _counts(store: Store) -> dict[str, int]:
    return {kind: len(objects) for kind, objects in store.objects.items()}
