"""The client of the sandbox's admin row API (`/_sandbox/tables/T/rows`, not part of real AIS): how the
tests, the demo and the reliability harness change JDE behind the pipeline's back and read it back."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import requests


class AisAdminError(RuntimeError):
    """The sandbox refused an admin call (unknown table or column, a bad row)."""


class AisAdmin:
    """Rows as stored: Julian dates, HHMMSS times, exact decimals (read as Decimal, written as text)."""

    def __init__(self, base_url: str, http: requests.Session | None = None, *, timeout: float = 10.0):
        """`http`: a session to reuse (one connection); without it, each call opens its own."""
        self._base, self._timeout = base_url.rstrip("/"), timeout
        self._request = requests.request if http is None else http.request

    def rows(self, table: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self._call("GET", table)["rows"]
        return rows

    def upsert(self, table: str, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Insert or update by the table's key; the rows as stored (with the columns left as they were)."""
        stored: list[dict[str, Any]] = self._call("POST", table, list(rows))["rows"]
        return stored

    def delete(self, table: str, match: Mapping[str, Any]) -> int:
        """Delete the rows whose columns equal `match`; how many there were."""
        return int(self._call("DELETE", table, dict(match))["deleted"])

    def _call(self, method: str, table: str, body: object = None) -> dict[str, Any]:
        response = self._request(
            method,
            f"{self._base}/_sandbox/tables/{table}/rows",
            data=None if body is None else json.dumps(body, default=str),  # Decimal keys (LNID) as text
            headers={"Content-Type": "application/json"},
            timeout=self._timeout,
        )
        if response.status_code != 200:
            raise AisAdminError(
                f"AIS sandbox admin API {method} {response.url}: {response.status_code} {response.text[:300]}"
            )
        payload: dict[str, Any] = json.loads(response.text, parse_float=Decimal)
        return payload
