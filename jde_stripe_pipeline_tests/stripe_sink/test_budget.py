"""The global + per-endpoint budget and AIMD, with the clock passed in (no sleeping, no wall time)."""

from __future__ import annotations

import pytest

from jde_stripe_pipeline.stripe_sink.budget import Aimd, Budget, endpoint_name


def test_endpoint_names_collapse_ids_and_keep_search() -> None:
    assert endpoint_name("post", "/v1/invoices") == "POST /v1/invoices"
    assert endpoint_name("POST", "/v1/invoices/in_1/add_lines") == "POST /v1/invoices/{id}/add_lines"
    assert endpoint_name("GET", "/v1/customers/search?query=x") == "GET /v1/customers/search"
    assert endpoint_name("GET", "/v1/customers/cus_9") == "GET /v1/customers/{id}"


def test_one_endpoint_is_held_to_its_own_pace_under_a_higher_global() -> None:
    budget = Budget(global_pace=96.0, endpoint_pace=24.0)
    sends = [0.0 + budget.reserve("POST /v1/invoices", now=0.0) for _ in range(48)]
    assert sends[-1] == pytest.approx(47 / 24.0)
    assert sum(1 for t in sends if t < 0.999) == 24


def test_two_endpoints_share_the_global_pace() -> None:
    budget = Budget(global_pace=24.0, endpoint_pace=24.0)
    sends = [
        budget.reserve(ep, now=0.0) for _ in range(24) for ep in ("POST /v1/invoices", "POST /v1/customers")
    ]
    assert sum(1 for t in sends if t < 0.999) == 24


def test_aimd_halves_on_throttle_and_creeps_back_to_the_ceiling() -> None:
    aimd = Aimd(ceiling=24.0, increase_per_success=1.0)
    assert aimd.on_throttled() == 12.0
    for _ in range(20):
        aimd.on_success()
    assert aimd.rate == 24.0
    for _ in range(10):
        aimd.on_throttled()
    assert aimd.rate == aimd.floor


def test_throttle_reason_cuts_only_the_named_limiter() -> None:
    budget = Budget(global_pace=96.0)
    budget.on_throttled("POST /v1/invoices", "endpoint_rate")
    assert budget.rate("POST /v1/invoices") == 12.0
    assert budget.rate() == 96.0
    budget.on_throttled("POST /v1/invoices", "global_rate")
    assert budget.rate() == 48.0
    assert budget.rate("POST /v1/customers") == 24.0
