"""Pure decoding and validation of Stripe form bodies."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jde_stripe_pipeline.sandboxes.stripe_emulator.errors import ApiError
from jde_stripe_pipeline.sandboxes.stripe_emulator.forms import (
    UNSET,
    Arr,
    Dec,
    Int,
    Metadata,
    Obj,
    Str,
    decode_pairs,
    merge_metadata,
    validate,
)


def test_decode_nested_and_indexed_keys() -> None:
    tree = decode_pairs(
        [
            ("lines[0][amount]", "100"),
            ("lines[0][metadata][k]", "v"),
            ("lines[1][price_data][currency]", "usd"),
            ("expand[]", "customer"),
            ("expand[]", "invoice"),
            ("metadata[a[b]]", "x"),
        ]
    )
    assert tree == {
        "lines": {"0": {"amount": "100", "metadata": {"k": "v"}}, "1": {"price_data": {"currency": "usd"}}},
        "expand": {"0": "customer", "1": "invoice"},
        "metadata": {"a[b]": "x"},
    }


def test_decode_refuses_a_value_that_is_both_string_and_object() -> None:
    with pytest.raises(ApiError):
        decode_pairs([("address", "x"), ("address[line1]", "y")])


def test_validate_converts_types_and_reports_paths() -> None:
    schema = {
        "lines": Arr(item=Obj(fields={"amount": Int(), "qty": Dec()})),
        "name": Str(emptyable=True),
        "metadata": Metadata(),
    }
    result = validate(
        {"lines": {"0": {"amount": "-5", "qty": "1.250"}}, "name": "", "metadata": {"a": "", "b": "1"}},
        schema,
    )
    assert result == {
        "lines": [{"amount": -5, "qty": Decimal("1.250")}],
        "name": UNSET,
        "metadata": {"a": UNSET, "b": "1"},
    }
    with pytest.raises(ApiError) as raised:
        validate({"lines": {"0": {"amount": "1.5"}}}, schema)
    assert raised.value.param == "lines[0][amount]" and raised.value.code == "parameter_invalid_integer"
    with pytest.raises(ApiError) as unknown:
        validate({"lines": {"0": {"price": "1"}}}, schema)
    assert unknown.value.param == "lines[0][price]" and unknown.value.code == "parameter_unknown"
    with pytest.raises(ApiError):
        validate({"lines": {"1": {"amount": "1"}}}, schema)  # index 0 missing


def test_decimals_keep_every_digit_and_refuse_more_than_12_places() -> None:
    assert Dec().check("0.000000000001", "x") == Decimal("0.000000000001")
    with pytest.raises(ApiError):
        Dec().check("0.0000000000001", "x")
    with pytest.raises(ApiError):
        Dec().check("1e5", "x")


def test_merge_metadata() -> None:
    assert merge_metadata({"a": "1", "b": "2"}, {"a": UNSET, "c": "3"}) == {"b": "2", "c": "3"}
    assert merge_metadata({"a": "1"}, UNSET) == {}
