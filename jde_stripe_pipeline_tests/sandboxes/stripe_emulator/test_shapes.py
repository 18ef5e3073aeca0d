"""Every key of Stripe's published example objects (fixtures3.json) is in what the emulator returns."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import requests

from jde_stripe_pipeline.sandboxes.http_server import LoopbackServer
from jde_stripe_pipeline.sandboxes.stripe_emulator import DEFAULT_API_KEY

AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
REPO = Path(__file__).resolve().parents[3]


def _shared_dir() -> Path | None:
    candidates = [os.environ.get("JDE_STRIPE_SHARED"), str(REPO.parent / "shared"), "/work/shared"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "reference/stripe/fixtures3.json").is_file():
            return Path(candidate)
    return None


@pytest.fixture(scope="module")
def fixtures() -> dict[str, Any]:
    shared = _shared_dir()
    if shared is None:
        pytest.skip("shared/reference/stripe/fixtures3.json not found (set JDE_STRIPE_SHARED)")
    resources: dict[str, Any] = json.loads((shared / "reference/stripe/fixtures3.json").read_text())[
        "resources"
    ]
    return resources


def shape_differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Keys of `expected` missing from `actual`, and scalar type clashes; recursive where both are objects."""
    problems: list[str] = []
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key, value in expected.items():
            where = f"{path}.{key}" if path else key
            if key not in actual:
                problems.append(f"missing {where}")
            else:
                problems.extend(shape_differences(value, actual[key], where))
    elif isinstance(expected, list) and isinstance(actual, list) and expected and actual:
        problems.extend(shape_differences(expected[0], actual[0], path + "[0]"))
    elif None not in (expected, actual) and not isinstance(expected, (dict, list)):
        numeric = (int, float)
        if type(expected) is not type(actual) and not (
            isinstance(expected, numeric) and isinstance(actual, numeric)
        ):
            problems.append(f"type of {path}: {type(actual).__name__}, Stripe {type(expected).__name__}")
    return problems


def test_shape_checker_catches_a_missing_key() -> None:
    assert shape_differences({"a": {"b": 1}}, {"a": {}}) == ["missing a.b"]
    assert shape_differences({"a": 1}, {"a": "1"}) == ["type of a: str, Stripe int"]


def _post(server: LoopbackServer, path: str, data: dict[str, Any]) -> dict[str, Any]:
    response = requests.post(server.url + path, data=data, headers=AUTH)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_objects_have_every_key_stripe_shows(fixtures: dict[str, Any], server: LoopbackServer) -> None:
    customer = _post(
        server, "/v1/customers", {"name": "Acme", "address[line1]": "1 Main", "metadata[k]": "v"}
    )
    invoice = _post(server, "/v1/invoices", {"customer": customer["id"], "currency": "usd"})
    invoice = _post(server, f"/v1/invoices/{invoice['id']}/add_lines", {"lines[0][amount]": "1000"})
    item = _post(server, "/v1/invoiceitems", {"customer": customer["id"], "amount": "700", "currency": "usd"})
    line = invoice["lines"]["data"][0]
    balance = requests.get(server.url + "/v1/balance", headers=AUTH).json()
    assert shape_differences(fixtures["customer"], customer) == []
    assert shape_differences(fixtures["invoice"], invoice) == []
    assert shape_differences(fixtures["invoiceitem"], item) == []
    assert shape_differences(fixtures["line_item"], line) == []
    assert shape_differences(fixtures["balance"], balance) == []
    assert (customer["object"], invoice["object"], item["object"], line["object"]) == (
        "customer",
        "invoice",
        "invoiceitem",
        "line_item",
    )
    assert customer["id"].startswith("cus_") and invoice["id"].startswith("in_")
    assert item["id"].startswith("ii_") and line["id"].startswith("il_")
    assert invoice["lines"]["object"] == "list" and invoice["amount_due"] == 1000
    assert {invoice["livemode"], customer["livemode"], item["livemode"], line["livemode"]} == {False}
