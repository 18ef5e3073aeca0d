"""A small seeded AIS sandbox served on loopback per test, and plain `requests` helpers to talk to it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests

from jde_stripe_pipeline.sandboxes.ais import AisSandbox
from jde_stripe_pipeline.sandboxes.http_server import HttpRequest, HttpResponse, LoopbackServer
from jde_stripe_pipeline_tests.jde.support import AS_OF

DEVICE = "pytest-device"


class _CurrentSandbox:
    """Serves whichever sandbox the running test made: one loopback server for the whole session,
    because stopping a server costs half a second (the poll interval of serve_forever)."""

    def __init__(self) -> None:
        self.sandbox: AisSandbox | None = None

    def handle(self, request: HttpRequest) -> HttpResponse | object:
        assert self.sandbox is not None, "no sandbox fixture active"
        return self.sandbox.service.handle(request)


@pytest.fixture(scope="session")
def _shared_server() -> Iterator[tuple[LoopbackServer, _CurrentSandbox]]:
    current = _CurrentSandbox()
    with LoopbackServer(current.handle, name="ais-sandbox-tests") as started:  # type: ignore[arg-type]
        yield started, current


@pytest.fixture
def sandbox(_shared_server: tuple[LoopbackServer, _CurrentSandbox]) -> Iterator[AisSandbox]:
    instance = AisSandbox(seed=7, customers=40, invoices=30, as_of=AS_OF)
    _shared_server[1].sandbox = instance
    yield instance
    _shared_server[1].sandbox = None
    instance.close()


@pytest.fixture
def server(sandbox: AisSandbox, _shared_server: tuple[LoopbackServer, _CurrentSandbox]) -> LoopbackServer:
    return _shared_server[0]


def decode(response: requests.Response) -> Any:
    """Exact decimals, as a careful client parses AIS output."""
    return json.loads(response.text, parse_float=Decimal)


def login(url: str, username: str = "JDE", password: str = "JDE", device: str = DEVICE) -> str:
    answer = requests.post(
        f"{url}/jderest/v2/tokenrequest",
        json={
            "username": username,
            "password": password,
            "deviceName": device,
            "environment": "JDV920",
            "role": "*ALL",
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["userInfo"]["token"])


def browse(
    url: str,
    token: str,
    table: str,
    device: str = DEVICE,
    path: str = "/jderest/v2/dataservice",
    **fields: Any,
) -> requests.Response:
    body = {
        "token": token,
        "deviceName": device,
        "targetName": table,
        "targetType": "table",
        "dataServiceType": "BROWSE",
        "maxPageSize": "1000",
        **fields,
    }
    return requests.post(f"{url}{path}", data=json.dumps(body, default=str), headers=_JSON, timeout=10)


def grid(response: requests.Response, table: str) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return dict(decode(response)[f"fs_DATABROWSE_{table}"]["data"]["gridData"])


def condition(control_id: str, operator: str, *values: str) -> dict[str, Any]:
    return {
        "controlId": control_id,
        "operator": operator,
        "value": [{"content": v, "specialValueId": "LITERAL"} for v in values],
    }


_JSON = {"Content-Type": "application/json"}
