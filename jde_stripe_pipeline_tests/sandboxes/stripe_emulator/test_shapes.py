"""The emulator's objects against Stripe's own published shapes.

Two references: every key of Stripe's example objects (fixtures3.json) is in what the emulator returns;
and every customer, invoice, line item and invoice item it returns validates against the component
schemas of Stripe's OpenAPI spec (spec3.subset.json, API 2026-07-29.dahlia): required fields present,
no field the schema lacks, types, enums and nullability as declared.
"""

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
    candidates = [os.environ.get("JDE_STRIPE_SHARED"), str(REPO.parent / "shared")]
    for candidate in candidates:
        if candidate and (Path(candidate) / "reference/stripe/fixtures3.json").is_file():
            return Path(candidate)
    return None


@pytest.fixture(scope="module")
def schemas() -> dict[str, Any]:
    shared = _shared_dir()
    if shared is None or not (shared / "reference/stripe/spec3.subset.json").is_file():
        pytest.skip("shared/reference/stripe/spec3.subset.json not found (set JDE_STRIPE_SHARED)")
    spec: dict[str, Any] = json.loads((shared / "reference/stripe/spec3.subset.json").read_text())
    return dict(spec["components"]["schemas"])


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


_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


def schema_problems(schemas: dict[str, Any], schema: dict[str, Any], value: Any, path: str) -> list[str]:
    """Where `value` breaks an OpenAPI schema of the spec (refs, anyOf, nullable, enums, required, extras).

    A value reaching a schema the extract left out (`x-omitted`) is reported as not covered, as the
    extract's notes ask, unless it is empty (null, [] or {}).
    """
    if "$ref" in schema:
        return schema_problems(schemas, schemas[schema["$ref"].rsplit("/", 1)[-1]], value, path)
    if "x-omitted" in schema and not isinstance(schema.get("x-omitted"), bool):
        return (
            [] if value in (None, [], {}) else [f"{path}: not covered by the extract ({schema['x-omitted']})"]
        )
    if value is None:
        return [] if schema.get("nullable") else [f"{path}: null, but the schema is not nullable"]
    if "anyOf" in schema:
        branches = [schema_problems(schemas, branch, value, path) for branch in schema["anyOf"]]
        return [] if any(not b for b in branches) else min(branches, key=len)
    problems: list[str] = []
    kind = schema.get("type")
    if kind is not None:
        expected = _TYPES[kind]
        if not isinstance(value, expected) or (kind in ("integer", "number") and isinstance(value, bool)):
            return [f"{path}: {type(value).__name__}, the schema says {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{path}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, str) and len(value) > schema.get("maxLength", len(value)):
        problems.append(f"{path}: longer than {schema['maxLength']}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            problems.extend(schema_problems(schemas, schema["items"], item, f"{path}[{index}]"))
    if isinstance(value, dict):
        properties: dict[str, Any] = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                problems.append(f"{path}.{name}: required, missing")
        extra = schema.get("additionalProperties")
        for name, item in value.items():
            if name in properties:
                problems.extend(schema_problems(schemas, properties[name], item, f"{path}.{name}"))
            elif isinstance(extra, dict):
                problems.extend(schema_problems(schemas, extra, item, f"{path}.{name}"))
            elif properties or extra is False:
                problems.append(f"{path}.{name}: not in the schema")
    return problems


def test_schema_checker_catches_what_it_should(schemas: dict[str, Any]) -> None:
    customer = {"id": "cus_1", "object": "customer", "created": 1, "livemode": False}
    assert schema_problems(schemas, schemas["customer"], customer, "customer") == []
    assert schema_problems(schemas, schemas["customer"], {**customer, "subscription": None}, "c") == [
        "c.subscription: not in the schema"
    ]
    assert schema_problems(schemas, schemas["customer"], {**customer, "business_name": None}, "c") == [
        "c.business_name: null, but the schema is not nullable"
    ]
    assert schema_problems(schemas, schemas["customer"], {**customer, "balance": "0"}, "c") == [
        "c.balance: str, the schema says integer"
    ]
    assert schema_problems(schemas, schemas["customer"], {**customer, "tax_exempt": "maybe"}, "c")
    missing = schema_problems(schemas, schemas["customer"], {"id": "cus_1"}, "c")
    assert missing == [f"c.{name}: required, missing" for name in ("created", "livemode", "object")]
    [uncovered] = schema_problems(schemas, schemas["customer"], {**customer, "discount": {"id": "d"}}, "c")
    assert uncovered.startswith("c.discount: not covered")


def _all_shapes(server: LoopbackServer) -> dict[str, list[dict[str, Any]]]:
    """Customers, invoices, lines and items as the emulator answers them, bare and fully filled in,
    and the answers to deleting a draft invoice and an invoice item."""
    bare = _post(server, "/v1/customers", {})
    full = _post(
        server,
        "/v1/customers",
        {
            "name": "Acme",
            "email": "ap@acme.example",
            "phone": "+1 555 0100",
            "description": "JDE 1001",
            "address[line1]": "1 Main",
            "address[city]": "Springfield",
            "address[country]": "US",
            "shipping[name]": "Acme Dock",
            "shipping[address][line1]": "2 Dock Rd",
            "preferred_locales[0]": "en",
            "invoice_settings[footer]": "Thanks",
            "invoice_settings[custom_fields][0][name]": "JDE",
            "invoice_settings[custom_fields][0][value]": "1001",
            "metadata[jde_an8]": "1001",
            "business_name": "Acme Inc.",
            "individual_name": "Wile E. Coyote",
        },
    )
    unset = _post(server, f"/v1/customers/{full['id']}", {"business_name": "", "individual_name": ""})
    invoice = _post(
        server,
        "/v1/invoices",
        {
            "customer": full["id"],
            "currency": "usd",
            "collection_method": "send_invoice",
            "days_until_due": "30",
            "description": "PO 1001",
            "footer": "JDE",
            "custom_fields[0][name]": "PO",
            "custom_fields[0][value]": "1001",
            "metadata[jde_doco]": "1001",
            "auto_advance": "false",
        },
    )
    invoice = _post(
        server,
        f"/v1/invoices/{invoice['id']}/add_lines",
        {
            "lines[0][amount]": "1000",
            "lines[0][description]": "Widget",
            "lines[0][metadata][jde_lnid]": "1.000",
            "lines[0][period][start]": "1764547200",
            "lines[0][period][end]": "1764633600",
        },
    )
    empty = _post(server, "/v1/invoices", {"customer": bare["id"], "currency": "jpy"})
    item = _post(server, "/v1/invoiceitems", {"customer": bare["id"], "amount": "700", "currency": "usd"})
    lines = requests.get(f"{server.url}/v1/invoices/{invoice['id']}/lines", headers=AUTH).json()["data"]
    doomed = _post(server, "/v1/invoices", {"customer": bare["id"], "currency": "usd"})
    deleted_invoice = requests.delete(f"{server.url}/v1/invoices/{doomed['id']}", headers=AUTH).json()
    spare = _post(server, "/v1/invoiceitems", {"customer": bare["id"], "amount": "5", "currency": "usd"})
    deleted_item = requests.delete(f"{server.url}/v1/invoiceitems/{spare['id']}", headers=AUTH).json()
    listed = requests.get(f"{server.url}/v1/invoices", headers=AUTH).json()["data"]
    customers = requests.get(f"{server.url}/v1/customers", headers=AUTH).json()["data"]
    return {
        "customer": [bare, full, unset, *customers],
        "invoice": [invoice, empty, *listed],
        "line_item": [*invoice["lines"]["data"], *lines],
        "invoiceitem": [item],
        "deleted_invoice": [deleted_invoice],
        "deleted_invoiceitem": [deleted_item],
    }


def test_emulator_answers_validate_against_stripes_openapi_schemas(
    schemas: dict[str, Any], server: LoopbackServer
) -> None:
    shapes = _all_shapes(server)
    problems = [
        problem
        for name, objects in shapes.items()
        for index, obj in enumerate(objects)
        for problem in schema_problems(schemas, schemas[name], obj, f"{name}[{index}]")
    ]
    assert problems == []
    invoice = shapes["invoice"][0]
    assert "subscription" not in invoice and invoice["amount_paid_off_stripe"] == 0
    assert invoice["parent"] is None  # a one-off invoice: no subscription or quote parent
    bare, full, unset = shapes["customer"][:3]
    assert "business_name" not in bare and "individual_name" not in bare
    assert (full["business_name"], full["individual_name"]) == ("Acme Inc.", "Wile E. Coyote")
    assert "business_name" not in unset and "individual_name" not in unset


def test_shape_checker_catches_a_missing_key() -> None:
    assert shape_differences({"a": {"b": 1}}, {"a": {}}) == ["missing a.b"]
    assert shape_differences({"a": 1}, {"a": "1"}) == ["type of a: str, Stripe int"]


def _post(server: LoopbackServer, path: str, data: dict[str, Any]) -> dict[str, Any]:
    response = requests.post(server.url + path, data=data, headers=AUTH)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _current(fixtures: dict[str, Any], schemas: dict[str, Any], name: str) -> dict[str, Any]:
    """Stripe's example object without the keys the current API has dropped (the spec is newer)."""
    properties = schemas[name]["properties"]
    return {key: value for key, value in fixtures[name].items() if key in properties}


def test_objects_have_every_key_stripe_shows(
    fixtures: dict[str, Any], schemas: dict[str, Any], server: LoopbackServer
) -> None:
    # fixtures3.json predates 2025's move of `invoice.subscription` under `parent`: the spec wins.
    assert "subscription" in fixtures["invoice"] and "subscription" not in _current(
        fixtures, schemas, "invoice"
    )
    customer = _post(
        server, "/v1/customers", {"name": "Acme", "address[line1]": "1 Main", "metadata[k]": "v"}
    )
    invoice = _post(server, "/v1/invoices", {"customer": customer["id"], "currency": "usd"})
    invoice = _post(server, f"/v1/invoices/{invoice['id']}/add_lines", {"lines[0][amount]": "1000"})
    item = _post(server, "/v1/invoiceitems", {"customer": customer["id"], "amount": "700", "currency": "usd"})
    line = invoice["lines"]["data"][0]
    balance = requests.get(server.url + "/v1/balance", headers=AUTH).json()
    assert shape_differences(_current(fixtures, schemas, "customer"), customer) == []
    assert shape_differences(_current(fixtures, schemas, "invoice"), invoice) == []
    assert shape_differences(_current(fixtures, schemas, "invoiceitem"), item) == []
    assert shape_differences(_current(fixtures, schemas, "line_item"), line) == []
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
