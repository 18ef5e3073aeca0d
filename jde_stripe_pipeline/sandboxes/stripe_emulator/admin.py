"""The emulator's admin API (no auth, not Stripe's): `/_sandbox/config`, `/reset`, `/requests`,
`/stats`, `/roll_key` (see the package docstring)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..http_server import HttpRequest, HttpResponse
from .config import config_view

if TYPE_CHECKING:
    from .server import StripeEmulator


def admin_response(emulator: StripeEmulator, request: HttpRequest) -> HttpResponse:
    path = request.path.rstrip("/")
    try:
        if path == "/_sandbox/config":
            if request.method == "POST":
                emulator.update_config(**(request.json() or {}))
            return HttpResponse.of_json(200, config_view(emulator.config))
        if path == "/_sandbox/reset" and request.method == "POST":
            emulator.reset()
            return HttpResponse.of_json(200, {"reset": True})
        if path == "/_sandbox/requests":
            method = _first(request.query, "method")
            prefix = _first(request.query, "path")
            endpoint, account = _first(request.query, "endpoint"), _first(request.query, "account")
            log = emulator.requests_log(method, prefix, endpoint, account)
            if request.method == "DELETE" or (request.query.get("clear") or ["0"])[0] in ("1", "true"):
                emulator.clear_requests_log()
            return HttpResponse.of_json(200, log)
        if path == "/_sandbox/stats":
            return HttpResponse.of_json(200, emulator.stats())
        if path == "/_sandbox/roll_key" and request.method == "POST":
            payload = request.json() or {}
            new_key = emulator.roll_key(str(payload["key"]), float(payload.get("expires_in_seconds", 0)))
            return HttpResponse.of_json(200, {"key": new_key})
    except (ValueError, KeyError, TypeError) as error:
        return HttpResponse.of_json(400, {"error": {"message": str(error)}})
    return HttpResponse.of_json(404, {"error": {"message": f"no admin endpoint {request.method} {path}"}})


def _first(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None
