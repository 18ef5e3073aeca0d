"""The AIS request handler: token service, data service with next-page processing, faults.

`AisService.handle` is the `HttpRequest -> HttpResponse | DROP_CONNECTION` function a `LoopbackServer`
serves. Sessions, paging states, statistics and the fault generator live here, under one lock; the
answers' shapes are in `render`, the admin API in `admin`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from jde_stripe_pipeline.sandboxes.ais.admin import admin_response
from jde_stripe_pipeline.sandboxes.ais.config import AisSandboxConfig
from jde_stripe_pipeline.sandboxes.ais.dataservice import DataServiceMixin
from jde_stripe_pipeline.sandboxes.ais.query import (
    DateFormat,
    QueryError,
)
from jde_stripe_pipeline.sandboxes.ais.render import (
    BadRequest,
    TokenGrant,
    default_config,
    error_response,
    invalid_token,
    json_response,
    token_body,
)
from jde_stripe_pipeline.sandboxes.ais.sessions import Session, Stats, new_token
from jde_stripe_pipeline.sandboxes.ais.store import Store, to_hhmmss, to_julian
from jde_stripe_pipeline.sandboxes.http_server import (
    DROP_CONNECTION,
    DropConnection,
    HttpRequest,
    HttpResponse,
)

_AIS_ROUTES = {
    "defaultconfig": ("GET",),
    "tokenrequest": ("POST",),
    "tokenrequest/logout": ("POST",),
    "tokenrequest/validate": ("POST",),
    "dataservice": ("POST",),
    "dataservice/next": ("GET", "POST"),
}


class AisService(DataServiceMixin):
    """Everything the fake AIS server knows and does; `handle` is its HTTP face."""

    def __init__(
        self,
        store: Store,
        config: AisSandboxConfig,
        describe: Callable[[], dict[str, Any]],
        reseed: Callable[[Mapping[str, Any]], None],
        jas_server: str = "http://jas.sandbox.invalid:8080",
    ) -> None:
        self._store = store
        self._config = config
        self._describe = describe
        self._reseed = reseed
        self._jas_server = jas_server
        self._lock = threading.RLock()
        self._sessions: dict[str, Session] = {}
        self._stats = Stats()
        self._faults = random.Random(config.fault_seed)
        self._next_state = 0

    # -- configuration and introspection ------------------------------------------------------------

    @property
    def config(self) -> AisSandboxConfig:
        return self._config

    @property
    def store(self) -> Store:
        return self._store

    def describe(self) -> dict[str, Any]:
        """The read-only facts of the seed (changed only by a reset)."""
        return self._describe()

    def reseed(self, options: Mapping[str, Any]) -> None:
        self._reseed(options)

    def update_config(self, changes: Mapping[str, Any]) -> AisSandboxConfig:
        with self._lock:
            updated = self._config.updated(changes)
            if "fault_seed" in changes:
                self._faults = random.Random(updated.fault_seed)
            self._config = updated
            return updated

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return self._stats.to_json()

    def expire_tokens(self) -> int:
        with self._lock:
            alive = [s for s in self._sessions.values() if s.alive]
            for session in alive:
                self._kill(session)
            return len(alive)

    def now(self) -> dt.datetime:
        """The sandbox clock: wall time in the JDE server's time zone."""
        return dt.datetime.now(ZoneInfo(self._config.timezone))

    def stamp(self) -> tuple[int, int]:
        now = self.now()
        return to_julian(now.date()), to_hhmmss(now)

    # -- HTTP ---------------------------------------------------------------------------------------

    def handle(self, request: HttpRequest) -> HttpResponse | DropConnection:
        path = request.path.rstrip("/") or "/"
        if path.startswith("/_sandbox/"):
            response: HttpResponse | DropConnection = admin_response(self, request, path)
        elif path.startswith("/jderest/"):
            response = self._ais(request, path)
        else:
            response = error_response(404, f"Not found: {request.path}")
        with self._lock:
            status = 0 if isinstance(response, DropConnection) else response.status
            self._stats.requests[(f"{request.method} {path}", status)] += 1
        return response

    def _ais(self, request: HttpRequest, path: str) -> HttpResponse | DropConnection:
        config = self._config
        if not config.allows(request.client_ip):
            return error_response(403, f"Forbidden: client address {request.client_ip} is not allowed")
        with self._lock:
            drop = config.drop_rate > 0 and self._faults.random() < config.drop_rate
            if drop:
                self._stats.dropped_connections += 1
        if drop:
            return DROP_CONNECTION
        if config.latency_ms:
            time.sleep(config.latency_ms / 1000)
        match = re.fullmatch(r"/jderest(/v2)?/(.+)", path)
        route = match[2] if match else ""
        if route not in _AIS_ROUTES or request.method not in _AIS_ROUTES[route]:
            return error_response(404, f"Not found: {request.method} {request.path}")
        version = "/v2" if match and match[1] else ""
        try:
            body = self._body(request)
            if route == "defaultconfig":
                return json_response(200, default_config(self._config, self._jas_server))
            if route == "tokenrequest":
                return self._token_request(request, body)
            if route == "tokenrequest/logout":
                return self._logout(request, body)
            if route == "tokenrequest/validate":
                return self._validate(request, body)
            if route == "dataservice":
                return self._data_service(request, body, version)
            return self._next_page(request, body, version)
        except BadRequest as error:
            return error_response(error.status, error.message)
        except QueryError as error:
            return error_response(400, str(error), "JDERestServiceException")

    @staticmethod
    def _body(request: HttpRequest) -> dict[str, Any]:
        """Query-string fields (a next-page href) overlaid by the JSON body's."""
        fields: dict[str, Any] = {k: v[-1] for k, v in request.query.items()}
        if request.method != "POST" or not request.body:
            return fields
        content_type = (request.header("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise BadRequest(
                415, f"Unsupported Media Type: Content-Type must be application/json, got {content_type!r}"
            )
        try:
            body = json.loads(request.body.decode("utf-8"), parse_float=Decimal)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise BadRequest(400, f"Invalid JSON input: {error}") from None
        if not isinstance(body, dict):
            raise BadRequest(400, "Invalid JSON input: expected an object")
        return {**fields, **body}

    # -- token service --------------------------------------------------------------------------------

    def _token_request(self, request: HttpRequest, body: Mapping[str, Any]) -> HttpResponse:
        """environment, role and deviceName may be omitted: the server's defaults apply."""
        config = self._config
        username, password = body.get("username"), body.get("password")
        environment = body.get("environment") or request.header("jde-AIS-Auth-Environment")
        role = body.get("role") or request.header("jde-AIS-Auth-Role") or "*ALL"
        device = body.get("deviceName") or request.header("jde-AIS-Auth-Device") or None
        authorization = request.header("Authorization") or ""
        if username is None and authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise BadRequest(
                    400, "Invalid Authorization header: not Basic base64 user:password"
                ) from None
            username, _, password = decoded.partition(":")
        if not isinstance(username, str) or not isinstance(password, str):
            raise BadRequest(400, "username and password are required (JSON body or Basic Authorization)")
        if device is not None and not isinstance(device, str):
            raise BadRequest(400, f"deviceName must be a string, got {device!r}")
        found = config.user(username)
        if (
            found is None
            or found[1].password != password
            or str(environment or config.environment).upper() != config.environment.upper()
        ):
            with self._lock:
                self._stats.failed_logins += 1
            return error_response(403, "Authorization Failure", "JDERestServiceException")
        name, user = found
        token = new_token()
        date_format = DateFormat(user.date_format)
        with self._lock:
            self._sessions[token] = Session(token, name, device, date_format, time.monotonic())
            self._stats.tokens_issued += 1
            if name in self._stats.users_with_tokens:
                self._stats.reauthentications += 1
            self._stats.users_with_tokens.add(name)
        login = TokenGrant(
            typed=username, name=name, user=user, token=token, role=role, date_format=date_format
        )
        return json_response(200, token_body(config, self._jas_server, login, self.now()))

    def _logout(self, request: HttpRequest, body: Mapping[str, Any]) -> HttpResponse:
        token = body.get("token") or request.header("jde-AIS-Auth")
        with self._lock:
            session = self._sessions.get(str(token))
            if session is None or not self._is_alive(session):
                return invalid_token()
            self._kill(session)
        return json_response(200, {"message": "Logout successful"})

    def _validate(self, request: HttpRequest, body: Mapping[str, Any]) -> HttpResponse:
        token = body.get("token") or request.header("jde-AIS-Auth")
        device = body.get("deviceName") or request.header("jde-AIS-Auth-Device")
        with self._lock:
            session = self._sessions.get(str(token))
            valid = (
                session is not None
                and self._is_alive(session)
                and (device in (None, session.device) or session.device is None)
            )
        return json_response(200, {"isValidSession": valid})

    def _is_alive(self, session: Session) -> bool:
        """Checks age and call budget; a dead session stays dead."""
        max_age = self._config.token_max_age_seconds
        if session.alive and max_age is not None and time.monotonic() - session.issued > max_age:
            self._kill(session)
        max_calls = self._config.token_max_calls
        if session.alive and max_calls is not None and session.calls >= max_calls:
            self._kill(session)
        return session.alive

    def _kill(self, session: Session) -> None:
        session.alive = False
        session.pages.clear()

    def _authenticate(self, request: HttpRequest, body: Mapping[str, Any], link: bool) -> Session | None:
        """The session of a data call, counted against the token's call budget; None = 444.

        The device name must match the one the token was issued to; only a next-page link (which
        carries no device name) may omit it. A token issued without a device name is bound to none.
        """
        token = body.get("token") or request.header("jde-AIS-Auth")
        device = body.get("deviceName") or request.header("jde-AIS-Auth-Device")
        with self._lock:
            session = self._sessions.get(str(token)) if token else None
            if session is None or not self._is_alive(session):
                return None
            bound = session.device is not None
            if bound and device != session.device and not (link and device is None):
                return None
            session.calls += 1
            return session

    def _injected_failure(self) -> HttpResponse | None:
        with self._lock:
            rate = self._config.fail_rate
            if rate > 0 and self._faults.random() < rate:
                self._stats.injected_failures += 1
                return error_response(500, "The server failed to process the request (injected fault)")
        return None
