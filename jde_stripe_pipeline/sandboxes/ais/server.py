"""The AIS request handler: token service, data service with next-page processing, faults, admin API.

`AisService.handle` is the `HttpRequest -> HttpResponse | DROP_CONNECTION` function a `LoopbackServer`
serves. Sessions, paging states, statistics and the fault generator live here, under one lock.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import random
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from jde_stripe_pipeline.sandboxes.ais.aggregate import aggregate_output, plan_aggregate
from jde_stripe_pipeline.sandboxes.ais.config import AisSandboxConfig, ConfigError
from jde_stripe_pipeline.sandboxes.ais.query import (
    DateFormat,
    QueryError,
    SelectPlan,
    plan_select,
    resolve_table,
)
from jde_stripe_pipeline.sandboxes.ais.render import (
    GRID_ID,
    OUTPUT_TYPES,
    default_config,
    envelope,
    error_response,
    grid_data,
    invalid_token,
    json_response,
    result_set_expired,
)
from jde_stripe_pipeline.sandboxes.ais.store import TABLES, Store, StoreError, Table, to_hhmmss, to_julian
from jde_stripe_pipeline.sandboxes.http_server import (
    DROP_CONNECTION,
    HttpRequest,
    HttpResponse,
    _DropConnection,
)


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
class _Stats:
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


def _new_token() -> str:
    """Standard base64 as real AIS tokens, always with `+`, `/` and `=`, so every client meets them."""
    while True:
        token = "044" + base64.b64encode(secrets.token_bytes(49)).decode("ascii")
        if "+" in token and "/" in token:
            return token


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


_AIS_ROUTES = {
    "defaultconfig": ("GET",),
    "tokenrequest": ("POST",),
    "tokenrequest/logout": ("POST",),
    "tokenrequest/validate": ("POST",),
    "dataservice": ("POST",),
    "dataservice/next": ("GET", "POST"),
}


class AisService:
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
        self._stats = _Stats()
        self._faults = random.Random(config.fault_seed)
        self._next_state = 0

    # -- configuration and introspection ------------------------------------------------------------

    @property
    def config(self) -> AisSandboxConfig:
        return self._config

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

    def handle(self, request: HttpRequest) -> HttpResponse | _DropConnection:
        path = request.path.rstrip("/") or "/"
        if path.startswith("/_sandbox/"):
            response: HttpResponse | _DropConnection = self._admin(request, path)
        elif path.startswith("/jderest/"):
            response = self._ais(request, path)
        else:
            response = error_response(404, f"Not found: {request.path}")
        with self._lock:
            status = 0 if isinstance(response, _DropConnection) else response.status
            self._stats.requests[(f"{request.method} {path}", status)] += 1
        return response

    def _ais(self, request: HttpRequest, path: str) -> HttpResponse | _DropConnection:
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
        except _BadRequest as error:
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
            raise _BadRequest(
                415, f"Unsupported Media Type: Content-Type must be application/json, got {content_type!r}"
            )
        try:
            body = json.loads(request.body.decode("utf-8"), parse_float=Decimal)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise _BadRequest(400, f"Invalid JSON input: {error}") from None
        if not isinstance(body, dict):
            raise _BadRequest(400, "Invalid JSON input: expected an object")
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
                raise _BadRequest(
                    400, "Invalid Authorization header: not Basic base64 user:password"
                ) from None
            username, _, password = decoded.partition(":")
        if not isinstance(username, str) or not isinstance(password, str):
            raise _BadRequest(400, "username and password are required (JSON body or Basic Authorization)")
        if device is not None and not isinstance(device, str):
            raise _BadRequest(400, f"deviceName must be a string, got {device!r}")
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
        token = _new_token()
        date_format = DateFormat(user.date_format)
        with self._lock:
            self._sessions[token] = Session(token, name, device, date_format, time.monotonic())
            self._stats.tokens_issued += 1
            if name in self._stats.users_with_tokens:
                self._stats.reauthentications += 1
            self._stats.users_with_tokens.add(name)
        offset = self.now().strftime("%z")
        return json_response(
            200,
            {
                "username": username,
                "environment": config.environment,
                "role": role,
                "jasserver": self._jas_server,
                "userInfo": {
                    "token": token,
                    "langPref": "  ",
                    "locale": "en",
                    "dateFormat": date_format.jde_code,
                    "dateSeperator": date_format.separator,
                    "simpleDateFormat": date_format.pattern,
                    "decimalFormat": ".",
                    "addressNumber": user.address_number,
                    "alphaName": user.alpha_name,
                    "appsRelease": config.apps_release,
                    "country": user.country or " ",
                    "username": name,
                    "timeZoneOffset": f"UTC{offset[:3]}:{offset[3:]}",
                },
                "userAuthorized": False,
                "version": None,
                "aisSessionCookie": secrets.token_urlsafe(24),
            },
        )

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

    # -- data service ---------------------------------------------------------------------------------

    def _data_service(self, request: HttpRequest, body: Mapping[str, Any], version: str) -> HttpResponse:
        session = self._authenticate(request, body, link=False)
        if session is None:
            return invalid_token()
        failure = self._injected_failure()
        if failure is not None:
            return failure
        service_type = body.get("dataServiceType")
        if service_type not in ("BROWSE", "COUNT", "AGGREGATION"):
            raise QueryError(f"dataServiceType must be BROWSE, COUNT or AGGREGATION, got {service_type!r}")
        output_type = body.get("outputType") or "GRID_DATA"
        if output_type not in OUTPUT_TYPES:
            raise QueryError(f"outputType must be one of {', '.join(OUTPUT_TYPES)}, got {output_type!r}")
        table = resolve_table(body.get("targetName"), body.get("targetType"))
        if service_type == "AGGREGATION":
            return self._aggregation(body, table, session)
        plan = plan_select(body, table, session.date_format, self._config.default_max_page_size)
        if service_type == "COUNT":
            count = self._store.query(f'SELECT COUNT(*) FROM "{table.name}" WHERE {plan.where}', plan.params)[
                0
            ][0]
            return json_response(200, envelope(table, {"totalCount": int(count)}, [], self._stack()))
        sql = f'SELECT rowid FROM "{table.name}" WHERE {plan.where} ORDER BY {plan.order}'
        size = plan.max_page_size
        if not plan.next_page and size is not None:
            rowids = [r[0] for r in self._store.query(sql + " LIMIT ?", (*plan.params, size + 1))]
            return self._page(plan, rowids[:size], len(rowids) > size, None, output_type, session)
        rowids = [r[0] for r in self._store.query(sql, plan.params)]
        if size is None or len(rowids) <= size:
            return self._page(plan, rowids, False, None, output_type, session)
        with self._lock:
            self._next_state += 1
            state = PageState(
                self._next_state, secrets.token_hex(16), plan, rowids, size, time.monotonic(), output_type
            )
            session.pages[state.state_id] = state
        link = self._next_link(request, session, state, version)
        return self._page(plan, rowids[:size], True, link, output_type, session, state)

    def _aggregation(self, body: Mapping[str, Any], table: Table, session: Session) -> HttpResponse:
        """`ds_<TABLE>.output[]`; the whole answer in one response (no next page for aggregations)."""
        aggregate = plan_aggregate(body.get("aggregation"), table)
        plan = plan_select({**body, "aggregation": None}, table, session.date_format, 1)
        names = ", ".join(f'"{c.alias}"' for c in aggregate.columns)
        rows = self._store.query(f'SELECT {names} FROM "{table.name}" WHERE {plan.where}', plan.params)
        stack_id, state_id, rid = self._stack()
        return json_response(
            200,
            {
                f"ds_{table.name}": {"output": aggregate_output(aggregate, rows)},
                "stackId": stack_id,
                "stateId": state_id,
                "rid": rid,
                "timeStamp": dt.datetime.now().strftime("%Y-%m-%d:%H.%M.%S"),
                "sysErrors": [],
            },
        )

    def _stack(self) -> tuple[int, int, str]:
        """stackId/stateId/rid of an answer that keeps no next-page state."""
        with self._lock:
            self._next_state += 1
            return 1, self._next_state, secrets.token_hex(16)

    def _next_page(self, request: HttpRequest, body: Mapping[str, Any], version: str) -> HttpResponse:
        session = self._authenticate(request, body, link=True)
        if session is None:
            return invalid_token()
        failure = self._injected_failure()
        if failure is not None:
            return failure
        try:
            state_id = int(str(body.get("stateId")))
        except ValueError:
            raise QueryError(f"stateId must be a number, got {body.get('stateId')!r}") from None
        with self._lock:
            state = session.pages.get(state_id)
            timeout = self._config.page_state_max_age_seconds
            if state is not None and time.monotonic() - state.created > timeout:
                del session.pages[state_id]
                state = None
            if state is None or state.rid != body.get("rid"):
                # Expired, finished or never there: the server cannot tell them apart any more.
                return result_set_expired(state_id, timeout)
            size = state.plan.max_page_size or len(state.rowids)
            start, state.position = state.position, state.position + size
            done = state.position >= len(state.rowids)
            if done:
                del session.pages[state_id]
        rowids = state.rowids[start : start + size]
        link = None if done else self._next_link(request, session, state, version)
        return self._page(state.plan, rowids, not done, link, state.output_type, session, state)

    def _next_link(self, request: HttpRequest, session: Session, state: PageState, version: str) -> str:
        host = request.header("Host") or "127.0.0.1"
        control_ids = "|".join(f"{state.plan.table.name}.{c.alias}" for c in state.plan.columns)
        query = urlencode(
            {
                "stackId": 1,
                "stateId": state.state_id,
                "rid": state.rid,
                "fullGridId": GRID_ID,
                "formOID": state.plan.table.name,
                "token": session.token,
                "outputType": state.output_type,
                "returnControlIDs": control_ids,
            },
            quote_via=quote,
            safe="|.",
        )
        return f"http://{host}/jderest{version}/dataservice/next?{query}"

    def _page(
        self,
        plan: SelectPlan,
        rowids: list[int],
        more: bool,
        link: str | None,
        output_type: str,
        session: Session,
        state: PageState | None = None,
    ) -> HttpResponse:
        table = plan.table
        rows: list[tuple[Any, ...]] = []
        if rowids:
            names = ", ".join(f'"{c.alias}"' for c in plan.columns)
            found = self._store.query(
                f'SELECT rowid, {names} FROM "{table.name}" WHERE rowid IN (SELECT value FROM json_each(?))',
                (json.dumps(rowids),),
            )
            by_rowid = {row[0]: row[1:] for row in found}
            rows = [by_rowid[rowid] for rowid in rowids if rowid in by_rowid]  # deleted since: skipped
        data = grid_data(table, plan.columns, rows, more, output_type, session.date_format)
        links = [{"rel": "next", "href": link}] if link else []
        stack = (1, state.state_id, state.rid) if state is not None else self._stack()
        return json_response(200, envelope(table, data, links, stack))

    # -- admin API (no token, no allowlist) -----------------------------------------------------------

    def _admin(self, request: HttpRequest, path: str) -> HttpResponse:
        try:
            return self._admin_route(request, path)
        except _BadRequest as error:
            return error_response(error.status, error.message)
        except (ConfigError, StoreError, QueryError) as error:
            return error_response(400, str(error))

    def _admin_route(self, request: HttpRequest, path: str) -> HttpResponse:
        method = request.method
        if path == "/_sandbox/config" and method == "GET":
            return json_response(200, {**self._config.to_json(), **self._describe()})
        if path == "/_sandbox/config" and method == "POST":
            changes = self._admin_body(request)
            if not isinstance(changes, dict):
                raise _BadRequest(400, "config changes must be a JSON object")
            readonly = sorted(set(changes) & set(self._describe()))
            if readonly:
                raise _BadRequest(
                    400, f"read-only setting(s): {', '.join(readonly)} (use POST /_sandbox/reset)"
                )
            updated = self.update_config(changes)
            return json_response(200, {**updated.to_json(), **self._describe()})
        if path == "/_sandbox/stats" and method == "GET":
            return json_response(200, self.stats())
        if path == "/_sandbox/reset" and method == "POST":
            options = self._admin_body(request) or {}
            if not isinstance(options, dict):
                raise _BadRequest(400, "reset options must be a JSON object")
            self._reseed(options)
            return json_response(200, self._describe())
        if path == "/_sandbox/tokens/expire" and method == "POST":
            return json_response(200, {"expired": self.expire_tokens()})
        match = re.fullmatch(r"/_sandbox/tables/([^/]+)/rows", path)
        if match:
            table = TABLES.get(match[1].upper())
            if table is None:
                raise _BadRequest(404, f"unknown table {match[1]!r} (the sandbox serves {', '.join(TABLES)})")
            return self._admin_rows(request, table)
        raise _BadRequest(404, f"Not found: {method} {request.path}")

    @staticmethod
    def _admin_body(request: HttpRequest) -> Any:
        if not request.body:
            return None
        try:
            return json.loads(request.body.decode("utf-8"), parse_float=Decimal)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise _BadRequest(400, f"Invalid JSON input: {error}") from None

    def _admin_rows(self, request: HttpRequest, table: Table) -> HttpResponse:
        if request.method == "GET":
            try:
                limit = int(request.query["limit"][-1]) if "limit" in request.query else None
                offset = int(request.query["offset"][-1]) if "offset" in request.query else 0
            except ValueError:
                raise _BadRequest(400, "limit and offset must be integers") from None
            return json_response(200, {"table": table.name, "rows": self._store.rows(table, limit, offset)})
        body = self._admin_body(request)
        if request.method == "POST":
            rows = body if isinstance(body, list) else [body]
            if not rows or not all(isinstance(r, dict) for r in rows):
                raise _BadRequest(400, "body must be a row object or a list of row objects keyed by alias")
            inserted = updated = 0
            stored = []
            for index, row in enumerate(rows):
                try:
                    was_inserted, result = self._store.upsert(table, row, self.stamp())
                except StoreError as error:
                    raise _BadRequest(400, f"row {index}: {error}") from None
                inserted += was_inserted
                updated += not was_inserted
                stored.append(result)
            return json_response(200, {"inserted": inserted, "updated": updated, "rows": stored})
        if request.method == "DELETE":
            matches = body if isinstance(body, list) else [body] if isinstance(body, dict) else []
            if not matches:
                matches = [{k: v[-1] for k, v in request.query.items()}]
            deleted = sum(self._store.delete(table, match) for match in matches)
            return json_response(200, {"deleted": deleted})
        raise _BadRequest(404, f"Not found: {request.method} {request.path}")
