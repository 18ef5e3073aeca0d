"""The sandbox's admin API under /_sandbox/: config, stats, reset, token expiry, table rows (no token)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from jde_stripe_pipeline.sandboxes.ais.config import ConfigError
from jde_stripe_pipeline.sandboxes.ais.query import QueryError
from jde_stripe_pipeline.sandboxes.ais.render import BadRequest, error_response, json_response
from jde_stripe_pipeline.sandboxes.ais.store import StoreError
from jde_stripe_pipeline.sandboxes.ais.tables import TABLES, Table
from jde_stripe_pipeline.sandboxes.http_server import HttpRequest, HttpResponse

if TYPE_CHECKING:
    from jde_stripe_pipeline.sandboxes.ais.server import AisService


def admin_response(service: AisService, request: HttpRequest, path: str) -> HttpResponse:
    """The token-free admin API under /_sandbox/ (it ignores the allowlist: a test can always reach it)."""
    try:
        return _route(service, request, path)
    except BadRequest as error:
        return error_response(error.status, error.message)
    except (ConfigError, StoreError, QueryError) as error:
        return error_response(400, str(error))


def _route(service: AisService, request: HttpRequest, path: str) -> HttpResponse:
    method = request.method
    if path == "/_sandbox/config" and method == "GET":
        return json_response(200, {**service.config.to_json(), **service.describe()})
    if path == "/_sandbox/config" and method == "POST":
        changes = _body(request)
        if not isinstance(changes, dict):
            raise BadRequest(400, "config changes must be a JSON object")
        readonly = sorted(set(changes) & set(service.describe()))
        if readonly:
            raise BadRequest(400, f"read-only setting(s): {', '.join(readonly)} (use POST /_sandbox/reset)")
        updated = service.update_config(changes)
        return json_response(200, {**updated.to_json(), **service.describe()})
    if path == "/_sandbox/stats" and method == "GET":
        return json_response(200, service.stats())
    if path == "/_sandbox/reset" and method == "POST":
        options = _body(request) or {}
        if not isinstance(options, dict):
            raise BadRequest(400, "reset options must be a JSON object")
        service.reseed(options)
        return json_response(200, service.describe())
    if path == "/_sandbox/tokens/expire" and method == "POST":
        return json_response(200, {"expired": service.expire_tokens()})
    match = re.fullmatch(r"/_sandbox/tables/([^/]+)/rows", path)
    if match:
        table = TABLES.get(match[1].upper())
        if table is None:
            raise BadRequest(404, f"unknown table {match[1]!r} (the sandbox serves {', '.join(TABLES)})")
        return _rows(service, request, table)
    raise BadRequest(404, f"Not found: {method} {request.path}")


def _body(request: HttpRequest) -> Any:
    if not request.body:
        return None
    try:
        return json.loads(request.body.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadRequest(400, f"Invalid JSON input: {error}") from None


def _rows(service: AisService, request: HttpRequest, table: Table) -> HttpResponse:
    if request.method == "GET":
        try:
            limit = int(request.query["limit"][-1]) if "limit" in request.query else None
            offset = int(request.query["offset"][-1]) if "offset" in request.query else 0
        except ValueError:
            raise BadRequest(400, "limit and offset must be integers") from None
        return json_response(200, {"table": table.name, "rows": service.store.rows(table, limit, offset)})
    body = _body(request)
    if request.method == "POST":
        rows = body if isinstance(body, list) else [body]
        if not rows or not all(isinstance(r, dict) for r in rows):
            raise BadRequest(400, "body must be a row object or a list of row objects keyed by alias")
        inserted = updated = 0
        stored = []
        for index, row in enumerate(rows):
            try:
                was_inserted, result = service.store.upsert(table, row, service.stamp())
            except StoreError as error:
                raise BadRequest(400, f"row {index}: {error}") from None
            inserted += was_inserted
            updated += not was_inserted
            stored.append(result)
        return json_response(200, {"inserted": inserted, "updated": updated, "rows": stored})
    if request.method == "DELETE":
        matches = body if isinstance(body, list) else [body] if isinstance(body, dict) else []
        if not matches:
            matches = [{k: v[-1] for k, v in request.query.items()}]
        deleted = sum(service.store.delete(table, match) for match in matches)
        return json_response(200, {"deleted": deleted})
    raise BadRequest(404, f"Not found: {request.method} {request.path}")
