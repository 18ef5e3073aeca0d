"""A plan as text: each change with its numbered operations (verb, path, key); nothing-records hidden."""

from __future__ import annotations

import json

from jde_stripe_pipeline.sync import Created, Plan, PlannedChange, StripeOperation, render_plan

CREATE = StripeOperation("invoices.create", None, "jde-stripe:invoice:K:create:aa", {"currency": "usd"})
ADD = StripeOperation("invoices.add_lines", Created(0), "jde-stripe:invoice:K:add_lines:bb", {"lines": []})


def _plan() -> Plan:
    return Plan(
        "invoice",
        (
            PlannedChange("invoice", "K", "create", None, None, {"lines_added": 2}, "created", (CREATE, ADD)),
            PlannedChange("invoice", "L", "nothing", "in_2", None, {}, "unchanged"),
        ),
        requests_sent=1,
    )


def test_each_change_lists_its_operations_in_order_and_unchanged_records_are_left_out() -> None:
    lines = render_plan(_plan()).splitlines()
    assert lines[0].split()[:3] == ["invoice", "K", "create"] and "lines_added=2" in lines[0]
    assert lines[1] == "    1. POST /v1/invoices  jde-stripe:invoice:K:create:aa"
    assert lines[2] == "    2. POST /v1/invoices/{created#1}/add_lines  jde-stripe:invoice:K:add_lines:bb"
    assert lines[3] == "invoices: create 1, nothing 1 (2 Stripe writes planned, 1 Stripe reads)"
    assert len(lines) == 4


def test_json_lines_carry_the_operations_without_their_params() -> None:
    first, second = (json.loads(line) for line in render_plan(_plan(), as_json=True).splitlines())
    assert first["outcome"] == "created" and [op["path"] for op in first["operations"]] == [
        "/v1/invoices",
        "/v1/invoices/{created#1}/add_lines",
    ]
    assert "params" not in first["operations"][0]
    assert second["operations"] == [] and second["action"] == "nothing"
