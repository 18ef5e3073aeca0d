"""How the sandbox writes AIS answers: exact-decimal JSON, error bodies, envelopes and grid rows.

Pure functions from values to JSON shapes, so the server only decides *what* to answer. Real AIS has
two kinds of error body: the REST layer's (`message`, `exception`, `timeStamp`, …) and the JAS
server's (`sysErrors` entries with `TITLE`/`DESC`, no `message`), e.g. an expired paged result set.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from jde_stripe_pipeline.sandboxes.ais.config import AisSandboxConfig, AisUser
from jde_stripe_pipeline.sandboxes.ais.query import DateFormat, grid_converter, grid_value
from jde_stripe_pipeline.sandboxes.ais.tables import Column, Kind, Table
from jde_stripe_pipeline.sandboxes.http_server import HttpResponse

GRID_ID = 1
OUTPUT_TYPES = ("GRID_DATA", "VERSION1", "VERSION2")
RESULT_SET_EXPIRED = "JAS_MSG347: The query results expired…"
"""Oracle's title of the 500 an expired next-page state answers (as the reference quotes it)."""


class BadRequest(Exception):
    """A request answered with `status` and an AIS error body saying `message`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


_DECIMAL_MARK = "\u0000DEC:"
_DECIMAL_PATTERN = re.compile(r'"\\u0000DEC:([^"\\]+)"')


def json_bytes(payload: Any) -> bytes:
    """JSON with Decimals written as exact JSON numbers (1234.56, 1.000), never via float."""

    def mark(value: Any) -> Any:
        if isinstance(value, Decimal):
            return _DECIMAL_MARK + format(value, "f")
        raise TypeError(f"not JSON serialisable: {type(value).__name__}")

    text = json.dumps(payload, default=mark, ensure_ascii=False)
    return _DECIMAL_PATTERN.sub(lambda m: m.group(1), text).encode("utf-8")


def json_response(status: int, payload: Any) -> HttpResponse:
    return HttpResponse(status, json_bytes(payload), {"Content-Type": "application/json;charset=utf-8"})


def _error_time() -> str:
    now = dt.datetime.now(dt.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"


def error_response(status: int, message: str, exception: str = "Exception") -> HttpResponse:
    """AIS error body: message, exception, timeStamp (+ status ERROR except for the terse 444 body)."""
    body: dict[str, Any] = {"message": message, "exception": exception, "timeStamp": _error_time()}
    if status != 444:
        body["status"] = "ERROR"
    return json_response(status, body)


def invalid_token() -> HttpResponse:
    return error_response(444, "Invalid Token")


def sys_error_response(status: int, title: str, desc: str) -> HttpResponse:
    """A JAS server error as AIS passes it on: `{"sysErrors": [{"TITLE", "DESC"}]}`, no `message`."""
    return json_response(status, {"sysErrors": [{"TITLE": title, "DESC": desc}]})


def result_set_expired(state_id: int, timeout_seconds: float) -> HttpResponse:
    return sys_error_response(
        500,
        RESULT_SET_EXPIRED,
        f"The results of the query (stateId {state_id}) are no longer available: the result set is kept"
        f" {timeout_seconds:g} seconds (resultSetTimeout). Issue the query again.",
    )


def envelope(
    table: Table, data: dict[str, Any], links: list[dict[str, str]], stack: tuple[int, int, str]
) -> dict[str, Any]:
    """The data-service answer around a form's data, with the top-level stackId/stateId/rid."""
    form = f"DATABROWSE_{table.name}"
    stack_id, state_id, rid = stack
    return {
        f"fs_{form}": {
            "title": f"Data Browser - {table.name} [{table.description}]",
            "data": data,
            "errors": [],
            "warnings": [],
        },
        "stackId": stack_id,
        "stateId": state_id,
        "rid": rid,
        "currentApp": form,
        "timeStamp": dt.datetime.now().strftime("%Y-%m-%d:%H.%M.%S"),
        "sysErrors": [],
        "links": links,
    }


