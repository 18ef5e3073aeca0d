"""Malformed AIS answers: hooks that rewrite the sandbox's BROWSE answers on their way out.

Two kinds:
- per record, on every read (`RowMangler`): a column left out, a value of the wrong type, a date no
  calendar has, a row sent twice — what a customised business function, a driver or a proxy can do to
  one record. The pipeline must quarantine exactly that record, naming the field.
- per answer, once (`BodyMangler`): a truncated JSON body, an HTML error page (200 or 502), a grid whose
  `rowset` is not a list — whole answers no record can be blamed for. The run may stop, plainly (an
  `AisError`, no traceback of another kind), and a rerun must finish.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from jde_stripe_pipeline.reliability.servers import Answer, HttpRequest, HttpResponse
from jde_stripe_pipeline.sandboxes.ais.render import json_bytes

RowChange = Callable[[dict[str, Any]], list[dict[str, Any]]]
"""A grid row (keys `F4311_AEXP`, …) → the rows to send instead (none, itself changed, or two)."""


def _grid(payload: Any) -> tuple[str, list[Any]] | None:
    if not isinstance(payload, dict):
        return None
    for name, form in payload.items():
        if name.startswith("fs_DATABROWSE_") and isinstance(form, dict):
            rows = form.get("data", {}).get("gridData", {}).get("rowset")
            if isinstance(rows, list):
                return name.removeprefix("fs_DATABROWSE_"), rows
    return None


def _body(answer: Answer) -> Any:
    if not isinstance(answer, HttpResponse) or answer.status != 200:
        return None
    try:
        return json.loads(answer.body, parse_float=Decimal)
    except ValueError:
        return None


@dataclass
class RowMangler:
    """Applies `changes[(table, match)]` to every grid row of `table` for which `match(row)` holds."""

    changes: list[tuple[str, Callable[[dict[str, Any]], bool], RowChange, str]] = field(default_factory=list)
    applied: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, table: str, match: Callable[[dict[str, Any]], bool], change: RowChange, label: str) -> None:
        self.changes.append((table, match, change, label))

    def __call__(self, request: HttpRequest, answer: Answer) -> Answer:
        payload = _body(answer)
        found = _grid(payload)
        if found is None:
            return answer
        table, rows = found
        changed = False
        out: list[Any] = []
        for row in rows:
            replaced = [row]
            for target, match, change, _ in self.changes:
                if target == table and isinstance(row, dict) and match(row):
                    replaced = change(row)
                    changed = True
            out.extend(replaced)
        if not changed:
            return answer
        with self._lock:
            self.applied += 1
        form = payload[f"fs_DATABROWSE_{table}"]
        form["data"]["gridData"]["rowset"] = out
        assert isinstance(answer, HttpResponse)
        return HttpResponse(answer.status, json_bytes(payload), dict(answer.headers))


def row_of(table: str, **values: Any) -> Callable[[dict[str, Any]], bool]:
    """Matches a grid row by alias values (compared as text, right-trimmed)."""

    def match(row: dict[str, Any]) -> bool:
        return all(
            f"{table}_{alias}" in row and str(row[f"{table}_{alias}"]).rstrip() == str(value)
            for alias, value in values.items()
        )

    return match


def drop_column(table: str, alias: str) -> RowChange:
    return lambda row: [{k: v for k, v in row.items() if k != f"{table}_{alias}"}]


def set_value(table: str, alias: str, value: Any) -> RowChange:
    return lambda row: [{**row, f"{table}_{alias}": value}] if f"{table}_{alias}" in row else [row]


def twice(row: dict[str, Any]) -> list[dict[str, Any]]:
    return [row, dict(row)]


BODIES: dict[str, Callable[[HttpResponse], HttpResponse]] = {
    "truncated JSON": lambda a: HttpResponse(200, a.body[: len(a.body) // 2], dict(a.headers)),
    "HTML error page (200)": lambda a: HttpResponse(
        200, b"<html><body><h1>Proxy Error</h1></body></html>", {"Content-Type": "text/html"}
    ),
    "HTML error page (502)": lambda a: HttpResponse(
        502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", {"Content-Type": "text/html"}
    ),
    "rowset not a list": lambda a: _rowset_as_object(a),
    "rows not objects": lambda a: _rows_as_lists(a),
}


def _rewritten(answer: HttpResponse, change: Callable[[dict[str, Any]], None]) -> HttpResponse:
    payload = _body(answer)
    if _grid(payload) is None:
        return answer
    change(payload)
    return HttpResponse(answer.status, json_bytes(payload), dict(answer.headers))


def _rowset_as_object(answer: HttpResponse) -> HttpResponse:
    def change(payload: dict[str, Any]) -> None:
        for form in payload.values():
            if isinstance(form, dict) and "data" in form:
                form["data"]["gridData"]["rowset"] = {"row": form["data"]["gridData"]["rowset"]}

    return _rewritten(answer, change)


def _rows_as_lists(answer: HttpResponse) -> HttpResponse:
    def change(payload: dict[str, Any]) -> None:
        for form in payload.values():
            if isinstance(form, dict) and "data" in form:
                grid = form["data"]["gridData"]
                grid["rowset"] = [list(row.values()) for row in grid["rowset"]]

    return _rewritten(answer, change)


@dataclass
class BodyMangler:
    """Replaces the answer of the n-th BROWSE (a 200 with a grid) by a malformed one, once."""

    kind: str
    nth: int
    seen: int = 0
    done: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: HttpRequest, answer: Answer) -> Answer:
        if _grid(_body(answer)) is None:
            return answer
        with self._lock:
            self.seen += 1
            if self.done or self.seen != self.nth:
                return answer
            self.done = True
        assert isinstance(answer, HttpResponse)
        return BODIES[self.kind](answer)
