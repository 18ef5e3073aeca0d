"""Every `/v1` route the emulator serves: the core endpoints (`api.py`), credit notes, paying out of band."""

from __future__ import annotations

from . import api, credit_notes, invoice_payments

ROUTES: tuple[api.Route, ...] = (*api.ROUTES, *credit_notes.ROUTES, *invoice_payments.ROUTES)


def match_route(method: str, path: str) -> tuple[api.Route, tuple[str, ...]] | None:
    for route in ROUTES:
        if route.method == method:
            match = route.pattern.match(path)
            if match is not None:
                return route, match.groups()
    return None