def grid_data(
    table: Table,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Any]],
    more: bool,
    output_type: str,
    date_format: DateFormat,
) -> dict[str, Any]:
    """`gridData` of stored rows: GRID_DATA as name-value pairs, VERSION1/2 as cells with metadata."""
    names = [f"{table.name}_{c.alias}" for c in columns]
    rowset: list[dict[str, Any]] = []
    converters = [grid_converter(c) for c in columns]
    for index, values in enumerate(rows):
        if output_type == "GRID_DATA":
            cells = [convert(v) for convert, v in zip(converters, values, strict=True)]
            rowset.append(dict(zip(names, cells, strict=True)))
            continue
        row: dict[str, Any] = {"rowIndex": index, "MOExist": False}
        for position, (name, column, value) in enumerate(zip(names, columns, values, strict=True)):
            row[name] = _cell(position, column, value, output_type, date_format)
        rowset.append(row)
    return {
        "gridData": {
            "id": GRID_ID,
            "fullGridId": str(GRID_ID),
            "columns": {n: c.label for n, c in zip(names, columns, strict=True)},
            "rowset": rowset,
            "summary": {"records": len(rowset), "moreRecords": more},
        }
    }


def _cell(position: int, column: Column, stored: Any, output_type: str, date_format: DateFormat) -> Any:
    """A VERSION1/VERSION2 cell: `internalValue` as GRID_DATA writes it, `value` the display text."""
    internal = grid_value(column, stored)
    text = display_text(column, internal, date_format)
    cell: dict[str, Any] = {"id": position, "internalValue": internal, "value": text}
    if output_type == "VERSION1":
        cell.update({"title": column.label, "staticText": column.label, "visible": True, "editable": False})
    return cell


def display_text(column: Column, internal: Any, date_format: DateFormat) -> str:
    """The formatted text of a cell: dates in the user's format, blank as a single space."""
    if column.kind is Kind.DATE:
        if not isinstance(internal, str) or not internal.strip():
            return " "
        return date_format.format(dt.datetime.strptime(internal, "%Y%m%d").date())
    if isinstance(internal, Decimal):
        return format(internal, "f")
    return str(internal)


CAPABILITIES = ("grid", "processingOption", "dataService", "aggregation", "outputType", "v2")
"""The capability names the sandbox claims (a subset of a real server's list; it has no form service)."""


def default_config(config: AisSandboxConfig, jas_server: str) -> dict[str, Any]:
    """`GET /jderest/defaultconfig`: what a client reads before it logs in (defaults, capabilities)."""
    return {
        "defaultEnvironment": config.environment,
        "defaultRole": "*ALL",
        "displayEnvironment": True,
        "displayRole": True,
        "displayJasServer": False,
        "defaultJasServer": jas_server,
        "ssoAllowed": False,
        "allowSelfSignedSsl": False,
        "sessionTimeout": "30",
        "timeToLive": str(int(config.token_max_age_seconds or 0) // 60),
        "resultSetTimeout": str(int(config.page_state_max_age_seconds * 1000)),
        "aisVersion": f"EnterpriseOne {config.apps_release} (AIS sandbox)",
        "capabilityList": [{"name": name} for name in CAPABILITIES],
    }


@dataclass(frozen=True)
class TokenGrant:
    typed: str
    """The user name as the client typed it (AIS echoes it so)."""
    name: str
    """The user as configured (JDE user ids are case-insensitive)."""
    user: AisUser
    token: str
    role: str
    date_format: DateFormat


def token_body(
    config: AisSandboxConfig, jas_server: str, grant: TokenGrant, now: dt.datetime
) -> dict[str, Any]:
    """The token response of the reference, with the fields real servers add (appsRelease, country…)."""
    offset = now.strftime("%z")
    return {
        "username": grant.typed,
        "environment": config.environment,
        "role": grant.role,
        "jasserver": jas_server,
        "userInfo": {
            "token": grant.token,
            "langPref": "  ",
            "locale": "en",
            "dateFormat": grant.date_format.jde_code,
            "dateSeperator": grant.date_format.separator,
            "simpleDateFormat": grant.date_format.pattern,
            "decimalFormat": ".",
            "addressNumber": grant.user.address_number,
            "alphaName": grant.user.alpha_name,
            "appsRelease": config.apps_release,
            "country": grant.user.country or " ",
            "username": grant.name,
            "timeZoneOffset": f"UTC{offset[:3]}:{offset[3:]}",
        },
        "userAuthorized": False,
        "version": None,
        "aisSessionCookie": secrets.token_urlsafe(24),
    }
