"""Every dict the mapping builds fits the stripe SDK's own request TypedDicts (stripe 16.1.0).

The TypedDicts are generated from Stripe's OpenAPI spec: a key the SDK does not know, or a missing
required key, would be a 400 from Stripe.
"""

import sys
from typing import Any

import pytest
from stripe.params import (
    CustomerCreateParams,
    CustomerUpdateParams,
    InvoiceAddLinesParams,
    InvoiceCreateParams,
    InvoiceUpdateLinesParams,
    InvoiceUpdateParams,
)

from jde_stripe_pipeline.jde.records import JdeParty
from jde_stripe_pipeline.mapping import CustomerMappingConfig, CustomerRequest, InvoiceRequest, map_customer
from jde_stripe_pipeline_tests.mapping.builders import address, customer, invoice, line, mapped

REQUEST_OPTION_KEYS = {"api_key", "stripe_version", "stripe_account", "stripe_context", "idempotency_key"}


def _nested(typed: type, key: str) -> type | None:
    module = sys.modules[typed.__module__]
    camel = "".join(part.capitalize() for part in key.split("_"))
    for name in (typed.__name__ + camel, typed.__name__ + camel.removesuffix("s")):
        if isinstance(candidate := getattr(module, name, None), type):
            return candidate
    return None


def assert_fits(params: Any, typed: type, path: str = "") -> None:
    known = set(typed.__annotations__) - REQUEST_OPTION_KEYS
    unknown = set(params) - known
    assert not unknown, f"{path or typed.__name__}: keys the SDK does not know: {unknown}"
    missing = set(getattr(typed, "__required_keys__", set())) - set(params) - REQUEST_OPTION_KEYS
    assert not missing, f"{path or typed.__name__}: required keys missing: {missing}"
    for key, value in params.items():
        if key == "metadata":
            assert isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
            continue
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, dict):
                nested = _nested(typed, key)
                assert nested is not None, f"{path}.{key}: no nested TypedDict found"
                assert_fits(item, nested, f"{path}.{key}")


@pytest.fixture
def customer_request() -> CustomerRequest:
    record = customer(ship_to=JdeParty(an8=2, name="Dock", address=address(), phone="555-0101"))
    result = map_customer(record, CustomerMappingConfig(ship_to_source="ship_to"))
    assert isinstance(result, CustomerRequest)
    return result


@pytest.fixture
def invoice_request() -> InvoiceRequest:
    return mapped(invoice(line("1"), line("2", item=None))).with_customer("cus_1")


def test_customer_params_fit_the_sdk(customer_request: CustomerRequest) -> None:
    assert_fits(customer_request.params(), CustomerCreateParams)
    assert_fits(customer_request.update_params(), CustomerUpdateParams)


def test_invoice_params_fit_the_sdk(invoice_request: InvoiceRequest) -> None:
    assert_fits(invoice_request.params(), InvoiceCreateParams)
    assert_fits(invoice_request.update_params(), InvoiceUpdateParams)
    assert_fits({"lines": [candidate.params() for candidate in invoice_request.lines]}, InvoiceAddLinesParams)
    assert_fits(
        {"lines": [candidate.update_params(f"il_{n}") for n, candidate in enumerate(invoice_request.lines)]},
        InvoiceUpdateLinesParams,
    )


def test_the_checker_itself_catches_unknown_and_missing_keys() -> None:
    with pytest.raises(AssertionError, match="does not know"):
        assert_fits({"nmae": "x"}, CustomerCreateParams)
    with pytest.raises(AssertionError, match="required keys missing"):
        assert_fits({"shipping": {"name": "x"}}, CustomerCreateParams)
